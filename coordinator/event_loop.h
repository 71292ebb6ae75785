// event_loop.h: the coordinator's one thread: it polls the client and worker ROUTER sockets and any
// watched socket (ZAP, handshake monitors), checks the framing (docs/protocol.md §2), hands each
// message to its handler and sends the replies. One step drains every message ready on every socket
// before the after-drain work (liveness) runs, so a burst of work never reads as a worker's
// silence. An exception from a handler (a failed write to the state folder, say) never leaves the
// loop: the request gets an error, and the loop goes on. Not thread-safe.
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
  // A log line about a refused peer or a malformed message, and the key it is rate-limited by (a
  // user, an address, a kind of failure: refusal_log.h).
  using Refused = std::function<void(const std::string& key, const std::string& line)>;

  EventLoop(zmq::context_t& context, Log log, Refused refused);
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
  // Logs a refusal, rate-limited by `key`.
  void refused(const std::string& key, const std::string& line) { refused_(key, line); }

 private:
  // Reads one message from a ROUTER socket and hands it on; false when none was waiting.
  bool readOne(zmq::socket_t& socket, const Handler& handler);

  zmq::socket_t clients_, workers_;
  Log log_;
  Refused refused_;
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
