// hostfile.h: the hostfile of OpenMPI, Horovod and DeepSpeed: one host per line as
// `[user@]host[:port] [slots=N]`, `#` comments. Thread-safe (no state).
#pragma once

#include <string>
#include <vector>

namespace tfmath::cli {

struct HostEntry {
  std::string user;  // empty: the SSH config's or the current user
  std::string host;
  int port = 0;   // 0: the SSH config's or 22
  int slots = 1;  // workers to start there
  // user@host:port as written, for messages and log names.
  std::string name() const;
};

// Parses a hostfile. Throws std::runtime_error naming FILE:LINE for a bad line or an empty file.
std::vector<HostEntry> readHostfile(const std::string& path);

}  // namespace tfmath::cli
