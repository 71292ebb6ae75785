// handshake_monitor.h: failed ZeroMQ handshakes on one socket, as text (docs/protocol.md §8): a
// key ZAP refused, a plaintext peer on a CURVE endpoint, a wrong server key. With it the client,
// the worker and the coordinator say what went wrong instead of retrying in silence. Used on the
// thread that owns the socket.
#pragma once

#include <string>
#include <zmq.hpp>

namespace tfmath {

class HandshakeMonitor {
 public:
  enum class Failure { keyRefused, mechanismMismatch, badCryptography, connectFailed, other };
  struct Event {
    Failure failure;
    std::string text;
  };

  // Starts monitoring `socket`, which must outlive this. With `connectFailures`, a connect that
  // failed (nothing listening; libzmq will retry) is an event too.
  HandshakeMonitor(zmq::context_t& context, zmq::socket_t& socket, bool connectFailures = false);
  // Readable when an event waits.
  zmq::socket_t& socket() { return pair_; }
  // Reads the waiting event.
  Event read();

 private:
  zmq::socket_t pair_;
};

}  // namespace tfmath
