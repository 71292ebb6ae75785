// checksummed_file.cc: the trailer, written and checked.
#include "base/checksummed_file.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "base/durable_file.h"

namespace tfmath {

namespace {

constexpr char kMagic[8] = {'T', 'F', 'M', 'C', 'R', 'C', '3', '2'};
constexpr size_t kTrailerBytes = 16;

uint32_t crcOf(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes at most 4 GiB a call.
  for (size_t at = 0; at < bytes.size();) {
    const size_t n = std::min<size_t>(bytes.size() - at, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + at), static_cast<uInt>(n));
    at += n;
  }
  return static_cast<uint32_t>(crc);
}

void putLittleEndian(uint32_t v, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t getLittleEndian(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

}  // namespace

void writeChecksummedFile(const std::string& path, std::string_view bytes) {
  std::string whole;
  whole.reserve(bytes.size() + kTrailerBytes);
  whole.append(bytes);
  char trailer[kTrailerBytes];
  std::memcpy(trailer, kMagic, sizeof kMagic);
  putLittleEndian(crcOf(bytes), trailer + 8);
  putLittleEndian(static_cast<uint32_t>(bytes.size()), trailer + 12);
  whole.append(trailer, kTrailerBytes);
  writeFileDurably(path, whole);
}

std::string readChecksummedFile(const std::string& path) {
  std::string whole = readWholeFile(path);
  if (whole.size() < kTrailerBytes ||
      std::memcmp(whole.data() + whole.size() - kTrailerBytes, kMagic, sizeof kMagic) != 0)
    throw ChecksumError(path +
                        ": no checksum at its end: the file was cut short, or not written "
                        "by tfmath");
  const char* trailer = whole.data() + whole.size() - kTrailerBytes;
  whole.resize(whole.size() - kTrailerBytes);
  if (getLittleEndian(trailer + 12) != static_cast<uint32_t>(whole.size()) ||
      getLittleEndian(trailer + 8) != crcOf(whole))
    throw ChecksumError(path + ": its checksum does not match its content: the file is corrupted");
  return whole;
}

}  // namespace tfmath
