// job_session.h: a training thread's own connection to the coordinator (a DEALER on the worker
// endpoint), over which it attaches to its job, serves Gloo's rendezvous store, and sends progress,
// checkpoints and its end (docs/protocol.md §5.3). Owned and used by one thread.
#pragma once

#include <gloo/rendezvous/store.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <zmq.hpp>

#include "net/curve_keys.h"
#include "net/wire.h"

namespace tfmath {

// The coordinator answered a request with an error.
class CoordinatorRefused : public std::runtime_error {
 public:
  explicit CoordinatorRefused(const std::string& why)
      : std::runtime_error("the coordinator refused: " + why), why_(why) {}
  // The session is unknown to it: it restarted since the attach (§5.7).
  bool notAttached() const { return why_ == "not attached to a job"; }

 private:
  std::string why_;
};

// The coordinator did not answer within the session's timeout: it is away.
class CoordinatorSilent : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class JobSession {
 public:
  // Connects and attaches as `rank` of the assignment's `attempt`; throws CoordinatorRefused or
  // CoordinatorSilent. `registrations` counts the worker's registrations: when it has moved since
  // the attach, the coordinator may have restarted, and keepAttached() attaches again.
  JobSession(zmq::context_t& context, const std::string& endpoint, const CurveClientKeys& keys,
             const std::string& jobId, uint32_t rank, uint32_t attempt,
             std::chrono::milliseconds timeout, const std::atomic<uint64_t>& registrations);
  // Attaches again if the worker registered again since the last attach (§5.7); throws as the
  // constructor.
  void keepAttached();
  // Sends a message that has no answer, unless the queue towards an absent coordinator is full:
  // then it is dropped, since training must not wait for a report.
  void post(capnp::MallocMessageBuilder& message);
  // Sends a request and waits for its answer; throws CoordinatorRefused on an error answer and
  // CoordinatorSilent when none comes within the timeout.
  std::unique_ptr<wire::Decoded> request(capnp::MallocMessageBuilder& message);
  // request() in two halves, for a caller that does something in between.
  void send(capnp::MallocMessageBuilder& message);
  std::unique_ptr<wire::Decoded> answer();

 private:
  void attach();

  zmq::socket_t socket_;
  std::chrono::milliseconds timeout_;
  std::string jobId_;
  uint32_t rank_, attempt_;
  const std::atomic<uint64_t>& registrations_;
  uint64_t attachedAt_ = 0;  // registrations_ when it last attached
};

// Gloo's rendezvous store served by the coordinator, as PyTorch serves it from its TCPStore. Every
// key carries the attempt's prefix (wire::storeKeyPrefix), so attempts never share a key.
class CoordinatorStore : public gloo::rendezvous::Store {
 public:
  CoordinatorStore(JobSession& session, uint32_t attempt)
      : session_(session), prefix_(wire::storeKeyPrefix(attempt)) {}
  void set(const std::string& key, const std::vector<char>& data) override;
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override;
  void wait(const std::vector<std::string>& keys,
            const std::chrono::milliseconds& timeout) override;

 private:
  JobSession& session_;
  std::string prefix_;
};

}  // namespace tfmath
