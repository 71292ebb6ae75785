// client.h: how the CLI reaches the coordinator: finding its address (--coordinator, then
// TFMATH_COORDINATOR, then /etc/tfmath/client.conf, then ~/.config/tfmath/client.conf), its CURVE
// keys for a tcp endpoint (docs/protocol.md §8), and one request/answer exchange with a timeout, so
// a dead coordinator or a refused handshake gives a clear error, not a hang.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <zmq.hpp>

#include "net/handshake_monitor.h"
#include "net/wire.h"

namespace tfmath::cli {

// A failure the user should read: no coordinator, no answer, or the coordinator's error.
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The coordinator's client endpoint; `flag` wins when non-empty. Throws ClientError when none is
// configured. A config file holds a line `coordinator = ENDPOINT` (# starts a comment); for a tcp
// endpoint also `coordinator-key = KEY` (or TFMATH_COORDINATOR_KEY) and optionally
// `client-key = FILE` (or TFMATH_CLIENT_KEY; default ~/.config/tfmath/client.key).
std::string findCoordinator(const std::string& flag);

// Where this user's client secret key is: TFMATH_CLIENT_KEY, a `client-key = FILE` line, or
// ~/.config/tfmath/client.key. `tfmath keygen` writes it there.
std::string clientKeyFile();

class Client {
 public:
  explicit Client(const std::string& endpoint);
  // Sends `request`; returns the answer. Throws ClientError for an error answer or a timeout.
  std::unique_ptr<wire::Decoded> call(capnp::MallocMessageBuilder& request);

 private:
  // Reads the monitor's event and throws the ClientError that explains it.
  void throwHandshakeFailure();

  std::string endpoint_;
  bool curve_ = false;
  zmq::context_t context_;
  zmq::socket_t socket_;
  std::unique_ptr<HandshakeMonitor> monitor_;
};

}  // namespace tfmath::cli
