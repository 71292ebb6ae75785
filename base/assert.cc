// assert.cc: what a failed TFMATH_ASSERT reports.
#include "base/assert.h"

#include <cstdio>

namespace tfmath::assert_detail {

void fail(const char* file, int line, const char* condition, const char* names,
          const std::string& values) {
  std::string text =
      std::string("bug: ") + file + ":" + std::to_string(line) + ": " + condition + " failed";
  if (*names) text += std::string(" [") + names + " = " + values + "]";
  std::fprintf(stderr, "tfmath: %s\n", text.c_str());
  std::fflush(stderr);
  throw AssertionFailure(text);
}

}  // namespace tfmath::assert_detail
