// job_runner.h: one rank of one job, trained on its own thread: a job session to the coordinator,
// Gloo through the coordinator's store, the shared Trainer, progress from rank 0 about once a
// second, and rank 0's checkpoints every `checkpointEvery` steps and at the end. The worker's main
// thread may call cancel() and finished(); everything else belongs to the training thread.
#pragma once

#include <capnp/message.h>
#include <gloo/rendezvous/store.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "jobs/data_access.h"
#include "net/curve_keys.h"
#include "proto/protocol.capnp.h"
#include "train/communicator.h"
#include "worker/job_session.h"

namespace tfmath {

class Trainer;

struct RunnerSettings {
  std::string coordinatorEndpoint;  // the worker endpoint the session connects to
  CurveClientKeys keys;             // the worker's CURVE keys (docs/protocol.md §8)
  std::string glooHost;             // the address this rank's Gloo device listens on
  std::chrono::milliseconds collectiveTimeout{30000};
  std::string device = "cpu";                     // where the rank trains: cpu or gpu:N (backend.h)
  DataAccess data = DataAccess::withinRoots({});  // the roots the job's files must lie in
  uint64_t memoryLimit = 0;  // bytes a job may take here (memory_estimate.h); 0: no limit
  // The worker's registrations so far: a session attaches again when it moves (§5.7). Outlives
  // the runner.
  const std::atomic<uint64_t>* registrations = nullptr;
  // How long the rank's last reports (the final checkpoint, its end) wait for an absent
  // coordinator to come back.
  std::chrono::milliseconds lease{60000};
};

class JobRunner {
 public:
  // Starts training the assignment (copied) at once.
  JobRunner(zmq::context_t& context, RunnerSettings settings, proto::Assign::Reader assign);
  ~JobRunner();  // cancels and joins
  const std::string& jobId() const { return jobId_; }
  uint32_t rank() const { return rank_; }
  uint32_t attempt() const { return attempt_; }
  // The global steps the rank has completed.
  uint64_t step() const { return reached_; }
  void cancel();
  bool finished() const { return finished_; }
  // True when the coordinator heard how the rank ended; false means the session itself failed.
  bool reported() const { return reported_; }

 private:
  void train();
  // Reports how the rank ended, over `session` or, when the coordinator is away, new ones from
  // `connect` until the lease runs out.
  void reportEnd(std::unique_ptr<JobSession> session,
                 const std::function<std::unique_ptr<JobSession>()>& connect, bool ok,
                 const std::string& reason);
  // NCCL for a device = gpu job, Gloo for any other.
  std::unique_ptr<Communicator> makeCommunicator(proto::Job::Reader job,
                                                 gloo::rendezvous::Store& store, int rank,
                                                 int size) const;

  zmq::context_t& context_;
  RunnerSettings settings_;
  capnp::MallocMessageBuilder assign_;
  std::string jobId_;
  uint32_t rank_, attempt_;
  std::atomic<uint64_t> reached_{0};
  std::atomic<bool> cancelled_{false}, finished_{false}, reported_{false};
  std::atomic<Trainer*> trainer_{nullptr};  // the live Trainer, for cancel()
  std::thread thread_;
};

}  // namespace tfmath
