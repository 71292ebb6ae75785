// client_api.h: the client requests (docs/protocol.md §6): submit, status, cancel, result and logs,
// with the user behind each request (§8.1, §8.2) and the ownership rule (§8.4). It checks a
// submitted job's fields only (§6.1); the data is checked where it is read. Not thread-safe.
#pragma once

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

struct ClientIdentity {
  enum class Kind { ipc, tcp, inproc } kind = Kind::ipc;
  std::string ownUser;              // the coordinator's user: an admin, and every inproc client
  std::vector<std::string> admins;  // users who may act on any job
};

class ClientApi {
 public:
  ClientApi(EventLoop& loop, JobControl& jobs, WorkerRegistry& workers, const StateDir& state,
            const Clock& clock, ClientIdentity identity, DataAccess data, EventLoop::Log log);
  // Handles one message from the client socket.
  void handle(const std::string& peer, const zmq::message_t& frame);

 private:
  // The authenticated user who sent `frame` (§8), or "".
  std::string clientUser(const zmq::message_t& frame) const;
  // "" when `user` may `action` `job` (§8.4), else why not.
  std::string refusal(Job& job, const std::string& user, const std::string& action);
  void submit(const std::string& peer, const std::string& user, proto::Submit::Reader submit);
  void status(const std::string& peer, const std::string& id);
  void cancel(const std::string& peer, const std::string& user, const std::string& id);
  void result(const std::string& peer, const std::string& user, const std::string& id);
  void logs(const std::string& peer, const std::string& user, proto::LogsRequest::Reader req);
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
  EventLoop::Log log_;
};

// The name of the user with this uid, or "uid N".
std::string userName(unsigned uid);

}  // namespace tfmath
