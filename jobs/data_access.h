// data_access.h: which files a job may read as data, and how they are opened. The daemons read only
// regular files inside their data roots, and their errors never quote a byte of a file; a user's
// own process (`tfmath run`, the CLI's checks before it submits) reads what its user may read.
#pragma once

#include <string>
#include <vector>

namespace tfmath {

// An open file descriptor, closed when this goes.
class OwnedFd {
 public:
  explicit OwnedFd(int fd = -1) : fd_(fd) {}
  OwnedFd(OwnedFd&& other) noexcept : fd_(other.release()) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept;
  ~OwnedFd();
  int get() const { return fd_; }
  // Gives up ownership (for an API that closes the descriptor itself, such as gzdopen).
  int release();

 private:
  int fd_;
};

class DataAccess {
 public:
  // The rights of the process's own user, for a process that user runs. Errors may quote a file.
  static DataAccess ownRights();
  // Only regular files inside `roots`, for a daemon. Each root must be an existing folder (checked
  // here: std::runtime_error naming it). Paths must be absolute.
  static DataAccess withinRoots(const std::vector<std::string>& roots);

  // Opens `path` (the value of `field`) for reading: without blocking on a FIFO, without following
  // a link out of the roots, and only if what was opened is a regular file. Throws JobError naming
  // the field: "cannot read" alike for a missing and a forbidden file, outside the data roots, or
  // not a regular file.
  OwnedFd open(const std::string& path, const std::string& field) const;

  // The checks of open() that read nothing, for the coordinator at submission: an absolute path
  // inside the roots, as written and with links resolved, that is a regular file where it exists.
  // A path missing on this machine passes: the workers, which read it, may see another file
  // system. Returns the problem ("FIELD: ..."), or "" when there is none.
  std::string check(const std::string& path, const std::string& field) const;

  // Whether errors may quote what a file holds (only for the user's own process).
  bool quotesContent() const { return !restricted_; }
  // The roots, comma-separated, for messages and logs.
  std::string rootsText() const;

 private:
  struct Root {
    std::string asGiven;    // lexically normal, as configured
    std::string canonical;  // links resolved
  };
  std::string outsideRoots(const std::string& field, const std::string& path) const;
  bool insideLexically(const std::string& path) const;
  bool insideCanonical(const std::string& path) const;

  bool restricted_ = false;
  std::vector<Root> roots_;
};

}  // namespace tfmath
