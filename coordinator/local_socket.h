// local_socket.h: sharing the coordinator's ipc socket with a group of users. The kernel names the
// user behind each connection (SO_PEERCRED), so any member may connect and acts as themself.
#pragma once

#include <string>

namespace tfmath {

// Gives the socket file at `path` the group `group` and mode 0660, after checking that the group's
// members can reach it: every folder above it must let the group, or everyone, pass (x). Throws
// std::runtime_error naming the group, the folder or the file.
void shareSocketWithGroup(const std::string& path, const std::string& group);

}  // namespace tfmath
