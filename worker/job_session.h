// job_session.h: a training thread's own connection to the coordinator (a DEALER on the worker
// endpoint), over which it attaches to its job, serves Gloo's rendezvous store, and sends progress,
// checkpoints and its end (docs/protocol.md §5.3). Owned and used by one thread.
#pragma once

#include <gloo/rendezvous/store.h>

#include <chrono>
#include <string>
#include <zmq.hpp>

#include "net/curve_keys.h"
#include "net/wire.h"

namespace tfmath {

class JobSession {
 public:
  // Connects and attaches as `rank` of the assignment's `attempt`; throws std::runtime_error if the
  // coordinator refuses or does not answer.
  JobSession(zmq::context_t& context, const std::string& endpoint, const CurveClientKeys& keys,
             const std::string& jobId, uint32_t rank, uint32_t attempt,
             std::chrono::milliseconds timeout);
  // Sends a message that has no answer.
  void send(capnp::MallocMessageBuilder& message);
  // Sends a request and waits for its answer; throws std::runtime_error on an error answer or when
  // none comes within the timeout.
  std::unique_ptr<wire::Decoded> request(capnp::MallocMessageBuilder& message);
  // The answer to a request sent with send(), as request() waits for it.
  std::unique_ptr<wire::Decoded> answer();

 private:
  zmq::socket_t socket_;
  std::chrono::milliseconds timeout_;
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
