// worker_daemon.h: the worker process's main loop (docs/protocol.md §5.1): registers with the
// coordinator, heartbeats both ways, reconnects with exponential backoff when the coordinator goes
// silent, and runs at most one JobRunner at a time. A rank trains on while the coordinator is away,
// for up to the lease, and registers again with it (§5.7). Owned by the thread that calls run().
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "net/curve_keys.h"
#include "net/handshake_monitor.h"
#include "worker/job_runner.h"
#include "worker/process_load.h"

namespace tfmath {

struct WorkerOptions {
  std::string coordinator;  // the coordinator's worker endpoint, tcp://HOST:PORT
  std::string glooHost;     // empty: this host's address on the route to the coordinator
  std::chrono::milliseconds collectiveTimeout{30000};
  CurveClientKeys keys;        // the cluster's worker pair and the coordinator's public key
  std::string device = "cpu";  // cpu, or gpu:N: the GPU this worker owns
  // The folders a job may read data from (DataAccess::withinRoots); none: no file data.
  std::vector<std::string> dataRoots;
  // The memory a job may take here, in bytes; 0: the host's physical memory.
  uint64_t memoryLimit = 0;
  // How long a rank trains on while the coordinator is away before it is stopped (§5.7).
  std::chrono::milliseconds lease{60000};
};

class WorkerDaemon {
 public:
  explicit WorkerDaemon(WorkerOptions options);
  ~WorkerDaemon();
  // Serves until `stop` becomes true; then cancels any job and waits for its rank at most
  // kStopGrace. Returns false when the rank did not end in that time (a collective holds it): the
  // caller must then end the process at once (std::_Exit), since destroying this would wait.
  bool run(const std::atomic<bool>& stop);
  // How long a stopping worker waits for its job's rank: within the 3 s a stop may take.
  static constexpr std::chrono::milliseconds kStopGrace{2000};
  const std::string& id() const { return id_; }

 private:
  void connect();
  void send(capnp::MallocMessageBuilder& message);
  void handle(const zmq::message_t& frame);
  // A GPU worker's device figures (nothing for a CPU worker).
  void setGpuInfo(proto::GpuInfo::Builder info) const;

  WorkerOptions options_;
  DataAccess data_;   // from options_.dataRoots, checked at the start
  ProcessLoad load_;  // what a CPU worker reports in place of a heartbeat
  std::string id_, host_;
  zmq::context_t context_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<HandshakeMonitor> monitor_;  // of socket_
  std::string lastHandshakeFailure_;
  bool gpu_ = false;
  std::unique_ptr<JobRunner> runner_;
  std::chrono::steady_clock::time_point lastHeard_, lastSent_;
  // Since when the coordinator has been silent; the epoch while it is heard.
  std::chrono::steady_clock::time_point awaySince_{};
  // Registrations the coordinator has answered; the runner's sessions attach again when it moves.
  std::atomic<uint64_t> registrations_{0};
  bool registering_ = false;  // a register is sent and not yet answered
};

}  // namespace tfmath
