// process_load.h: this process's CPU use and resident memory, read from /proc/self, for the load a
// CPU worker reports in place of its heartbeat. Not thread-safe.
#pragma once

#include <chrono>

#include "proto/protocol.capnp.h"

namespace tfmath {

class ProcessLoad {
 public:
  ProcessLoad();
  // CPU time over wall time since the last sample (or construction), in percent, and the resident
  // memory now.
  void sample(proto::WorkerLoad::Builder into);

 private:
  double lastCpuSeconds_;
  std::chrono::steady_clock::time_point lastAt_;
};

}  // namespace tfmath
