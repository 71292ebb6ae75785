// worker_registry.h: the registered workers (docs/protocol.md §5.1) and their liveness (§4): who is
// idle, when each was last heard from and last sent to, which are due a heartbeat and which have
// been silent too long. Times come from the injected Clock. Not thread-safe.
#pragma once

#include <capnp/message.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/clock.h"
#include "proto/protocol.capnp.h"

namespace tfmath {

struct Worker {
  std::string id, peer, host, device;
  uint32_t cores = 0;
  uint64_t memory = 0;
  std::unique_ptr<capnp::MallocMessageBuilder> gpu;   // its GpuInfo, as last reported
  std::unique_ptr<capnp::MallocMessageBuilder> load;  // its WorkerLoad, as last reported
  std::string jobId;                                  // empty when idle
  uint32_t rank = 0;
  // Its rank's latest metrics window: mean step time and the allreduce's part; 0 before one.
  double stepSeconds = 0, allreduceSeconds = 0;
  Clock::time_point lastHeard, lastSent;
};

class WorkerRegistry {
 public:
  explicit WorkerRegistry(const Clock& clock) : clock_(clock) {}

  Worker* byId(const std::string& id);
  Worker* byPeer(const std::string& peer);
  const std::map<std::string, std::unique_ptr<Worker>>& all() const { return byId_; }

  // §4: any message from a registered peer is a sign of life.
  void heard(const std::string& peer);
  // Counts every worker as heard from now: the coordinator itself was not listening.
  void heardAll();
  // Records that the coordinator just sent `w` something.
  void sent(Worker& w) { w.lastSent = clock_.now(); }
  // Adds or refreshes the worker `reg` names, now reachable at `peer`, idle. The caller first
  // handles a rank it held (§5.1).
  Worker& add(const std::string& peer, proto::Register::Reader reg);
  // Removes a worker; returns it (null if unknown).
  std::unique_ptr<Worker> remove(const std::string& id);

  // §4: workers silent for HEARTBEAT_LIVENESS intervals.
  std::vector<std::string> silent() const;
  // §4: workers the coordinator has sent nothing for one interval.
  std::vector<Worker*> dueHeartbeat();

 private:
  const Clock& clock_;
  std::map<std::string, std::unique_ptr<Worker>> byId_;
  std::map<std::string, std::string> idByPeer_;  // routing id → worker id
};

}  // namespace tfmath
