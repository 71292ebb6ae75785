// wire.h: the control plane's framing and limits (docs/protocol.md §2-§4): one Cap'n Proto message
// per ZeroMQ frame, with the protocol version checked on every receipt. Thread-safe (no state).
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <zmq.hpp>

#include "base/message_bytes.h"
#include "proto/protocol.capnp.h"

namespace tfmath::wire {

// §4 Heartbeating: each side sends a heartbeat when it has sent nothing for one interval, and
// declares the peer dead after kHeartbeatLiveness intervals of silence.
constexpr std::chrono::milliseconds kHeartbeatInterval{1000};
constexpr int kHeartbeatLiveness = 3;
// §2 Limits: no message may exceed this (ZMQ_MAXMSGSIZE on every socket); reading one may visit at
// most 8× its own words (Cap'n Proto's traversal limit, see MessageBytes).
constexpr int64_t kMaxMessageBytes = 64 << 20;
// How long a client waits for an answer before it says the coordinator is not answering.
constexpr std::chrono::milliseconds kClientTimeout{15000};

// §5.6: every key of a job's rendezvous store starts with its attempt's prefix, "attempt-N/".
inline std::string storeKeyPrefix(uint32_t attempt) {
  return "attempt-" + std::to_string(attempt) + "/";
}

// A message that breaks the framing rules: not Cap'n Proto, too big, wrong version.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Sets the limits every tfmath socket has: the size limit and no lingering on close.
void configure(zmq::socket_t& socket);

// Serialises a message (whose version field the caller need not set) into one frame.
zmq::message_t encode(capnp::MallocMessageBuilder& message);

// A received frame, checked and readable.
class Decoded {
 public:
  // Throws ProtocolError naming what is wrong.
  explicit Decoded(const zmq::message_t& frame);
  proto::Message::Reader message() const { return bytes_->root<proto::Message>(); }

 private:
  std::unique_ptr<MessageBytes> bytes_;
};

// A fresh message with the version set; fill its union and encode it.
inline proto::Message::Builder start(capnp::MallocMessageBuilder& builder) {
  auto m = builder.initRoot<proto::Message>();
  m.setVersion(proto::PROTOCOL_VERSION);
  return m;
}

// Slurm's name of a job state: PENDING, RUNNING, COMPLETED, FAILED or CANCELLED.
const char* jobStateName(proto::JobState state);
// True for the states a job never leaves: COMPLETED, FAILED, CANCELLED.
bool jobEnded(proto::JobState state);

// An encoded error message carrying `text`.
zmq::message_t errorMessage(const std::string& text);

}  // namespace tfmath::wire
