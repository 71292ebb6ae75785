// data_access.cc: data roots, and opening a data file without blocking or leaving the roots.
#include "jobs/data_access.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "jobs/job_error.h"

namespace tfmath {

namespace fs = std::filesystem;

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

OwnedFd::~OwnedFd() {
  if (fd_ >= 0) ::close(fd_);
}

int OwnedFd::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

namespace {

bool isInside(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

// The path with every link resolved, or "" when some part of it cannot be reached.
std::string resolved(const std::string& path) {
  char buffer[PATH_MAX];
  return ::realpath(path.c_str(), buffer) ? std::string(buffer) : std::string();
}

std::string cannotRead(const std::string& field, const std::string& path) {
  return field + ": " + path + ": cannot read (missing, or not permitted)";
}

std::string notRegular(const std::string& field, const std::string& path) {
  return field + ": " + path + ": is not a regular file";
}

// Opens without blocking (a FIFO would wait for a writer), then clears O_NONBLOCK for the reads.
OwnedFd openNonBlocking(const std::string& path, int extraFlags) {
  OwnedFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | extraFlags));
  return fd;
}

bool isRegular(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

void makeBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK); }

}  // namespace

DataAccess DataAccess::ownRights() { return DataAccess(); }

DataAccess DataAccess::withinRoots(const std::vector<std::string>& roots) {
  DataAccess access;
  access.restricted_ = true;
  for (const auto& root : roots) {
    if (root.empty() || root[0] != '/')
      throw std::runtime_error("data root '" + root + "': must be an absolute path");
    const std::string canonical = resolved(root);
    std::error_code ignored;
    if (canonical.empty() || !fs::is_directory(canonical, ignored))
      throw std::runtime_error("data root " + root + ": is not a folder");
    std::string asGiven = fs::path(root).lexically_normal().string();
    if (asGiven.size() > 1 && asGiven.back() == '/') asGiven.pop_back();
    access.roots_.push_back({asGiven, canonical});
  }
  return access;
}

std::string DataAccess::rootsText() const {
  std::string text;
  for (const auto& r : roots_) text += (text.empty() ? "" : ", ") + r.asGiven;
  return text.empty() ? "none" : text;
}

bool DataAccess::insideLexically(const std::string& path) const {
  const std::string normal = fs::path(path).lexically_normal().string();
  for (const auto& r : roots_)
    if (isInside(normal, r.asGiven) || isInside(normal, r.canonical)) return true;
  return false;
}

bool DataAccess::insideCanonical(const std::string& path) const {
  for (const auto& r : roots_)
    if (isInside(path, r.canonical)) return true;
  return false;
}

std::string DataAccess::outsideRoots(const std::string& field, const std::string& path) const {
  return field + ": " + path + ": is outside the data roots (" + rootsText() + ")";
}

std::string DataAccess::check(const std::string& path, const std::string& field) const {
  if (!restricted_) return "";
  if (path.empty() || path[0] != '/')
    return field + ": " + path +
           ": must be an absolute path (a client makes a relative one absolute against the job "
           "file's folder)";
  if (!insideLexically(path)) return outsideRoots(field, path);
  const std::string real = resolved(path);
  if (real.empty()) return "";  // missing here; the workers that read it will say
  if (!insideCanonical(real)) return outsideRoots(field, path);
  struct stat st {};
  if (::stat(real.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) return notRegular(field, path);
  return "";
}

OwnedFd DataAccess::open(const std::string& path, const std::string& field) const {
  if (!restricted_) {
    OwnedFd fd = openNonBlocking(path, 0);
    if (fd.get() < 0) throw JobError(cannotRead(field, path));
    if (!isRegular(fd.get())) throw JobError(notRegular(field, path));
    makeBlocking(fd.get());
    return fd;
  }
  if (std::string problem = check(path, field); !problem.empty()) throw JobError(problem);
  const std::string real = resolved(path);
  if (real.empty()) throw JobError(cannotRead(field, path));
  // The path was checked with its links resolved; O_NOFOLLOW and the descriptor's own path catch a
  // link swapped in since.
  OwnedFd fd = openNonBlocking(real, O_NOFOLLOW);
  if (fd.get() < 0) throw JobError(cannotRead(field, path));
  if (!isRegular(fd.get())) throw JobError(notRegular(field, path));
  if (!insideCanonical(resolved("/proc/self/fd/" + std::to_string(fd.get()))))
    throw JobError(outsideRoots(field, path));
  makeBlocking(fd.get());
  return fd;
}

}  // namespace tfmath
