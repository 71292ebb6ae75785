// wire.cc: encoding and checked decoding of control-plane frames.
#include "wire.h"

#include <cstring>

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
  // §3: a frame that is not a whole number of words cannot be a Cap'n Proto message.
  if (frame.size() == 0 || frame.size() % sizeof(capnp::word) != 0)
    throw ProtocolError("not a Cap'n Proto message (" + std::to_string(frame.size()) + " bytes)");
  if (static_cast<int64_t>(frame.size()) > kMaxMessageBytes)
    throw ProtocolError("message over the size limit");
  words_ = kj::heapArray<capnp::word>(frame.size() / sizeof(capnp::word));
  std::memcpy(words_.begin(), frame.data(), frame.size());
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = words_.size() * 8 + 64;
    reader_ = std::make_unique<capnp::FlatArrayMessageReader>(words_, options);
    auto m = message();
    if (m.getVersion() != proto::PROTOCOL_VERSION)
      throw ProtocolError("protocol version " + std::to_string(m.getVersion()) + " is not " +
                          std::to_string(proto::PROTOCOL_VERSION));
    m.which();  // a union tag this build does not know reads as an unknown command below
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
