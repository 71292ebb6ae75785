// assert.h: TFMATH_ASSERT, the check for bugs, kept in every build (release builds drop assert()).
//
// The rule, for the whole code base:
//  - Bad input, from a user or from a peer, gets a clear error that names the field or the peer
//    ("model[2].dense.units: must be > 0", "worker vm:1234: ...") and never an assertion: throw
//    JobError (jobs/job_error.h) or answer the peer with an error message, and keep serving.
//  - A broken invariant is a bug in tfmath, whatever the input: TFMATH_ASSERT(condition, values...)
//    reports the file, the line, the condition and the values involved, then throws
//    AssertionFailure. A daemon's thread fails its job with that text instead of dying silently.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace tfmath {

class AssertionFailure : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace assert_detail {

inline void append(std::ostringstream&) {}
template <typename First, typename... Rest>
void append(std::ostringstream& out, const First& first, const Rest&... rest) {
  out << first;
  if constexpr (sizeof...(rest) > 0) out << ", ";
  append(out, rest...);
}

// Prints "bug: FILE:LINE: CONDITION failed [NAMES = VALUES]" to stderr and throws it.
[[noreturn]] void fail(const char* file, int line, const char* condition, const char* names,
                       const std::string& values);

template <typename... Values>
[[noreturn]] void failWith(const char* file, int line, const char* condition, const char* names,
                           const Values&... values) {
  std::ostringstream out;
  append(out, values...);
  fail(file, line, condition, names, out.str());
}

}  // namespace assert_detail

}  // namespace tfmath

// TFMATH_ASSERT(condition, values...): the values (any that stream with <<) are printed with their
// expressions when the condition is false, e.g.
//   TFMATH_ASSERT(grads.size() == size, grads.size(), size);
#define TFMATH_ASSERT(condition, ...)                                             \
  do {                                                                            \
    if (!(condition)) [[unlikely]]                                                \
      ::tfmath::assert_detail::failWith(__FILE__, __LINE__, #condition,           \
                                        #__VA_ARGS__ __VA_OPT__(, ) __VA_ARGS__); \
  } while (false)
