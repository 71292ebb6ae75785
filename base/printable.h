// printable.h: text that came from a user, a peer or a file, made safe for a terminal. A job name
// holding "\x1b]0;...\x07" or a newline must not retitle a terminal, clear it, or forge a row of
// `tfmath status`. Two tools: a check for validation (refuse such text where it enters) and an
// escape for printing (defence in depth, wherever text from elsewhere is shown). Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace tfmath {

// True when `text` is valid UTF-8 (shortest forms, no surrogates) holding no control character:
// none of U+0000-U+001F, U+007F-U+009F.
bool isPrintableUtf8(std::string_view text);

// `text` with every control character, and every byte that is not part of valid UTF-8, written as
// \xNN (a backslash as \\); printable UTF-8 passes unchanged. With keepNewlines, '\n' passes too
// (for multi-line logs, which are then escaped line by line).
std::string escapeForTerminal(std::string_view text, bool keepNewlines = false);

// escapeForTerminal for text that arrives in pieces (a log, 1 MiB at a time): it escapes whole
// lines only, so a character of several bytes split between two pieces is shown, not escaped.
class LineEscaper {
 public:
  // The escaped lines that `piece` completes.
  std::string add(std::string_view piece);
  // The escaped rest, once no piece will follow.
  std::string finish();

 private:
  std::string pending_;
};

}  // namespace tfmath
