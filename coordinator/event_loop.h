// event_loop.h: the coordinator's one thread: it polls the client and worker ROUTER sockets and any
// watched socket (ZAP, handshake monitors), checks the framing (docs/protocol.md §2), hands each
// message to its handler and sends the replies. One step drains every message ready on every socket
// before the after-drain work (liveness) runs, so a burst of work never reads as a worker's
// silence. Not thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>
#include <zmq.hpp>

namespace tfmath {

class EventLoop {
 public:
  using Handler = std::function<void(const std::string& peer, const zmq::message_t& frame)>;
  using Log = std::function<void(const std::string&)>;

  EventLoop(zmq::context_t& context, Log log);
  zmq::socket_t& clients() { return clients_; }
  zmq::socket_t& workers() { return workers_; }

  void onClient(Handler h) { onClient_ = std::move(h); }
  void onWorker(Handler h) { onWorker_ = std::move(h); }
  // Runs after each step's messages are all handled.
  void afterDrain(std::function<void()> f) { afterDrain_ = std::move(f); }
  // Calls `onReadable` whenever `socket` (which must outlive the loop) has something to read.
  void watch(zmq::socket_t& socket, std::function<void()> onReadable);

  // Waits up to `timeout` for a message, handles every ready one on every socket, then runs the
  // after-drain work. Returns how many messages it handled. A signal (EINTR) ends the wait early.
  size_t step(std::chrono::milliseconds timeout);

  void reply(zmq::socket_t& socket, const std::string& peer, zmq::message_t body);
  void replyError(zmq::socket_t& socket, const std::string& peer, const std::string& text);
  void replyOk(zmq::socket_t& socket, const std::string& peer);

 private:
  // Reads one message from a ROUTER socket and hands it on; false when none was waiting.
  bool readOne(zmq::socket_t& socket, const Handler& handler);

  zmq::socket_t clients_, workers_;
  Log log_;
  Handler onClient_, onWorker_;
  std::function<void()> afterDrain_;
  struct Watched {
    zmq::socket_t* socket;
    std::function<void()> onReadable;
  };
  std::vector<Watched> watched_;
};

// "peer 0a1b...": a routing id as text for the log.
std::string peerName(const std::string& routing);

}  // namespace tfmath
