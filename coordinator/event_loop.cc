// event_loop.cc: polling, draining, framing and replies.
#include "coordinator/event_loop.h"

#include <cerrno>
#include <cstdio>

#include "net/wire.h"

namespace tfmath {

namespace {

// A bound on one step's messages, so a peer that never stops sending cannot starve liveness.
constexpr size_t kMaxMessagesPerStep = 100000;

}  // namespace

std::string peerName(const std::string& routing) {
  std::string hex;
  char b[3];
  for (unsigned char c : routing) {
    std::snprintf(b, sizeof b, "%02x", c);
    hex += b;
  }
  return "peer " + hex;
}

EventLoop::EventLoop(zmq::context_t& context, Log log, Refused refused)
    : clients_(context, zmq::socket_type::router),
      workers_(context, zmq::socket_type::router),
      log_(std::move(log)),
      refused_(std::move(refused)) {
  wire::configure(clients_);
  wire::configure(workers_);
  workers_.set(zmq::sockopt::router_mandatory, false);
}

void EventLoop::watch(zmq::socket_t& socket, std::function<void()> onReadable) {
  watched_.push_back({&socket, std::move(onReadable)});
}

size_t EventLoop::step(std::chrono::milliseconds timeout) {
  std::vector<zmq::pollitem_t> items{{clients_.handle(), 0, ZMQ_POLLIN, 0},
                                     {workers_.handle(), 0, ZMQ_POLLIN, 0}};
  for (auto& w : watched_) items.push_back({w.socket->handle(), 0, ZMQ_POLLIN, 0});
  size_t handled = 0;
  auto wait = timeout;
  // Rounds of one message per ready socket, fair between sockets, until every socket is empty.
  while (handled < kMaxMessagesPerStep) {
    try {
      if (zmq::poll(items.data(), items.size(), wait) == 0) break;
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) break;  // a signal: the caller's loop decides
      throw;
    }
    wait = std::chrono::milliseconds(0);
    size_t round = 0;
    for (size_t i = 2; i < items.size(); ++i)
      if (items[i].revents & ZMQ_POLLIN) {
        try {
          watched_[i - 2].onReadable();
        } catch (const std::exception& e) {
          log_(std::string("a watched socket's handler failed: ") + e.what());
        }
        ++round;
      }
    if ((items[0].revents & ZMQ_POLLIN) && readOne(clients_, onClient_)) ++round;
    if ((items[1].revents & ZMQ_POLLIN) && readOne(workers_, onWorker_)) ++round;
    if (round == 0) break;
    handled += round;
  }
  try {
    if (afterDrain_) afterDrain_();
  } catch (const std::exception& e) {
    log_(std::string("the after-drain work failed: ") + e.what());
  }
  return handled;
}

namespace {

// A frame if one waits. A signal (the stop request) may interrupt even a read that does not wait:
// it is read again.
bool receive(zmq::socket_t& socket, zmq::message_t& frame) {
  while (true) {
    try {
      return static_cast<bool>(socket.recv(frame, zmq::recv_flags::dontwait));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
  }
}

}  // namespace

bool EventLoop::readOne(zmq::socket_t& socket, const Handler& handler) {
  std::vector<zmq::message_t> frames;
  zmq::message_t frame;
  do {
    if (!receive(socket, frame)) break;
    frames.push_back(std::move(frame));
  } while (frames.back().more() && frames.size() < 8);
  while (!frames.empty() && frames.back().more()) {  // drain an over-long message
    if (!receive(socket, frame)) break;
    const bool more = frame.more();
    frames.push_back(std::move(frame));
    if (!more) break;
  }
  if (frames.empty()) return false;
  const std::string peer = frames[0].to_string();
  // §2 Frames: after the ROUTER's routing id, exactly one frame: the message.
  const std::string side = &socket == &clients_ ? "client" : "worker";
  if (frames.size() != 2) {
    refused_("messages of several frames on the " + side + " socket",
             "rejected a message of " + std::to_string(frames.size() - 1) + " frames from " +
                 peerName(peer) + " (§2: one frame per message)");
    replyError(socket, peer, "malformed: a message is exactly one frame (docs/protocol.md §2)");
    return true;
  }
  try {
    handler(peer, frames[1]);
  } catch (const std::exception& e) {
    // A bug or the state folder (a full disk): the peer hears it, and the loop serves on.
    log_("a request from " + side + " " + peerName(peer) + " failed: " + e.what());
    replyError(socket, peer,
               std::string("the coordinator could not complete the request: ") + e.what());
  }
  return true;
}

void EventLoop::reply(zmq::socket_t& socket, const std::string& peer, zmq::message_t body) {
  socket.send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  socket.send(body, zmq::send_flags::dontwait);
}

void EventLoop::replyError(zmq::socket_t& socket, const std::string& peer,
                           const std::string& text) {
  reply(socket, peer, wire::errorMessage(text));
}

void EventLoop::replyOk(zmq::socket_t& socket, const std::string& peer) {
  capnp::MallocMessageBuilder b;
  wire::start(b).setOk();
  reply(socket, peer, wire::encode(b));
}

}  // namespace tfmath
