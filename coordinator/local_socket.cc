// local_socket.cc: the ipc socket's group and mode.
#include "coordinator/local_socket.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace tfmath {

namespace {

gid_t groupId(const std::string& group) {
  std::vector<char> buffer(16384);
  struct group entry {};
  struct group* found = nullptr;
  if (::getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
    throw std::runtime_error("--client-socket-group " + group + ": no such group");
  return found->gr_gid;
}

}  // namespace

void shareSocketWithGroup(const std::string& path, const std::string& group) {
  const gid_t gid = groupId(group);
  // A member must pass every folder above the socket.
  for (auto folder = std::filesystem::path(path).parent_path(); !folder.empty();
       folder = folder.parent_path()) {
    struct stat st {};
    if (::stat(folder.c_str(), &st) != 0)
      throw std::runtime_error("cannot stat " + folder.string() + ": " + std::strerror(errno));
    const bool passes = (st.st_mode & S_IXOTH) || (st.st_gid == gid && (st.st_mode & S_IXGRP));
    if (!passes)
      throw std::runtime_error(
          "--client-socket-group " + group + ": the group cannot reach the socket " + path +
          ", because " + folder.string() +
          " lets neither it nor everyone pass; put the socket in a folder the group may enter, "
          "e.g. --client-endpoint ipc:///run/tfmath/coordinator.sock with /run/tfmath mode 0750 "
          "and group " +
          group + " (not in the state folder, which holds every user's jobs)");
    if (folder == folder.root_path()) break;
  }
  if (::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0 || ::chmod(path.c_str(), 0660) != 0)
    throw std::runtime_error("--client-socket-group " + group + ": cannot give " + path +
                             " the group: " + std::strerror(errno));
}

}  // namespace tfmath
