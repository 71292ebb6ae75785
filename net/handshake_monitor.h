// handshake_monitor.h: failed ZeroMQ handshakes on one socket, as text (docs/protocol.md §8): a
// key ZAP refused, a plaintext peer on a CURVE endpoint, a wrong server key; and, when asked,
// failed connects and the opening and closing of connections. With it the client,
// the worker and the coordinator say what went wrong instead of retrying in silence. Used on the
// thread that owns the socket.
#pragma once

#include <string>
#include <zmq.hpp>

namespace tfmath {

class HandshakeMonitor {
 public:
  // tryLater: the peer's ZAP handler answered 500, which a tfmath coordinator sends when it is at
  // its limit of connections.
  enum class Failure {
    keyRefused,
    tryLater,
    mechanismMismatch,
    badCryptography,
    connectFailed,
    other
  };
  struct Event {
    Failure failure;
    std::string text;
    // With Watch::connections: a connection accepted or closed, and its descriptor; `failure` is
    // then meaningless.
    enum class Connection { none, opened, closed } connection = Connection::none;
    int fd = -1;
  };
  // Events to report besides failed handshakes.
  struct Watch {
    bool connectFailures = false;  // a connect that failed (nothing listening; libzmq retries)
    bool connections = false;      // connections accepted and closed, on a bound socket
  };

  // Starts monitoring `socket`, which must outlive this.
  HandshakeMonitor(zmq::context_t& context, zmq::socket_t& socket, Watch watch);
  HandshakeMonitor(zmq::context_t& context, zmq::socket_t& socket)
      : HandshakeMonitor(context, socket, Watch()) {}
  // Readable when an event waits.
  zmq::socket_t& socket() { return pair_; }
  // Whether an event waits.
  bool pending() { return (pair_.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0; }
  // Reads the waiting event.
  Event read();

 private:
  zmq::socket_t pair_;
};

}  // namespace tfmath
