// worker_api.h: the worker socket (docs/protocol.md §5): workers register and send heartbeats
// (§5.1), and each rank's job session attaches, serves the rendezvous store (§5.4), reports
// progress, checkpoints and its end (§5.3). How a rank's end changes its job is the coordinator's
// to carry out (job_control.h). Not thread-safe.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <zmq.hpp>

#include "coordinator/event_loop.h"
#include "coordinator/job_control.h"
#include "coordinator/state_dir.h"
#include "coordinator/worker_registry.h"

namespace tfmath {

class WorkerApi {
 public:
  WorkerApi(EventLoop& loop, JobControl& jobs, WorkerRegistry& workers, const StateDir& state,
            EventLoop::Log log);
  // Handles one message from the worker socket.
  void handle(const std::string& peer, const zmq::message_t& frame);
  // Forgets every session of the job, which has ended.
  void forgetSessions(const std::string& jobId);

 private:
  void registerWorker(const std::string& peer, proto::Register::Reader reg);
  void onSession(const std::string& peer, proto::Message::Reader m);
  // What status and the Prometheus metrics show of a point: a window's step and allreduce times on
  // its worker; rank 0's window loss among the job's recent ones, its samples, and its epochs' test
  // loss.
  void notePoint(Job& job, proto::MetricsPoint::Reader point);
  static constexpr size_t kRecentLosses = 32;
  void storeGet(Job& job, const std::string& peer, const std::string& key);

  EventLoop& loop_;
  JobControl& jobs_;
  WorkerRegistry& workers_;
  const StateDir& state_;
  EventLoop::Log log_;
  // What a job session attached as (§5.3).
  struct Session {
    std::string jobId;
    uint32_t rank = 0, attempt = 0;
  };
  // The job of a session that may still act on it: its attempt is the job's current one and its
  // rank has not ended (§5.6). Else null, and the peer has been answered with the error.
  Job* liveJobOf(const std::string& peer, const Session& s, proto::Message::Which which);
  std::map<std::string, Session> sessionByPeer_;
};

}  // namespace tfmath
