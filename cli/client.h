// client.h: how the CLI reaches the coordinator: finding its address (--coordinator, then
// TFMATH_COORDINATOR, then /etc/tfmath/client.conf, then ~/.config/tfmath/client.conf) and one
// request/answer exchange with a timeout, so a dead coordinator gives a clear error, not a hang.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <zmq.hpp>

#include "wire.h"

namespace tfmath::cli {

// A failure the user should read: no coordinator, no answer, or the coordinator's error.
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The coordinator's client endpoint; `flag` wins when non-empty. Throws ClientError when none is
// configured. A config file holds a line `coordinator = ENDPOINT` (# starts a comment).
std::string findCoordinator(const std::string& flag);

class Client {
 public:
  explicit Client(const std::string& endpoint);
  // Sends `request`; returns the answer. Throws ClientError for an error answer or a timeout.
  std::unique_ptr<wire::Decoded> call(capnp::MallocMessageBuilder& request);

 private:
  std::string endpoint_;
  zmq::context_t context_;
  zmq::socket_t socket_;
};

// The current user's login name.
std::string currentUser();

}  // namespace tfmath::cli
