// coordinator.h: the coordinator daemon: one thread polling two ROUTER sockets. Clients talk on one
// (ipc:// in the state directory by default); workers and their job sessions on the other (tcp://).
// It keeps the worker registry, schedules jobs FIFO onto idle workers, serves each job's rendezvous
// store, stores checkpoints and results, and declares silent workers dead. Every rule it enforces
// is in docs/protocol.md; comments cite the section. Not thread-safe: run() owns everything.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "coordinator/authenticator.h"
#include "coordinator/state_dir.h"
#include "net/handshake_monitor.h"
#include "net/wire.h"

namespace tfmath {

struct CoordinatorOptions {
  std::string stateDir;
  std::string clientEndpoint;  // default: ipc://STATE/coordinator.sock
  std::string workerEndpoint = "tcp://127.0.0.1:5555";
  std::string keysFolder;           // default STATE/keys; made with fresh keys where missing (§8)
  std::string authorizedClients;    // default KEYS/authorized_clients: who may connect over tcp
  std::vector<std::string> admins;  // users who may act on any job, besides the coordinator's own
};

class Coordinator {
 public:
  explicit Coordinator(CoordinatorOptions options);
  ~Coordinator();
  // Serves until `stop` becomes true.
  void run(const std::atomic<bool>& stop);
  // The endpoints actually bound (a tcp port of * is resolved).
  const std::string& clientEndpoint() const { return clientEndpoint_; }
  const std::string& workerEndpoint() const { return workerEndpoint_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Worker;
  struct Job;

  void onClient(const std::string& peer, const zmq::message_t& frame);
  // The authenticated user who sent `frame` on the client socket (§8), or "".
  std::string clientUser(const zmq::message_t& frame) const;
  // "" when `user` may cancel `job` or read its logs and result (§8 Ownership), else why not.
  std::string refusal(Job& job, const std::string& user, const std::string& action);
  void onWorkerSocket(const std::string& peer, const zmq::message_t& frame);
  void reply(zmq::socket_t& socket, const std::string& peer, zmq::message_t body);
  void replyError(zmq::socket_t& socket, const std::string& peer, const std::string& text);
  void replyOk(zmq::socket_t& socket, const std::string& peer);

  void submit(const std::string& peer, const std::string& user, proto::Submit::Reader submit);
  void status(const std::string& peer, const std::string& id);
  void cancel(const std::string& peer, const std::string& user, const std::string& id);
  void result(const std::string& peer, const std::string& user, const std::string& id);
  void logs(const std::string& peer, const std::string& user, proto::LogsRequest::Reader req);

  void registerWorker(const std::string& peer, proto::Register::Reader reg);
  void onSession(const std::string& peer, proto::Message::Reader m);
  void schedule();
  void sendToWorker(Worker& w, capnp::MallocMessageBuilder& message);
  void heartbeats();
  void loseWorker(const std::string& workerId, const std::string& why);
  void endJob(Job& job, proto::JobState state, const std::string& reason);
  // A rank stopped: ok, or failed for `reason`. The first failure stops the other ranks; a lost
  // worker's reason replaces an earlier one (it is the cause of its peers' errors).
  void rankFinished(Job& job, uint32_t rank, bool ok, const std::string& reason,
                    bool workerLost = false);
  void releaseStoreWaits(Job& job, const std::string& why);
  void save(Job& job);
  void log(const std::string& line);
  Job* findJob(const std::string& id);

  CoordinatorOptions options_;
  StateDir state_;
  zmq::context_t context_;
  std::unique_ptr<Authenticator> authenticator_;  // before the sockets: it must outlive them
  zmq::socket_t clients_, workers_;
  std::unique_ptr<HandshakeMonitor> clientHandshakes_, workerHandshakes_;
  bool clientsOverTcp_ = false;
  std::string ownUser_;
  std::string clientEndpoint_, workerEndpoint_;
  std::map<std::string, std::unique_ptr<Worker>> workersById_;
  std::map<std::string, std::string> workerByPeer_;  // routing id → worker id
  std::map<std::string, std::pair<std::string, uint32_t>> sessionByPeer_;  // → (job, rank)
  std::vector<std::unique_ptr<Job>> jobs_;                                 // submission order
  uint64_t nextId_ = 1;
};

}  // namespace tfmath
