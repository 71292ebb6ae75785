// client_api.h: the client requests (docs/protocol.md §6): submit, status, cancel, result and logs,
// with the user behind each request (§8.1, §8.2) and the ownership rule (§8.4). It checks a
// submitted job's fields and data paths, and the user's limits (§6.1, §8.6); the data is checked
// where it is read. Not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "coordinator/clock.h"
#include "coordinator/event_loop.h"
#include "coordinator/job_control.h"
#include "coordinator/state_dir.h"
#include "coordinator/worker_registry.h"
#include "jobs/data_access.h"

namespace tfmath {

// What one user may ask of the coordinator (docs/security.md lists the defaults).
struct UserLimits {
  uint64_t maxJobBytes = 1 << 20;   // a submitted job, encoded, embedded data included
  uint32_t maxQueuedJobs = 100;     // a user's PENDING jobs
  double maxSubmitsPerSecond = 10;  // a user's submissions, in bursts of as many
};

struct ClientIdentity {
  enum class Kind { ipc, tcp, inproc } kind = Kind::ipc;
  std::string ownUser;              // the coordinator's user: an admin, and every inproc client
  std::vector<std::string> admins;  // users who may act on any job
  // The own user's jobs may name data outside the data roots: a cluster of one user.
  bool trustOwnUser = false;
};

class ClientApi {
 public:
  ClientApi(EventLoop& loop, JobControl& jobs, WorkerRegistry& workers, const StateDir& state,
            const Clock& clock, ClientIdentity identity, DataAccess data, UserLimits limits,
            EventLoop::Log log);
  // Handles one message from the client socket.
  void handle(const std::string& peer, const zmq::message_t& frame);

 private:
  // The authenticated user who sent `frame` (§8), or "".
  std::string clientUser(const zmq::message_t& frame) const;
  // "" when `user` may `action` `job` (§8.4), else why not.
  std::string refusal(Job& job, const std::string& user, const std::string& action);
  void submit(const std::string& peer, const std::string& user, proto::Submit::Reader submit);
  // "" when `user` may make a job wait for the jobs of `d`: at most kMaxDependencies, each of them
  // existing and the user's own (or any, for an admin); else why not.
  std::string badDependency(const std::string& user, proto::Dependency::Reader d);
  static constexpr unsigned kMaxDependencies = 64;
  // The most text an array's job may carry as its overrides (it stays in the job's record).
  static constexpr size_t kMaxOverridesBytes = 1024;
  // "" when `user` may submit `jobs` now (one submission) under the limits, else why not (naming
  // the limit).
  std::string overLimit(const std::string& user, const std::vector<proto::Job::Reader>& jobs);
  // "" when `job` passes the checks of §6.1 for `user`, else "invalid job: ..." naming the fields.
  std::string invalid(const std::string& user, proto::Job::Reader job);
  void submitArray(const std::string& peer, const std::string& user, proto::SubmitArray::Reader a);
  void status(const std::string& peer, const std::string& id);
  void cancel(const std::string& peer, const std::string& user, const std::string& id);
  void result(const std::string& peer, const std::string& user, const std::string& id);
  void logs(const std::string& peer, const std::string& user, proto::LogsRequest::Reader req);
  void metrics(const std::string& peer, const std::string& user, const std::string& id);
  void error(const std::string& peer, const std::string& text) {
    loop_.replyError(loop_.clients(), peer, text);
  }

  EventLoop& loop_;
  JobControl& jobs_;
  WorkerRegistry& workers_;
  const StateDir& state_;
  const Clock& clock_;
  ClientIdentity identity_;
  DataAccess data_;  // the data roots a submitted job's paths must lie in
  UserLimits limits_;
  struct Bucket {  // a user's submissions: a token bucket refilled at maxSubmitsPerSecond
    double tokens;
    Clock::time_point last;
  };
  std::map<std::string, Bucket> submitBuckets_;
  EventLoop::Log log_;
};

// The name of the user with this uid, or "uid N".
std::string userName(unsigned uid);

}  // namespace tfmath
