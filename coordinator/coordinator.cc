// coordinator.cc: the coordinator's event loop and its handlers.
#include "coordinator/coordinator.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "jobs/data_check.h"
#include "jobs/job_error.h"
#include "jobs/params_file.h"
#include "net/curve_keys.h"

namespace tfmath {

namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string timestamp() {
  char text[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return text;
}

std::string userName(uid_t uid) {
  passwd entry{}, *found = nullptr;
  char buffer[4096];
  if (getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found) return entry.pw_name;
  return "uid " + std::to_string(uid);
}

std::string peerName(const std::string& routing) {
  std::string hex;
  char b[3];
  for (unsigned char c : routing) {
    std::snprintf(b, sizeof b, "%02x", c);
    hex += b;
  }
  return "peer " + hex;
}

// The answer to a store get.
zmq::message_t storeValue(const std::string& key, const std::string& value) {
  capnp::MallocMessageBuilder b;
  auto e = wire::start(b).initStoreValue();
  e.setKey(key);
  e.setValue(kj::arrayPtr(reinterpret_cast<const kj::byte*>(value.data()), value.size()));
  return wire::encode(b);
}

}  // namespace

struct Coordinator::Worker {
  std::string id, peer, host, device;
  uint32_t cores = 0;
  uint64_t memory = 0;
  std::unique_ptr<capnp::MallocMessageBuilder> gpu;  // its GpuInfo, as last reported
  std::string jobId;                                 // empty when idle
  uint32_t rank = 0;
  Clock::time_point lastHeard, lastSent;
};

struct Coordinator::Job {
  capnp::MallocMessageBuilder jobMessage, infoMessage;
  proto::Job::Reader job() { return jobMessage.getRoot<proto::Job>().asReader(); }
  proto::JobInfo::Builder info() { return infoMessage.getRoot<proto::JobInfo>(); }
  std::string id() { return info().getId().cStr(); }
  std::map<std::string, std::string> store;                     // rendezvous store
  std::vector<std::pair<std::string, std::string>> storeWaits;  // (peer, key) until set
  std::vector<std::string> rankWorkers;                         // worker id per rank
  std::vector<bool> rankDone;
  bool cancelRequested = false;
  std::string failure;  // the first failure reported, if any
};

Coordinator::Coordinator(CoordinatorOptions options)
    : options_(std::move(options)),
      state_(options_.stateDir),
      clients_(context_, zmq::socket_type::router),
      workers_(context_, zmq::socket_type::router) {
  wire::configure(clients_);
  wire::configure(workers_);
  workers_.set(zmq::sockopt::router_mandatory, false);
  clientEndpoint_ = options_.clientEndpoint.empty() ? "ipc://" + state_.root() + "/coordinator.sock"
                                                    : options_.clientEndpoint;
  clientsOverTcp_ = clientEndpoint_.starts_with("tcp://");
  if (!clientsOverTcp_ && !clientEndpoint_.starts_with("ipc://"))
    throw std::runtime_error("--client-endpoint " + clientEndpoint_ + ": must be ipc:// or tcp://");
  if (!options_.workerEndpoint.starts_with("tcp://"))
    throw std::runtime_error("--worker-endpoint " + options_.workerEndpoint + ": must be tcp://");
  ownUser_ = userName(geteuid());

  // §8: every tcp endpoint is a CURVE server; ZAP admits workers and authorized clients.
  ClusterKeyFiles keys(options_.keysFolder.empty() ? state_.root() + "/keys" : options_.keysFolder);
  if (keys.createMissing()) log("made new cluster keys in " + keys.folder);
  const KeyPair own = readSecretKeyFile(keys.coordinatorSecret());
  if (options_.authorizedClients.empty())
    options_.authorizedClients = keys.folder + "/authorized_clients";
  readAuthorizedClients(options_.authorizedClients);  // a bad file stops the start, not a handshake
  authenticator_ = std::make_unique<Authenticator>(context_, readPublicKeyFile(keys.workerPublic()),
                                                   options_.authorizedClients,
                                                   [this](const std::string& line) { log(line); });
  makeCurveServer(workers_, own, kWorkersDomain);
  clientHandshakes_ = std::make_unique<HandshakeMonitor>(context_, clients_);
  workerHandshakes_ = std::make_unique<HandshakeMonitor>(context_, workers_);
  if (clientsOverTcp_) makeCurveServer(clients_, own, kClientsDomain);
  clients_.bind(clientEndpoint_);
  workers_.bind(options_.workerEndpoint);
  clientEndpoint_ = clients_.get(zmq::sockopt::last_endpoint);
  workerEndpoint_ = workers_.get(zmq::sockopt::last_endpoint);

  // §7: a restarted coordinator lists every job it ever accepted. A job that was running when it
  // stopped cannot be rejoined (elastic recovery is later work), so it is marked failed; pending
  // jobs stay pending.
  for (const std::string& id : state_.jobIds()) {
    auto job = std::make_unique<Job>();
    if (!state_.loadJob(id, job->jobMessage) || !state_.loadRecord(id, job->infoMessage)) continue;
    if (job->info().getState() == proto::JobState::RUNNING) {
      job->info().setState(proto::JobState::FAILED);
      job->info().setReason("the coordinator restarted while the job ran");
      job->info().setFinishedMs(nowMs());
      state_.saveRecord(job->info().asReader());
    }
    nextId_ = std::max<uint64_t>(nextId_, std::stoull(id) + 1);
    jobs_.push_back(std::move(job));
  }
  log("coordinator up: clients on " + clientEndpoint_ + ", workers on " + workerEndpoint_ + ", " +
      std::to_string(jobs_.size()) + " job(s) on record");
}

Coordinator::~Coordinator() = default;

void Coordinator::log(const std::string& line) {
  std::fprintf(stderr, "%s %s\n", timestamp().c_str(), line.c_str());
  std::fflush(stderr);
}

Coordinator::Job* Coordinator::findJob(const std::string& id) {
  for (auto& j : jobs_)
    if (j->id() == id) return j.get();
  return nullptr;
}

void Coordinator::run(const std::atomic<bool>& stop) {
  zmq::pollitem_t items[] = {{clients_.handle(), 0, ZMQ_POLLIN, 0},
                             {workers_.handle(), 0, ZMQ_POLLIN, 0},
                             {authenticator_->socket().handle(), 0, ZMQ_POLLIN, 0},
                             {clientHandshakes_->socket().handle(), 0, ZMQ_POLLIN, 0},
                             {workerHandshakes_->socket().handle(), 0, ZMQ_POLLIN, 0}};
  while (!stop) {
    try {
      zmq::poll(items, 5, std::chrono::milliseconds(100));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;  // a signal: the loop condition decides
      throw;
    }
    if (items[2].revents & ZMQ_POLLIN) authenticator_->handle();
    // §8: handshakes that fail before ZAP is asked (a plaintext peer, a wrong server key); the
    // authenticator has logged those it refused.
    for (int s : {3, 4}) {
      if (!(items[s].revents & ZMQ_POLLIN)) continue;
      const auto e = (s == 3 ? clientHandshakes_ : workerHandshakes_)->read();
      if (e.failure != HandshakeMonitor::Failure::keyRefused)
        log(std::string("a ") + (s == 3 ? "client" : "worker") + " handshake failed: " + e.text);
    }
    for (int s = 0; s < 2; ++s) {
      if (!(items[s].revents & ZMQ_POLLIN)) continue;
      zmq::socket_t& socket = s == 0 ? clients_ : workers_;
      std::vector<zmq::message_t> frames;
      zmq::message_t frame;
      do {
        if (!socket.recv(frame, zmq::recv_flags::dontwait)) break;
        frames.push_back(std::move(frame));
      } while (frames.back().more() && frames.size() < 8);
      while (!frames.empty() && frames.back().more()) {  // drain an over-long message
        if (!socket.recv(frame, zmq::recv_flags::dontwait)) break;
        frames.push_back(std::move(frame));
        if (!frame.more()) break;
      }
      if (frames.empty()) continue;
      const std::string peer = frames[0].to_string();
      // §2 Frames: after the ROUTER's routing id, exactly one frame: the message.
      if (frames.size() != 2) {
        log("rejected a message of " + std::to_string(frames.size() - 1) + " frames from " +
            peerName(peer) + " (§2: one frame per message)");
        replyError(socket, peer, "malformed: a message is exactly one frame (docs/protocol.md §2)");
        continue;
      }
      if (s == 0)
        onClient(peer, frames[1]);
      else
        onWorkerSocket(peer, frames[1]);
    }
    heartbeats();
  }
}

void Coordinator::reply(zmq::socket_t& socket, const std::string& peer, zmq::message_t body) {
  socket.send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  socket.send(body, zmq::send_flags::dontwait);
}

void Coordinator::replyError(zmq::socket_t& socket, const std::string& peer,
                             const std::string& text) {
  reply(socket, peer, wire::errorMessage(text));
}

void Coordinator::replyOk(zmq::socket_t& socket, const std::string& peer) {
  capnp::MallocMessageBuilder b;
  wire::start(b).setOk();
  reply(socket, peer, wire::encode(b));
}

// ---- clients (§6) ----

std::string Coordinator::clientUser(const zmq::message_t& frame) const {
  // §8: over tcp, the user the authorized-clients file gives the CURVE key (ZAP's User-Id); over
  // ipc, the owner of the connecting process, which the kernel reports (SO_PEERCRED) and libzmq
  // appends to the peer address as ":UID:GID:PID".
  const char* property = zmq_msg_gets(frame.handle(), clientsOverTcp_ ? "User-Id" : "Peer-Address");
  if (!property) return "";
  if (clientsOverTcp_) return property;
  const std::string address = property;
  const auto pid = address.rfind(':');
  const auto gid =
      pid == std::string::npos || pid == 0 ? std::string::npos : address.rfind(':', pid - 1);
  const auto uid =
      gid == std::string::npos || gid == 0 ? std::string::npos : address.rfind(':', gid - 1);
  if (uid == std::string::npos) return "";
  try {
    return userName(static_cast<uid_t>(std::stoul(address.substr(uid + 1, gid - uid - 1))));
  } catch (const std::exception&) {
    return "";
  }
}

std::string Coordinator::refusal(Job& job, const std::string& user, const std::string& action) {
  const std::string owner = job.info().getUser().cStr();
  if (user == owner || user == ownUser_ ||
      std::find(options_.admins.begin(), options_.admins.end(), user) != options_.admins.end())
    return "";
  return "job " + job.id() + " belongs to " + owner + "; only its owner or an admin may " + action +
         " it (you are " + user + ")";
}

void Coordinator::onClient(const std::string& peer, const zmq::message_t& frame) {
  const std::string user = clientUser(frame);
  if (user.empty()) {
    log("refused a client request from " + peerName(peer) + ": its user is unknown (§8)");
    return replyError(clients_, peer, "the coordinator cannot tell which user you are (§8)");
  }
  try {
    wire::Decoded d(frame);
    auto m = d.message();
    switch (m.which()) {
      case proto::Message::SUBMIT:
        return submit(peer, user, m.getSubmit());
      case proto::Message::STATUS:
        return status(peer, m.getStatus());
      case proto::Message::CANCEL_JOB:
        return cancel(peer, user, m.getCancelJob());
      case proto::Message::RESULT:
        return result(peer, user, m.getResult());
      case proto::Message::LOGS:
        return logs(peer, user, m.getLogs());
      default:
        // §6: a client may send only the client requests.
        return replyError(clients_, peer,
                          "unexpected command " + std::to_string(static_cast<int>(m.which())) +
                              " on the client socket (docs/protocol.md §6)");
    }
  } catch (const wire::ProtocolError& e) {
    log("rejected a message from client " + peerName(peer) + ": " + e.what());
    replyError(clients_, peer, std::string("malformed: ") + e.what());
  } catch (const kj::Exception& e) {
    replyError(clients_, peer, std::string("malformed: ") + e.getDescription().cStr());
  }
}

void Coordinator::submit(const std::string& peer, const std::string& user,
                         proto::Submit::Reader s) {
  // §6.1: the coordinator validates again; it trusts no client.
  try {
    validateJob(s.getJob());
  } catch (const JobError& e) {
    return replyError(clients_, peer, std::string("invalid job: ") + e.what());
  } catch (const std::exception& e) {
    return replyError(clients_, peer, std::string("invalid job: ") + e.what());
  }
  auto job = std::make_unique<Job>();
  job->jobMessage.setRoot(s.getJob());
  auto info = job->info();
  const std::string id = std::to_string(nextId_++);
  info.setId(id);
  info.setUser(user);  // §8: the authenticated user, never what the client claims
  info.setName(s.getJob().getName());
  info.setState(proto::JobState::PENDING);
  info.setWorkers(s.getJob().getWorkers());
  info.setEpochs(s.getJob().getEpochs());
  info.setSubmittedMs(nowMs());
  state_.saveJob(id, job->job());
  save(*job);
  state_.appendLog(id, timestamp() + " submitted by " + std::string(info.getUser().cStr()) + "\n");
  log("job " + id + " submitted: " + std::string(info.getName().cStr()) + " by " +
      std::string(info.getUser().cStr()) + ", " + std::to_string(info.getWorkers()) + " worker(s)");
  jobs_.push_back(std::move(job));
  capnp::MallocMessageBuilder b;
  wire::start(b).setSubmitted(id);
  reply(clients_, peer, wire::encode(b));
  schedule();
}

void Coordinator::status(const std::string& peer, const std::string& id) {
  capnp::MallocMessageBuilder b;
  auto r = wire::start(b).initStatusReply();
  std::vector<Job*> chosen;
  for (auto& j : jobs_)
    if (id.empty() || j->id() == id) chosen.push_back(j.get());
  if (!id.empty() && chosen.empty()) return replyError(clients_, peer, "no job " + id);
  auto list = r.initJobs(static_cast<unsigned>(chosen.size()));
  for (unsigned i = 0; i < chosen.size(); ++i) list.setWithCaveats(i, chosen[i]->info().asReader());
  auto ws = r.initWorkers(static_cast<unsigned>(workersById_.size()));
  unsigned i = 0;
  const auto now = Clock::now();
  for (auto& [wid, w] : workersById_) {
    auto o = ws[i++];
    o.setId(wid);
    o.setHost(w->host);
    o.setDevice(w->device);
    o.setBusy(!w->jobId.empty());
    o.setJobId(w->jobId);
    o.setRank(w->rank);
    o.setCores(w->cores);
    o.setMemoryBytes(w->memory);
    if (w->gpu) o.setGpu(w->gpu->getRoot<proto::GpuInfo>().asReader());
    o.setHeartbeatAgeMs(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now - w->lastHeard).count()));
  }
  reply(clients_, peer, wire::encode(b));
}

void Coordinator::cancel(const std::string& peer, const std::string& user, const std::string& id) {
  Job* job = findJob(id);
  if (!job) return replyError(clients_, peer, "no job " + id);
  if (auto why = refusal(*job, user, "cancel"); !why.empty())
    return replyError(clients_, peer, why);
  auto info = job->info();
  if (wire::jobEnded(info.getState()))
    return replyError(clients_, peer,
                      "job " + id + " has already ended: " + wire::jobStateName(info.getState()));
  if (info.getState() == proto::JobState::PENDING) {
    endJob(*job, proto::JobState::CANCELLED, "cancelled while pending");
  } else {
    // §5.5: every rank is told; they agree on a step to stop at, so none waits in a collective.
    job->cancelRequested = true;
    releaseStoreWaits(*job, "cancelled");
    for (const std::string& wid : job->rankWorkers) {
      auto it = workersById_.find(wid);
      if (it == workersById_.end()) continue;
      capnp::MallocMessageBuilder b;
      wire::start(b).setCancel(id);
      sendToWorker(*it->second, b);
    }
    log("job " + id + " cancel requested");
  }
  replyOk(clients_, peer);
}

void Coordinator::result(const std::string& peer, const std::string& user, const std::string& id) {
  Job* job = findJob(id);
  if (!job) return replyError(clients_, peer, "no job " + id);
  if (auto why = refusal(*job, user, "read the result of"); !why.empty())
    return replyError(clients_, peer, why);
  if (!state_.hasCheckpoint(id))
    return replyError(
        clients_, peer,
        "job " + id + " has no result yet (" + wire::jobStateName(job->info().getState()) + ")");
  try {
    ParameterStateFile file(state_.checkpointPath(id));
    capnp::MallocMessageBuilder b;
    auto r = wire::start(b).initResultReply();
    r.setInfo(job->info().asReader());
    r.setState(file.state());
    reply(clients_, peer, wire::encode(b));
  } catch (const std::exception& e) {
    replyError(clients_, peer, std::string("cannot read the result: ") + e.what());
  }
}

void Coordinator::logs(const std::string& peer, const std::string& user,
                       proto::LogsRequest::Reader req) {
  Job* job = findJob(req.getJobId());
  if (!job) return replyError(clients_, peer, "no job " + std::string(req.getJobId().cStr()));
  if (auto why = refusal(*job, user, "read the logs of"); !why.empty())
    return replyError(clients_, peer, why);
  const std::string text = state_.readLog(job->id(), req.getOffset(), 1 << 20);
  capnp::MallocMessageBuilder b;
  auto r = wire::start(b).initLogsReply();
  r.setText(text);
  r.setNextOffset(req.getOffset() + text.size());
  r.setFinished(wire::jobEnded(job->info().getState()));
  reply(clients_, peer, wire::encode(b));
}

// ---- workers and job sessions (§5) ----

void Coordinator::onWorkerSocket(const std::string& peer, const zmq::message_t& frame) {
  try {
    wire::Decoded d(frame);
    auto m = d.message();
    auto known = workerByPeer_.find(peer);
    if (known != workerByPeer_.end()) {
      auto it = workersById_.find(known->second);
      if (it != workersById_.end()) it->second->lastHeard = Clock::now();
    }
    switch (m.which()) {
      case proto::Message::REGISTER:
        return registerWorker(peer, m.getRegister());
      case proto::Message::GPU_STATUS:
        if (known != workerByPeer_.end()) {
          auto it = workersById_.find(known->second);
          if (it != workersById_.end()) {
            it->second->gpu = std::make_unique<capnp::MallocMessageBuilder>();
            it->second->gpu->setRoot(m.getGpuStatus());
          }
        }
        [[fallthrough]];  // it is the GPU worker's heartbeat
      case proto::Message::HEARTBEAT:
        if (known == workerByPeer_.end()) {
          // §5.1: a heartbeat from a peer that never registered is answered with an error, so a
          // worker that outlived a coordinator restart registers again.
          replyError(workers_, peer, "not registered");
        }
        return;
      case proto::Message::ATTACH:
      case proto::Message::PROGRESS:
      case proto::Message::CHECKPOINT:
      case proto::Message::FINISHED:
      case proto::Message::STORE_SET:
      case proto::Message::STORE_GET:
        return onSession(peer, m);
      default:
        return replyError(workers_, peer,
                          "unexpected command " + std::to_string(static_cast<int>(m.which())) +
                              " on the worker socket (docs/protocol.md §5)");
    }
  } catch (const wire::ProtocolError& e) {
    log("rejected a message from worker-side " + peerName(peer) + ": " + e.what());
    replyError(workers_, peer, std::string("malformed: ") + e.what());
  } catch (const kj::Exception& e) {
    replyError(workers_, peer, std::string("malformed: ") + e.getDescription().cStr());
  }
}

void Coordinator::registerWorker(const std::string& peer, proto::Register::Reader reg) {
  const std::string id = reg.getWorkerId();
  if (id.empty()) return replyError(workers_, peer, "register.workerId: must not be empty");
  auto it = workersById_.find(id);
  if (it != workersById_.end()) {
    // §5.1: registering again means the worker reconnected and holds no job any more.
    if (!it->second->jobId.empty())
      loseWorker(id, "re-registered, so it lost its rank");
    else
      workerByPeer_.erase(it->second->peer);
  }
  it = workersById_.find(id);
  if (it == workersById_.end()) {
    log("worker " + id + " joined (" + std::string(reg.getDevice().cStr()) +
        (reg.getGpu().getName().size() ? " " + std::string(reg.getGpu().getName().cStr()) : "") +
        ", " + std::to_string(reg.getCores()) + " cores)");
    it = workersById_.emplace(id, std::make_unique<Worker>()).first;
  }
  Worker& w = *it->second;
  w.id = id;
  w.peer = peer;
  w.host = reg.getHost();
  w.device = reg.getDevice();
  w.cores = reg.getCores();
  w.memory = reg.getMemoryBytes();
  w.gpu = std::make_unique<capnp::MallocMessageBuilder>();
  w.gpu->setRoot(reg.getGpu());
  w.jobId.clear();
  w.lastHeard = Clock::now();
  workerByPeer_[peer] = id;
  replyOk(workers_, peer);
  schedule();
}

void Coordinator::onSession(const std::string& peer, proto::Message::Reader m) {
  if (m.isAttach()) {
    Job* job = findJob(m.getAttach().getJobId());
    const uint32_t rank = m.getAttach().getRank();
    if (!job || job->info().getState() != proto::JobState::RUNNING ||
        rank >= job->rankWorkers.size())
      return replyError(workers_, peer,
                        "attach: no running job " + std::string(m.getAttach().getJobId().cStr()) +
                            " with rank " + std::to_string(rank));
    sessionByPeer_[peer] = {job->id(), rank};
    return replyOk(workers_, peer);
  }
  auto s = sessionByPeer_.find(peer);
  // §5.3: every job-session message comes after attach.
  if (s == sessionByPeer_.end()) return replyError(workers_, peer, "not attached to a job");
  Job* job = findJob(s->second.first);
  const uint32_t rank = s->second.second;
  if (!job) return replyError(workers_, peer, "no such job");
  switch (m.which()) {
    case proto::Message::STORE_SET: {
      const std::string key = m.getStoreSet().getKey();
      auto v = m.getStoreSet().getValue();
      job->store[key] = std::string(reinterpret_cast<const char*>(v.begin()), v.size());
      replyOk(workers_, peer);
      // Answer the gets that waited for this key.
      for (auto w = job->storeWaits.begin(); w != job->storeWaits.end();) {
        if (w->second != key) {
          ++w;
          continue;
        }
        reply(workers_, w->first, storeValue(key, job->store[key]));
        w = job->storeWaits.erase(w);
      }
      return;
    }
    case proto::Message::STORE_GET: {
      const std::string key = m.getStoreGet();
      auto it = job->store.find(key);
      if (it == job->store.end()) {
        job->storeWaits.push_back({peer, key});  // §5.4: answered once the key is set
        return;
      }
      return reply(workers_, peer, storeValue(key, it->second));
    }
    case proto::Message::PROGRESS: {
      auto p = m.getProgress();
      auto info = job->info();
      info.setEpoch(p.getEpoch());
      info.setStep(p.getStep());
      info.setStepsTotal(p.getStepsTotal());
      info.setLoss(p.getLoss());
      info.setSamplesPerSecond(p.getSamplesPerSecond());
      if (p.getLine().size())
        state_.appendLog(job->id(), timestamp() + " " + std::string(p.getLine().cStr()) + "\n");
      return;  // no reply (§5.3)
    }
    case proto::Message::CHECKPOINT:
      if (rank != 0) return replyError(workers_, peer, "checkpoint: only rank 0 sends checkpoints");
      try {
        state_.saveCheckpoint(job->id(), m.getCheckpoint());
        save(*job);
        return replyOk(workers_, peer);
      } catch (const std::exception& e) {
        log("job " + job->id() + ": cannot store checkpoint: " + e.what());
        return replyError(workers_, peer, std::string("cannot store the checkpoint: ") + e.what());
      }
    case proto::Message::FINISHED:
      replyOk(workers_, peer);
      sessionByPeer_.erase(peer);
      return rankFinished(*job, rank, m.getFinished().getOk(),
                          "rank " + std::to_string(rank) + " on worker " + job->rankWorkers[rank] +
                              ": " + std::string(m.getFinished().getReason().cStr()));
    default:
      return;
  }
}

void Coordinator::rankFinished(Job& job, uint32_t rank, bool ok, const std::string& reason,
                               bool workerLost) {
  if (rank < job.rankWorkers.size()) {
    auto w = workersById_.find(job.rankWorkers[rank]);
    if (w != workersById_.end() && w->second->jobId == job.id()) w->second->jobId.clear();
    job.rankDone[rank] = true;
  }
  const bool firstFailure = !ok && job.failure.empty();
  // A lost worker is the root cause when its peers' collectives failed first: its reason wins.
  if (firstFailure || workerLost) job.failure = reason;
  if (firstFailure) {
    releaseStoreWaits(job, "a rank failed");
    // The other ranks cannot go on without this one; tell them to stop.
    for (const std::string& wid : job.rankWorkers) {
      auto it = workersById_.find(wid);
      if (it == workersById_.end() || it->second->jobId != job.id()) continue;
      capnp::MallocMessageBuilder b;
      wire::start(b).setCancel(job.id());
      sendToWorker(*it->second, b);
    }
  }
  bool all = true;
  for (bool d : job.rankDone) all = all && d;
  if (!all || wire::jobEnded(job.info().getState())) {
    if (all) schedule();
    return;
  }
  if (!job.failure.empty())
    endJob(job, proto::JobState::FAILED, job.failure);
  else if (job.cancelRequested)
    endJob(job, proto::JobState::CANCELLED, "cancelled by the user");
  else if (!state_.hasCheckpoint(job.id()))
    endJob(job, proto::JobState::FAILED, "rank 0 finished without storing a result");
  else
    endJob(job, proto::JobState::COMPLETED, "");
  schedule();
}

void Coordinator::endJob(Job& job, proto::JobState state, const std::string& reason) {
  auto info = job.info();
  if (wire::jobEnded(info.getState())) return;
  info.setState(state);
  info.setReason(reason);
  info.setFinishedMs(nowMs());
  releaseStoreWaits(job, wire::jobStateName(state));
  save(job);
  state_.appendLog(job.id(), timestamp() + " " + wire::jobStateName(state) +
                                 (reason.empty() ? "" : ": " + reason) + "\n");
  log("job " + job.id() + " finished: " + wire::jobStateName(state) +
      (reason.empty() ? "" : " (" + reason + ")"));
}

void Coordinator::releaseStoreWaits(Job& job, const std::string& why) {
  // Ranks waiting on the store for a peer that will never come hear it now, not at their timeout.
  for (const auto& [peer, key] : job.storeWaits)
    replyError(workers_, peer,
               "job " + job.id() + " is ending (" + why + ") while waiting for " + key);
  job.storeWaits.clear();
}

void Coordinator::save(Job& job) { state_.saveRecord(job.info().asReader()); }

void Coordinator::schedule() {
  // §5.2: FIFO. The oldest pending job runs first; later ones wait behind it. A job takes only
  // workers of the device it asks for.
  auto fits = [](const Worker& w, proto::Device device) {
    return device == proto::Device::ANY ||
           (device == proto::Device::GPU) == w.device.starts_with("gpu");
  };
  bool blocked = false;
  for (auto& jp : jobs_) {
    Job& job = *jp;
    auto info = job.info();
    if (info.getState() != proto::JobState::PENDING) continue;
    const uint32_t want = info.getWorkers();
    const proto::Device device = job.job().getDevice();
    size_t idle = 0;
    for (auto& [id, w] : workersById_) idle += w->jobId.empty() && fits(*w, device);
    if (blocked || idle < want) {
      const std::string kind = device == proto::Device::GPU   ? "GPU "
                               : device == proto::Device::CPU ? "CPU "
                                                              : "";
      const std::string reason = blocked ? "waiting behind an earlier job"
                                         : "needs " + std::to_string(want) + " " + kind +
                                               "worker(s), " + std::to_string(idle) + " idle";
      if (reason != std::string(info.getReason().cStr())) {
        info.setReason(reason);
        save(job);
      }
      blocked = true;
      continue;
    }
    job.rankWorkers.clear();
    for (auto& [id, w] : workersById_)
      if (w->jobId.empty() && fits(*w, device) && job.rankWorkers.size() < want)
        job.rankWorkers.push_back(id);
    job.rankDone.assign(want, false);
    info.setState(proto::JobState::RUNNING);
    info.setReason("");
    info.setStartedMs(nowMs());
    auto ranks = info.initRanks(want);
    for (uint32_t r = 0; r < want; ++r) {
      ranks.set(r, job.rankWorkers[r]);
      Worker& w = *workersById_[job.rankWorkers[r]];
      w.jobId = job.id();
      w.rank = r;
      capnp::MallocMessageBuilder b;
      auto a = wire::start(b).initAssign();
      a.setJobId(job.id());
      a.setJob(job.job());
      a.setRank(r);
      a.setWorldSize(want);
      sendToWorker(w, b);
    }
    save(job);
    state_.appendLog(job.id(),
                     timestamp() + " started on " + std::to_string(want) + " worker(s)\n");
    log("job " + job.id() + " started on " + std::to_string(want) + " worker(s)");
  }
}

void Coordinator::sendToWorker(Worker& w, capnp::MallocMessageBuilder& message) {
  reply(workers_, w.peer, wire::encode(message));
  w.lastSent = Clock::now();
}

void Coordinator::heartbeats() {
  const auto now = Clock::now();
  std::vector<std::string> dead;
  for (auto& [id, w] : workersById_) {
    // §4: silent for kHeartbeatLiveness intervals means dead.
    if (now - w->lastHeard > wire::kHeartbeatInterval * wire::kHeartbeatLiveness) {
      dead.push_back(id);
    } else if (now - w->lastSent >= wire::kHeartbeatInterval) {
      capnp::MallocMessageBuilder b;
      wire::start(b).setHeartbeat();
      sendToWorker(*w, b);
    }
  }
  for (const auto& id : dead)
    loseWorker(id, "missed " + std::to_string(wire::kHeartbeatLiveness) + " heartbeats");
}

void Coordinator::loseWorker(const std::string& workerId, const std::string& why) {
  auto it = workersById_.find(workerId);
  if (it == workersById_.end()) return;
  std::unique_ptr<Worker> w = std::move(it->second);
  workersById_.erase(it);
  workerByPeer_.erase(w->peer);
  log("worker " + workerId + " lost: " + why);
  if (w->jobId.empty()) return;
  Job* job = findJob(w->jobId);
  if (!job) return;
  const std::string reason = "worker " + workerId + " (rank " + std::to_string(w->rank) +
                             ") lost at step " + std::to_string(job->info().getStep()) + ": " + why;
  rankFinished(*job, w->rank, false, reason, true);
}

}  // namespace tfmath
