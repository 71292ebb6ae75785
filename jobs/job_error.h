// job_error.h: the error for bad user input in a job: a message that names the file or the field.
// Thrown by parsing, validation and data loading; callers print what() and exit non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace tfmath {

class JobError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws JobError("FIELD: MESSAGE") unless `ok`. For bad input only; use assert for bugs.
inline void require(bool ok, const std::string& field, const std::string& message) {
  if (!ok) throw JobError(field + ": " + message);
}

}  // namespace tfmath
