// wire.cc: encoding and checked decoding of control-plane frames.
#include "net/wire.h"

namespace tfmath::wire {

void configure(zmq::socket_t& socket) {
  socket.set(zmq::sockopt::maxmsgsize, kMaxMessageBytes);
  socket.set(zmq::sockopt::linger, 0);
}

zmq::message_t encode(capnp::MallocMessageBuilder& message) {
  message.getRoot<proto::Message>().setVersion(proto::PROTOCOL_VERSION);
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return zmq::message_t(bytes.begin(), bytes.size());
}

Decoded::Decoded(const zmq::message_t& frame) {
  if (static_cast<int64_t>(frame.size()) > kMaxMessageBytes)
    throw ProtocolError("message over the size limit");
  try {
    // §3: a frame that is not a whole number of words cannot be a Cap'n Proto message.
    bytes_ = std::make_unique<MessageBytes>(frame.data(), frame.size());
    auto m = message();
    if (m.getVersion() != proto::PROTOCOL_VERSION)
      throw ProtocolError("protocol version " + std::to_string(m.getVersion()) + " is not " +
                          std::to_string(proto::PROTOCOL_VERSION));
  } catch (const std::invalid_argument& e) {
    throw ProtocolError(e.what());
  } catch (const kj::Exception& e) {
    throw ProtocolError(std::string("not a Cap'n Proto message: ") + e.getDescription().cStr());
  }
}

const char* jobStateName(proto::JobState s) {
  switch (s) {
    case proto::JobState::PENDING:
      return "PENDING";
    case proto::JobState::RUNNING:
      return "RUNNING";
    case proto::JobState::COMPLETED:
      return "COMPLETED";
    case proto::JobState::FAILED:
      return "FAILED";
    case proto::JobState::CANCELLED:
      return "CANCELLED";
  }
  return "?";
}

bool jobEnded(proto::JobState s) {
  return s == proto::JobState::COMPLETED || s == proto::JobState::FAILED ||
         s == proto::JobState::CANCELLED;
}

zmq::message_t errorMessage(const std::string& text) {
  capnp::MallocMessageBuilder b;
  start(b).initError().setMessage(text);
  return encode(b);
}

}  // namespace tfmath::wire
