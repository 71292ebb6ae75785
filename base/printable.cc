// printable.cc: UTF-8 decoding for the printable check and the terminal escape.
#include "base/printable.h"

#include <cstdint>
#include <cstdio>

namespace tfmath {

namespace {

// The length of the valid UTF-8 sequence at text[at], and its code point; 0 when it is not valid.
size_t sequenceAt(std::string_view text, size_t at, uint32_t& codePoint) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t first = byte(at);
  size_t length;
  uint32_t minimum;
  if (first < 0x80) {
    codePoint = first;
    return 1;
  } else if ((first & 0xE0) == 0xC0) {
    length = 2, minimum = 0x80, codePoint = first & 0x1F;
  } else if ((first & 0xF0) == 0xE0) {
    length = 3, minimum = 0x800, codePoint = first & 0x0F;
  } else if ((first & 0xF8) == 0xF0) {
    length = 4, minimum = 0x10000, codePoint = first & 0x07;
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
    codePoint = (codePoint << 6) | (byte(at + i) & 0x3F);
  }
  const bool surrogate = codePoint >= 0xD800 && codePoint <= 0xDFFF;
  if (codePoint < minimum || codePoint > 0x10FFFF || surrogate) return 0;
  return length;
}

bool isControl(uint32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

}  // namespace

bool isPrintableUtf8(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    uint32_t c = 0;
    const size_t length = sequenceAt(text, at, c);
    if (length == 0 || isControl(c)) return false;
    at += length;
  }
  return true;
}

std::string escapeForTerminal(std::string_view text, bool keepNewlines) {
  std::string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    uint32_t c = 0;
    const size_t length = sequenceAt(text, at, c);
    if (length && (!isControl(c) || (keepNewlines && c == '\n'))) {
      if (c == '\\') out += '\\';
      out.append(text.substr(at, length));
      at += length;
      continue;
    }
    // A control character or a stray byte: its bytes, each as \xNN.
    for (size_t i = 0; i < (length ? length : 1); ++i) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<uint8_t>(text[at + i]));
      out += hex;
    }
    at += length ? length : 1;
  }
  return out;
}

std::string LineEscaper::add(std::string_view piece) {
  pending_.append(piece);
  const size_t end = pending_.rfind('\n');
  if (end == std::string::npos) return "";
  std::string lines = escapeForTerminal(std::string_view(pending_).substr(0, end + 1), true);
  pending_.erase(0, end + 1);
  return lines;
}

std::string LineEscaper::finish() {
  std::string rest = escapeForTerminal(pending_, true);
  pending_.clear();
  return rest;
}

}  // namespace tfmath
