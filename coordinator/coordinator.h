// coordinator.h: the coordinator daemon, the thin owner that wires its parts: the event loop
// (event_loop.h) polling two ROUTER sockets, clients on one (ipc:// in the state directory by
// default) and workers and their job sessions on the other (tcp://); the client requests
// (client_api.h); the worker socket's dialogs (worker_api.h); the worker registry and its
// liveness (worker_registry.h); FIFO placement
// (scheduler.h); each job's state machine (job_lifecycle.h) and rendezvous store
// (rendezvous_store.h). Every rule it enforces is in docs/protocol.md; comments cite the section.
// Not thread-safe: one thread runs it.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "coordinator/authenticator.h"
#include "coordinator/client_api.h"
#include "coordinator/clock.h"
#include "coordinator/event_loop.h"
#include "coordinator/job.h"
#include "coordinator/job_control.h"
#include "coordinator/prometheus.h"
#include "coordinator/refusal_log.h"
#include "coordinator/state_dir.h"
#include "coordinator/worker_api.h"
#include "coordinator/worker_registry.h"
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
  // The folders a job's data paths must lie in (DataAccess::withinRoots); none: no file data.
  std::vector<std::string> dataRoots;
  // The group whose members may connect to the ipc client socket (mode 0660); "": only the owner.
  std::string clientSocketGroup;
  // At most one log line per interval about each refused peer or kind of malformed message; the
  // rest are counted (refusal_log.h).
  std::chrono::milliseconds refusalLogInterval{10000};
  UserLimits limits;  // what one user may ask
  // Jobs of the coordinator's own user may read data outside the roots, with the workers' rights
  // (for a cluster of one user, such as `tfmath up`'s).
  bool trustOwnUser = false;
  // HOST:PORT to serve Prometheus metrics on (prometheus.h); "" serves none.
  std::string metricsEndpoint;
  // Client connections open at once, all users together; more are refused until some close.
  uint32_t maxClientConnections = 256;
  // How long a restarted coordinator waits for the ranks of the jobs that were running to return
  // (§5.7); a rank not back by then is lost.
  std::chrono::milliseconds workerLease{60000};
  // Test-only seams. With a `context` shared with the test, either endpoint may be inproc://, which
  // only threads of this process can reach: it has no CURVE (§8 applies to tcp), and an inproc
  // client is the coordinator's own user. `clock`, if given, replaces the real clocks.
  zmq::context_t* context = nullptr;
  const Clock* clock = nullptr;
};

class Coordinator : private JobControl {
 public:
  explicit Coordinator(CoordinatorOptions options);
  ~Coordinator() override;
  // Serves until `stop` becomes true.
  void run(const std::atomic<bool>& stop);
  // One turn of the loop: waits up to `timeout` for messages, handles every ready one, then checks
  // liveness (§4). Returns how many messages it handled. For tests that step it by hand.
  size_t step(std::chrono::milliseconds timeout);
  // The endpoints actually bound (a tcp port of * is resolved).
  const std::string& clientEndpoint() const { return clientEndpoint_; }
  const std::string& workerEndpoint() const { return workerEndpoint_; }
  // Where Prometheus metrics are served (HOST:PORT), or "".
  std::string metricsEndpoint() const {
    return metricsServer_ ? metricsServer_->endpoint() : std::string();
  }

 private:
  // JobControl, for the client requests.
  const std::vector<std::unique_ptr<Job>>& jobs() const override { return jobs_; }
  Job* findJob(const std::string& id) override;
  std::string addJob(const std::string& user, proto::Submit::Reader submit) override;
  std::string addArray(const std::string& user, proto::SubmitArray::Reader array) override;
  void cancelJob(Job& job) override;
  void rankFinished(Job& job, uint32_t rank, bool ok, const std::string& reason) override;
  void loseWorker(const std::string& workerId, const std::string& why) override;
  bool adoptRank(const std::string& workerId, proto::Attach::Reader running,
                 uint64_t step) override;
  void schedule() override;
  std::string timestamp() const override;

  // Carries out what the job's state machine decided.
  void apply(Job& job, const JobEffects& effects);
  void releaseStoreWaits(Job& job, const std::string& why);
  // Rank `rank` of `job`, on worker `workerId`, is lost: requeued or failed (§5.6).
  void loseRank(Job& job, uint32_t rank, const std::string& workerId, const std::string& why);
  // A job whose ranks all stopped after a lost worker goes back to PENDING (§5.6).
  void requeue(Job& job);
  // A job that was RUNNING when the coordinator stopped: its ranks train on, and have the lease
  // to return (§5.7).
  void awaitRanks(Job& job);
  void start(Job& job, const std::vector<std::string>& workerIds);
  // A new PENDING job under `id`, not yet kept: journal() keeps it once its record is complete.
  std::unique_ptr<Job> newJob(const std::string& id, const std::string& user,
                              proto::Job::Reader submitted, proto::Dependency::Reader dependency);
  // Writes a new job's files to the state directory (with the parameters it starts from, if sent)
  // and its log's first line, then keeps it.
  void journal(std::unique_ptr<Job> job, proto::ParameterState::Reader initial = {});
  void sendToWorker(Worker& w, capnp::MallocMessageBuilder& message);
  void liveness();
  void save(Job& job);
  // The job's latest checkpoint, or the one before when the latest is damaged (logged, in the
  // coordinator's log and the job's). Throws JobError.
  std::unique_ptr<ParameterStateFile> loadCheckpoint(const std::string& id);
  void log(const std::string& line);
  // Reads every waiting event of a handshake monitor: logs failures, and counts the client
  // connections.
  void readMonitor(HandshakeMonitor& monitor, const std::string& side);
  // Hands the metrics server a fresh snapshot of jobs and workers.
  void publishMetrics();

  CoordinatorOptions options_;
  SteadyClock steadyClock_;
  const Clock& clock_;
  RefusalLog refusals_;
  StateDir state_;
  std::unique_ptr<zmq::context_t> ownContext_;  // when the options bring none
  zmq::context_t& context_;
  std::unique_ptr<Authenticator> authenticator_;  // before the loop's sockets: it must outlive them
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<HandshakeMonitor> clientHandshakes_, workerHandshakes_;
  std::set<int> openClients_;  // the client connections' descriptors, from clientHandshakes_
  WorkerRegistry workers_;
  std::unique_ptr<ClientApi> clients_;
  std::unique_ptr<WorkerApi> workerApi_;
  std::string clientEndpoint_, workerEndpoint_;
  std::string ownUser_;  // the user this coordinator runs as
  std::unique_ptr<MetricsServer> metricsServer_;
  Clock::time_point lastPublished_{}, lastElasticCheck_{};
  // When liveness() last ran, on the real clock: a longer gap means the coordinator itself was
  // stopped, and its workers' silence in that time is not theirs.
  std::chrono::steady_clock::time_point lastLiveness_{};
  std::vector<std::unique_ptr<Job>> jobs_;  // submission order
  uint64_t nextId_ = 1;
  bool scheduling_ = false, scheduleAgain_ = false;  // schedule() is running; it must run again
};

}  // namespace tfmath
