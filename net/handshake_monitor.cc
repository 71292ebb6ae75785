// handshake_monitor.cc: zmq_socket_monitor for handshake failures, and their descriptions.
#include "net/handshake_monitor.h"

#include <zmq.h>

#include <atomic>
#include <cstring>
#include <stdexcept>

namespace tfmath {

HandshakeMonitor::HandshakeMonitor(zmq::context_t& context, zmq::socket_t& socket, Watch watch)
    : pair_(context, zmq::socket_type::pair) {
  static std::atomic<unsigned> next{0};
  const std::string endpoint = "inproc://tfmath-handshake-monitor-" + std::to_string(next++);
  if (zmq_socket_monitor(
          socket.handle(), endpoint.c_str(),
          ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
              ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
              (watch.connectFailures ? ZMQ_EVENT_CONNECT_RETRIED : 0) |
              (watch.connections ? ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED : 0)) != 0)
    throw std::runtime_error(std::string("cannot monitor a socket: ") + zmq_strerror(zmq_errno()));
  pair_.set(zmq::sockopt::linger, 0);
  pair_.connect(endpoint);
}

HandshakeMonitor::Event HandshakeMonitor::read() {
  // An event is two frames: 2 bytes of kind and 4 of value, then the endpoint.
  zmq::message_t event, endpoint;
  if (!pair_.recv(event, zmq::recv_flags::dontwait) || event.size() < 6)
    return {Failure::other, "no event"};
  if (event.more()) (void)pair_.recv(endpoint, zmq::recv_flags::dontwait);
  uint16_t kind;
  uint32_t value;
  std::memcpy(&kind, event.data(), sizeof kind);
  std::memcpy(&value, static_cast<const char*>(event.data()) + 2, sizeof value);
  if (kind == ZMQ_EVENT_ACCEPTED || kind == ZMQ_EVENT_DISCONNECTED)
    return {Failure::other, "",
            kind == ZMQ_EVENT_ACCEPTED ? Event::Connection::opened : Event::Connection::closed,
            static_cast<int>(value)};
  if (kind == ZMQ_EVENT_CONNECT_RETRIED)
    return {Failure::connectFailed, "the connection was refused; nothing listens there"};
  if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && value == 500)
    return {Failure::tryLater, "the peer is at its limit of connections (ZAP status 500)"};
  if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
    return {Failure::keyRefused,
            "the peer refused our key (ZAP status " + std::to_string(value) + ")"};
  if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
      return {Failure::mechanismMismatch,
              "one side is plaintext and the other CURVE (security mechanism mismatch)"};
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
      return {Failure::badCryptography,
              "the CURVE handshake failed to decrypt: a wrong or stale server key"};
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", value);
    return {Failure::other, std::string("ZMTP protocol error ") + hex};
  }
  return {Failure::other,
          "the handshake failed (" + std::string(zmq_strerror(static_cast<int>(value))) + ")"};
}

}  // namespace tfmath
