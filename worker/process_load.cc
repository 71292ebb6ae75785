// process_load.cc: /proc/self/stat and /proc/self/statm.
#include "worker/process_load.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace tfmath {

namespace {

// User plus system CPU time of this process, in seconds (fields 14 and 15 of /proc/self/stat,
// after the command name in parentheses, which may hold spaces).
double cpuSeconds() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string skip;
  for (int i = 3; i <= 13; ++i) fields >> skip;  // state .. cmajflt
  double user = 0, system = 0;
  fields >> user >> system;
  return (user + system) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

uint64_t residentBytes() {
  std::ifstream in("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

ProcessLoad::ProcessLoad()
    : lastCpuSeconds_(cpuSeconds()), lastAt_(std::chrono::steady_clock::now()) {}

void ProcessLoad::sample(proto::WorkerLoad::Builder into) {
  const double cpu = cpuSeconds();
  const auto now = std::chrono::steady_clock::now();
  const double wall = std::chrono::duration<double>(now - lastAt_).count();
  into.setCpuPercent(wall > 0 ? 100 * (cpu - lastCpuSeconds_) / wall : 0);
  into.setRssBytes(residentBytes());
  lastCpuSeconds_ = cpu;
  lastAt_ = now;
}

}  // namespace tfmath
