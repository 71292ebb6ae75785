// coordinator.cc: the coordinator's wiring, and the carrying out of each job's transitions (§5.5).
#include "coordinator/coordinator.h"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <utility>

#include "base/printable.h"
#include "base/version.h"
#include "coordinator/local_socket.h"
#include "coordinator/scheduler.h"
#include "jobs/job_error.h"
#include "jobs/params_file.h"
#include "net/curve_keys.h"

namespace tfmath {

Coordinator::Coordinator(CoordinatorOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : steadyClock_),
      refusals_(
          clock_, [this](const std::string& line) { log(line); }, options_.refusalLogInterval),
      state_(options_.stateDir),
      ownContext_(options_.context ? nullptr : std::make_unique<zmq::context_t>()),
      context_(options_.context ? *options_.context : *ownContext_),
      workers_(clock_) {
  const bool inprocAllowed = options_.context != nullptr;  // a test shares its context
  clientEndpoint_ = options_.clientEndpoint.empty() ? "ipc://" + state_.root() + "/coordinator.sock"
                                                    : options_.clientEndpoint;
  ClientIdentity identity;
  if (clientEndpoint_.starts_with("tcp://"))
    identity.kind = ClientIdentity::Kind::tcp;
  else if (inprocAllowed && clientEndpoint_.starts_with("inproc://"))
    identity.kind = ClientIdentity::Kind::inproc;
  else if (!clientEndpoint_.starts_with("ipc://"))
    throw std::runtime_error("--client-endpoint " + clientEndpoint_ + ": must be ipc:// or tcp://");
  const bool workersInproc = inprocAllowed && options_.workerEndpoint.starts_with("inproc://");
  if (!workersInproc && !options_.workerEndpoint.starts_with("tcp://"))
    throw std::runtime_error("--worker-endpoint " + options_.workerEndpoint + ": must be tcp://");
  identity.ownUser = userName(geteuid());
  identity.admins = options_.admins;
  identity.trustOwnUser = options_.trustOwnUser;
  ownUser_ = identity.ownUser;

  auto refused = [this](const std::string& key, const std::string& line) { refusals_(key, line); };
  // §8: every tcp endpoint is a CURVE server; ZAP admits workers and authorized clients.
  ClusterKeyFiles keys(options_.keysFolder.empty() ? state_.root() + "/keys" : options_.keysFolder);
  if (keys.createMissing()) log("made new cluster keys in " + keys.folder);
  const KeyPair own = readSecretKeyFile(keys.coordinatorSecret());
  if (options_.authorizedClients.empty())
    options_.authorizedClients = keys.folder + "/authorized_clients";
  readAuthorizedClients(options_.authorizedClients);  // a bad file stops the start, not a handshake
  authenticator_ = std::make_unique<Authenticator>(context_, readPublicKeyFile(keys.workerPublic()),
                                                   options_.authorizedClients, refused);
  loop_ = std::make_unique<EventLoop>(
      context_, [this](const std::string& line) { log(line); }, refused);
  // An inproc endpoint (tests only) carries no security handshake at all.
  if (!workersInproc) makeCurveServer(loop_->workers(), own, kWorkersDomain);
  clientHandshakes_ = std::make_unique<HandshakeMonitor>(
      context_, loop_->clients(), HandshakeMonitor::Watch{.connections = true});
  workerHandshakes_ = std::make_unique<HandshakeMonitor>(context_, loop_->workers());
  if (identity.kind == ClientIdentity::Kind::tcp)
    makeCurveServer(loop_->clients(), own, kClientsDomain);
  else if (identity.kind == ClientIdentity::Kind::ipc)
    loop_->clients().set(zmq::sockopt::zap_domain, kLocalClientsDomain);
  // A new client connection is counted (its ACCEPTED event) before its handshake asks ZAP.
  authenticator_->limitClients([this]() -> std::string {
    readMonitor(*clientHandshakes_, "client");
    if (openClients_.size() <= options_.maxClientConnections) return "";
    return "the coordinator has " + std::to_string(openClients_.size() - 1) +
           " client connections open, its limit (--max-client-connections " +
           std::to_string(options_.maxClientConnections) + ")";
  });
  loop_->clients().bind(clientEndpoint_);
  loop_->workers().bind(options_.workerEndpoint);
  clientEndpoint_ = loop_->clients().get(zmq::sockopt::last_endpoint);
  if (!options_.clientSocketGroup.empty()) {
    if (identity.kind != ClientIdentity::Kind::ipc)
      throw std::runtime_error("--client-socket-group needs an ipc:// client endpoint, not " +
                               clientEndpoint_);
    shareSocketWithGroup(clientEndpoint_.substr(std::string("ipc://").size()),
                         options_.clientSocketGroup);
  }
  workerEndpoint_ = loop_->workers().get(zmq::sockopt::last_endpoint);

  JobControl& control = *this;
  clients_ =
      std::make_unique<ClientApi>(*loop_, control, workers_, state_, clock_, std::move(identity),
                                  DataAccess::withinRoots(options_.dataRoots), options_.limits,
                                  [this](const std::string& line) { log(line); });
  loop_->watch(authenticator_->socket(), [this] { authenticator_->handle(); });
  // §8: handshakes that fail before ZAP is asked (a plaintext peer, a wrong server key); the
  // authenticator has logged those it refused.
  for (auto* m : {clientHandshakes_.get(), workerHandshakes_.get()}) {
    const std::string side = m == clientHandshakes_.get() ? "client" : "worker";
    loop_->watch(m->socket(), [this, m, side] { readMonitor(*m, side); });
  }
  loop_->onClient([this](const std::string& peer, const zmq::message_t& frame) {
    clients_->handle(peer, frame);
  });
  workerApi_ = std::make_unique<WorkerApi>(*loop_, control, workers_, state_,
                                           [this](const std::string& line) { log(line); });
  loop_->onWorker([this](const std::string& peer, const zmq::message_t& frame) {
    workerApi_->handle(peer, frame);
  });
  loop_->afterDrain([this] { liveness(); });
  if (!options_.metricsEndpoint.empty()) {
    metricsServer_ = std::make_unique<MetricsServer>(options_.metricsEndpoint);
    log("Prometheus metrics on http://" + metricsServer_->endpoint() + "/metrics");
  }

  // §7: a restarted coordinator lists every job it ever accepted. The ranks of a job that was
  // running train on, and have the lease to return (§5.7); pending jobs stay pending.
  for (const std::string& id : state_.jobIds()) {
    nextId_ = std::max<uint64_t>(nextId_, std::stoull(id) + 1);  // ID_I: ID, the array's
    auto job = std::make_unique<Job>();
    try {
      if (!state_.loadJob(id, job->jobMessage) || !state_.loadRecord(id, job->infoMessage))
        continue;
    } catch (const std::exception& e) {
      // A damaged file costs its job only: named here, never quoted; every other job is served.
      log("job " + id + " is not served: " + e.what());
      continue;
    }
    job->life = JobLifecycle(job->info().getState());
    if (job->life.phase() == JobPhase::running) awaitRanks(*job);
    jobs_.push_back(std::move(job));
  }
  log("coordinator up: clients on " + clientEndpoint_ + ", workers on " + workerEndpoint_ + ", " +
      std::to_string(jobs_.size()) + " job(s) on record");
}

Coordinator::~Coordinator() = default;

std::string Coordinator::timestamp() const {
  char text[32];
  const std::time_t t = static_cast<std::time_t>(clock_.wallMs() / 1000);
  std::tm local{};
  localtime_r(&t, &local);
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

void Coordinator::log(const std::string& line) {
  // Lines carry names and reasons that users and peers wrote: escaped, one line each.
  std::fprintf(stderr, "%s %s\n", timestamp().c_str(), escapeForTerminal(line).c_str());
  std::fflush(stderr);
}

void Coordinator::readMonitor(HandshakeMonitor& monitor, const std::string& side) {
  using Connection = HandshakeMonitor::Event::Connection;
  while (monitor.pending()) {
    const auto e = monitor.read();
    if (e.connection == Connection::opened)
      openClients_.insert(e.fd);
    else if (e.connection == Connection::closed)
      openClients_.erase(e.fd);
    else if (e.failure != HandshakeMonitor::Failure::keyRefused)
      refusals_(side + " handshakes", "a " + side + " handshake failed: " + e.text);
  }
}

void Coordinator::publishMetrics() {
  lastPublished_ = clock_.now();
  ExpositionSnapshot s;
  s.version = kTfmathVersion;
  s.jobsSubmitted = jobs_.size();  // every job stays on record
  for (auto state : {proto::JobState::PENDING, proto::JobState::RUNNING, proto::JobState::COMPLETED,
                     proto::JobState::FAILED, proto::JobState::CANCELLED})
    s.jobs[wire::jobStateName(state)] = 0;
  for (const char* state : {"busy", "idle"})
    for (const char* device : {"cpu", "gpu"}) s.workers[{state, device}] = 0;
  for (auto& [id, w] : workers_.all()) {
    const bool gpu = w->device.starts_with("gpu");
    ++s.workers[{w->jobId.empty() ? "idle" : "busy", gpu ? "gpu" : "cpu"}];
    ExpositionSnapshot::Worker row;
    row.id = id;
    row.heartbeatAgeSeconds = std::chrono::duration<double>(clock_.now() - w->lastHeard).count();
    row.gpu = gpu && w->gpu != nullptr;
    if (row.gpu) {
      auto info = w->gpu->getRoot<proto::GpuInfo>().asReader();
      if (info.getUtilizationPercent() >= 0)
        row.gpuUtilization = info.getUtilizationPercent() / 100.0;
      row.gpuMemoryUsedBytes = static_cast<double>(info.getMemoryUsedBytes());
    }
    s.workerRows.push_back(row);
  }
  for (auto& job : jobs_) {
    const auto state = job->info().getState();
    ++s.jobs[wire::jobStateName(state)];
    if (state != proto::JobState::RUNNING) continue;  // per-job series leave when the job ends
    ExpositionSnapshot::Job row;
    row.id = job->id();
    row.backend = job->job().getDevice() == proto::Device::GPU ? "nccl" : "gloo";
    row.samplesTotal = job->samplesTrained;
    row.trainLoss = job->recentLosses.empty() ? NAN : job->recentLosses.back();
    row.testLoss = job->info().getTestLoss();
    int ranks = 0;
    for (auto& [wid, w] : workers_.all())
      if (w->jobId == row.id && w->stepSeconds > 0) {
        row.stepSeconds += w->stepSeconds;
        row.allreduceSeconds += w->allreduceSeconds;
        ++ranks;
      }
    if (ranks) row.stepSeconds /= ranks, row.allreduceSeconds /= ranks;
    s.jobRows.push_back(row);
  }
  metricsServer_->publish(s);
}

void Coordinator::save(Job& job) { state_.saveRecord(job.info().asReader()); }

std::unique_ptr<ParameterStateFile> Coordinator::loadCheckpoint(const std::string& id) {
  std::string note;
  auto file = state_.loadCheckpoint(id, note);
  if (!note.empty()) {
    log("job " + id + ": " + note);
    state_.appendLog(id, timestamp() + " " + note + "\n");
  }
  return file;
}

Job* Coordinator::findJob(const std::string& id) {
  for (auto& j : jobs_)
    if (j->id() == id) return j.get();
  return nullptr;
}

void Coordinator::run(const std::atomic<bool>& stop) {
  while (!stop) step(std::chrono::milliseconds(100));
}

size_t Coordinator::step(std::chrono::milliseconds timeout) { return loop_->step(timeout); }

// ---- jobs and their transitions (§5.5) ----

std::string Coordinator::addJob(const std::string& user, proto::Submit::Reader submit) {
  const std::string id = std::to_string(nextId_++);
  auto job = newJob(id, user, submit.getJob(), submit.getDependency());
  job->info().setInitFrom(submit.getInitFrom());
  journal(std::move(job), submit.getInitial());
  schedule();
  return id;
}

std::string Coordinator::addArray(const std::string& user, proto::SubmitArray::Reader array) {
  const std::string id = std::to_string(nextId_++);
  const size_t before = jobs_.size();
  try {
    for (unsigned i = 0; i < array.getJobs().size(); ++i) {
      auto job =
          newJob(id + "_" + std::to_string(i), user, array.getJobs()[i], array.getDependency());
      job->info().setArrayMaxRunning(array.getMaxRunning());
      job->info().setOverrides(array.getOverrides()[i]);
      journal(std::move(job));
    }
  } catch (...) {
    // All of the array or none of it: the client hears of the failure, and a retry makes no
    // duplicates.
    for (size_t i = before; i < jobs_.size(); ++i) state_.removeJob(jobs_[i]->id());
    jobs_.resize(before);
    throw;
  }
  schedule();
  return id;
}

std::unique_ptr<Job> Coordinator::newJob(const std::string& id, const std::string& user,
                                         proto::Job::Reader submitted,
                                         proto::Dependency::Reader dependency) {
  auto job = std::make_unique<Job>();
  job->jobMessage.setRoot(submitted);
  auto info = job->info();
  info.setId(id);
  info.setUser(user);  // §8: the authenticated user, never what the client claims
  info.setName(submitted.getName());
  info.setState(proto::JobState::PENDING);
  info.setWorkers(submitted.getWorkers());
  info.setEpochs(submitted.getEpochs());
  info.setSubmittedMs(clock_.wallMs());
  if (dependency.getJobs().size() > 0) info.setDependency(dependency);
  return job;
}

void Coordinator::journal(std::unique_ptr<Job> job, proto::ParameterState::Reader initial) {
  const std::string id = job->id(), user = job->info().getUser().cStr();
  // A failed write throws before the job is kept: the client hears of it, and no job is half there.
  state_.saveJob(id, job->job());
  if (initial.getTensors().size() > 0) state_.saveInitial(id, initial);
  save(*job);
  state_.appendLog(id, timestamp() + " submitted by " + user + "\n");
  log("job " + id + " submitted: " + std::string(job->info().getName().cStr()) + " by " + user +
      ", " + std::to_string(job->info().getWorkers()) + " worker(s)");
  jobs_.push_back(std::move(job));
}

void Coordinator::cancelJob(Job& job) {
  const JobEffects e = job.life.cancel();
  if (job.life.phase() == JobPhase::cancelling) log("job " + job.id() + " cancel requested");
  apply(job, e);
}

void Coordinator::rankFinished(Job& job, uint32_t rank, bool ok, const std::string& reason) {
  if (rank >= job.rankWorkers.size()) return;
  Worker* w = workers_.byId(job.rankWorkers[rank]);
  if (w && w->jobId == job.id()) w->jobId.clear();  // idle again
  apply(job, job.life.rankFinished(rank, ok, reason, state_.hasCheckpoint(job.id())));
}

void Coordinator::apply(Job& job, const JobEffects& e) {
  if (!e.note.empty()) log("job " + job.id() + ": " + e.note);
  if (!e.releaseStore.empty()) releaseStoreWaits(job, e.releaseStore);
  // A requeued job's sessions stay, so that a stale rank hears that its attempt is over.
  if (e.ended) workerApi_->forgetSessions(job.id());
  if (e.requeued) {
    requeue(job);
    return schedule();
  }
  if (e.stopRanks) {
    for (uint32_t r = 0; r < job.rankWorkers.size(); ++r) {
      Worker* w = workers_.byId(job.rankWorkers[r]);
      if (!w || w->jobId != job.id() || job.life.rankDone(r)) continue;
      capnp::MallocMessageBuilder b;
      wire::start(b).setCancel(job.id());
      sendToWorker(*w, b);
    }
  }
  if (!e.ended) return;
  auto info = job.info();
  const std::string state = wire::jobStateName(publicState(job.life.phase()));
  std::string reason = job.life.reason();
  if (reason.empty() && info.getAttempt() > 0)  // §5.6: a completed job says what recovery cost
    reason = "after " + std::to_string(info.getAttempt()) + " restart(s); " +
             std::to_string(info.getStepsLost()) + " step(s) redone";
  info.setState(publicState(job.life.phase()));
  info.setReason(reason);
  info.setFinishedMs(clock_.wallMs());
  save(job);
  state_.appendLog(job.id(),
                   timestamp() + " " + state + (reason.empty() ? "" : ": " + reason) + "\n");
  log("job " + job.id() + " finished: " + state + (reason.empty() ? "" : " (" + reason + ")"));
  schedule();
}

void Coordinator::releaseStoreWaits(Job& job, const std::string& why) {
  // §5.4: ranks waiting on the store for a peer that will never come hear it now, not at their
  // timeout.
  for (const auto& w : job.store.release())
    loop_->replyError(loop_->workers(), w.peer,
                      "job " + job.id() + " is ending (" + why + ") while waiting for " + w.key);
}

void Coordinator::schedule() {
  // A job that ends inside (a dependency never met, a worker lost while starting) asks again:
  // this loop runs once more instead of a nested call placing the same idle workers twice.
  if (scheduling_) {
    scheduleAgain_ = true;
    return;
  }
  scheduling_ = true;
  // A write that fails inside (a full disk) reaches the event loop, which serves on: the guard
  // must not stay up, or no job would ever start again.
  struct Lowered {
    bool& flag;
    ~Lowered() { flag = false; }
  } lowered{scheduling_};
  do {
    scheduleAgain_ = false;
    std::vector<Job*> changed, never;
    const auto placed = placeJobs(jobs_, workers_, clock_.wallMs(), changed, never);
    for (Job* job : changed) save(*job);
    for (Job* job : never) apply(*job, job->life.cancelPending("DependencyNeverSatisfied"));
    if (!never.empty()) {
      scheduleAgain_ = true;  // those that depend on these, and a fresh placement
      continue;
    }
    for (const auto& p : placed) start(*p.job, p.workers);
  } while (scheduleAgain_);
}

void Coordinator::start(Job& job, const std::vector<std::string>& workerIds) {
  auto info = job.info();
  const uint32_t attempt = info.getAttempt();
  // A requeued job resumes from its latest checkpoint (§5.6); without one it starts afresh.
  std::unique_ptr<ParameterStateFile> resume;
  if (attempt > 0 && state_.hasCheckpoint(job.id())) {
    try {
      resume = loadCheckpoint(job.id());
    } catch (const JobError& e) {
      return apply(job, job.life.failPending(std::string("resume: ") + e.what()));
    }
  }
  // The parameters it starts from: another job's (the scheduler started it only once that job
  // COMPLETED, which stored them), or those sent with it. Unreadable: it can never run.
  std::unique_ptr<ParameterStateFile> initial;
  try {
    if (resume) {
      // the checkpoint holds the parameters, trained further
    } else if (const std::string from = info.getInitFrom().cStr(); !from.empty()) {
      initial = loadCheckpoint(from);
    } else if (state_.hasInitial(job.id())) {  // sent with the job
      initial = state_.loadInitial(job.id());
    }
  } catch (const JobError& e) {
    return apply(job, job.life.cancelPending(std::string("init-from: ") + e.what()));
  }
  const auto want = static_cast<uint32_t>(workerIds.size());
  const uint32_t before = info.getRanks().size();
  const uint64_t from = resume ? resume->state().getStep() : 0;
  job.rankWorkers = workerIds;
  job.life.start(want);
  job.stepReached = from;
  info.setStep(from);  // until the first progress of this attempt
  info.setState(publicState(job.life.phase()));
  info.setReason("");
  info.setRequeued("");
  info.setStartedMs(clock_.wallMs());
  auto ranks = info.initRanks(want);
  for (uint32_t r = 0; r < want; ++r) {
    ranks.set(r, workerIds[r]);
    Worker& w = *workers_.byId(workerIds[r]);
    w.jobId = job.id();
    w.rank = r;
    w.stepSeconds = w.allreduceSeconds = 0;  // until its rank's first window
    capnp::MallocMessageBuilder b;
    auto a = wire::start(b).initAssign();
    a.setJobId(job.id());
    a.setJob(job.job());
    a.setRank(r);
    a.setWorldSize(want);
    a.setOwnUserJob(options_.trustOwnUser && ownUser_ == job.info().getUser().cStr());
    a.setAttempt(attempt);
    if (resume) a.setResume(resume->state());
    if (initial) a.initInitial().setTensors(initial->state().getTensors());
    sendToWorker(w, b);
  }
  std::string line = "started on " + std::to_string(want) + " worker(s)";
  if (attempt > 0) {
    line = "resumed on " + std::to_string(want) + " worker(s) at step " + std::to_string(from) +
           " (attempt " + std::to_string(attempt) + ")";
    if (before != want)
      line += "; the world size changed from " + std::to_string(before) + " to " +
              std::to_string(want) + ", the global batch did not";
    info.setReason("resumed at step " + std::to_string(from) + " after " + std::to_string(attempt) +
                   " restart(s); " + std::to_string(info.getStepsLost()) + " step(s) redone");
  }
  save(job);
  state_.appendLog(job.id(), timestamp() + " " + line + "\n");
  log("job " + job.id() + " " + line);
}

void Coordinator::sendToWorker(Worker& w, capnp::MallocMessageBuilder& message) {
  loop_->reply(loop_->workers(), w.peer, wire::encode(message));
  workers_.sent(w);
}

void Coordinator::liveness() {
  // A loop that did not turn for over an interval was itself stopped (SIGSTOP, a stalled host):
  // the workers' silence in that time is the coordinator's, and none of them is lost for it.
  const auto turn = std::chrono::steady_clock::now();
  if (lastLiveness_ != std::chrono::steady_clock::time_point{} &&
      turn - lastLiveness_ > wire::kHeartbeatInterval) {
    workers_.heardAll();
    log("the coordinator did not run for " +
        std::to_string(
            std::chrono::duration_cast<std::chrono::milliseconds>(turn - lastLiveness_).count()) +
        " ms; its workers' liveness starts afresh");
  }
  lastLiveness_ = turn;
  // §5.7: the ranks of a job that ran before the restart and have not returned within the lease
  // are lost.
  for (size_t i = 0; i < jobs_.size(); ++i) {
    Job& job = *jobs_[i];
    if (job.awaited.empty() || clock_.now() < job.returnBy) continue;
    const std::vector<bool> awaited = std::exchange(job.awaited, {});
    for (uint32_t r = 0; r < awaited.size(); ++r)
      if (awaited[r])
        loseRank(job, r, job.rankWorkers[r],
                 "did not return within the " +
                     std::to_string(options_.workerLease.count() / 1000) +
                     " s worker lease after the coordinator restarted");
  }
  refusals_.flush();
  if (metricsServer_ && clock_.now() - lastPublished_ >= std::chrono::seconds(1)) publishMetrics();
  // §4: silent for HEARTBEAT_LIVENESS intervals means dead; one interval without anything sent
  // earns a heartbeat.
  for (const auto& id : workers_.silent())
    loseWorker(id, "missed " + std::to_string(wire::kHeartbeatLiveness) + " heartbeats");
  // §5.6: a requeued job's elastic wait runs out with no event to mark it.
  if (clock_.now() - lastElasticCheck_ >= std::chrono::seconds(1)) {
    lastElasticCheck_ = clock_.now();
    for (auto& job : jobs_)
      if (job->life.phase() == JobPhase::pending && job->info().getAttempt() > 0) {
        schedule();
        break;
      }
  }
  for (Worker* w : workers_.dueHeartbeat()) {
    capnp::MallocMessageBuilder b;
    wire::start(b).setHeartbeat();
    sendToWorker(*w, b);
  }
}

void Coordinator::loseWorker(const std::string& workerId, const std::string& why) {
  std::unique_ptr<Worker> w = workers_.remove(workerId);
  if (!w) return;
  log("worker " + workerId + " lost: " + why);
  if (w->jobId.empty()) return;
  if (Job* job = findJob(w->jobId)) loseRank(*job, w->rank, workerId, why);
}

void Coordinator::loseRank(Job& job, uint32_t r, const std::string& workerId,
                           const std::string& why) {
  const std::string rank = "worker " + workerId + " (rank " + std::to_string(r) + ")";
  const uint64_t step = std::max(job.stepReached, job.info().getStep());
  std::string reason = rank + " lost at step " + std::to_string(step) + ": " + why;
  state_.appendLog(job.id(), timestamp() + " lost " + reason + "\n");
  // §5.6: while restarts remain, the job is requeued; past them it fails, listing every loss.
  const uint32_t restarts = job.info().getAttempt(), allowed = job.job().getMaxRestarts();
  const bool mayRequeue = restarts < allowed;
  if (!mayRequeue && restarts > 0) {
    std::string all;
    for (auto f : job.info().getFailures()) all += std::string(f.cStr()) + "; ";
    reason = "lost a worker " + std::to_string(restarts + 1) +
             " times, past maxRestarts = " + std::to_string(allowed) + ": " + all + reason;
  }
  if (job.lostRank.empty()) job.lostRank = rank, job.lostWhy = why;
  apply(job, job.life.rankLost(r, reason, state_.hasCheckpoint(job.id()), mayRequeue));
}

void Coordinator::awaitRanks(Job& job) {
  auto info = job.info();
  const uint32_t ranks = info.getRanks().size();
  job.rankWorkers.clear();
  for (auto w : info.getRanks()) job.rankWorkers.push_back(w.cStr());
  job.life.awaitRanks(ranks);
  job.awaited.assign(ranks, true);
  job.returnBy = clock_.now() + options_.workerLease;
  job.stepReached = info.getStep();
  const std::string line = "the coordinator restarted; waiting up to " +
                           std::to_string(options_.workerLease.count() / 1000) + " s for the " +
                           std::to_string(ranks) + " rank(s) to return";
  info.setReason(line);
  save(job);
  state_.appendLog(job.id(), timestamp() + " " + line + "\n");
}

bool Coordinator::adoptRank(const std::string& workerId, proto::Attach::Reader running,
                            uint64_t step) {
  Job* job = findJob(running.getJobId());
  const uint32_t r = running.getRank();
  const JobPhase phase = job ? job->life.phase() : JobPhase::failed;
  if (!job || phase == JobPhase::pending || isFinal(phase) ||
      running.getAttempt() != job->info().getAttempt() || r >= job->rankWorkers.size() ||
      job->rankWorkers[r] != workerId || job->life.rankDone(r))
    return true;  // a rank of no live attempt
  Worker* w = workers_.byId(workerId);
  assert(w);
  w->jobId = job->id();
  w->rank = r;
  job->stepReached = std::max(job->stepReached, step);
  if (r < job->awaited.size() && job->awaited[r]) {
    job->awaited[r] = false;
    std::string line = "rank " + std::to_string(r) + " on worker " + workerId +
                       " returned at step " + std::to_string(step);
    if (std::find(job->awaited.begin(), job->awaited.end(), true) == job->awaited.end()) {
      job->awaited.clear();
      line += "; every rank is back, the job goes on";
      job->info().setReason("");
      save(*job);
    }
    state_.appendLog(job->id(), timestamp() + " " + line + "\n");
    log("job " + job->id() + ": " + line);
  }
  return phase != JobPhase::running;  // a stopping job's rank may have missed its cancel
}

void Coordinator::requeue(Job& job) {
  // §5.6: every rank of the attempt has stopped. The next resumes from the latest checkpoint (or
  // starts afresh without one) on the same global batch, so the math is unchanged.
  auto info = job.info();
  const uint64_t from = state_.hasCheckpoint(job.id()) ? info.getCheckpointStep() : 0;
  const uint64_t reached = std::max(job.stepReached, info.getStep());
  const uint64_t redo = reached > from ? reached - from : 0;
  const std::string loss =
      job.lostRank + " lost at step " + std::to_string(reached) + ": " + job.lostWhy;
  const std::string note = "requeued: " + loss + "; resumes at step " + std::to_string(from);
  auto failures = info.getFailures();
  auto more = info.initFailures(failures.size() + 1);  // orphans the old list: small, and rare
  for (unsigned i = 0; i < failures.size(); ++i) more.set(i, failures[i]);
  more.set(failures.size(), loss);
  info.setAttempt(info.getAttempt() + 1);
  info.setStepsLost(info.getStepsLost() + redo);
  info.setState(publicState(job.life.phase()));
  info.setReason(note);
  info.setRequeued(note);
  info.setRequeuedMs(clock_.wallMs());
  job.store = RendezvousStore();
  job.lostRank.clear();
  job.lostWhy.clear();
  save(job);
  state_.appendLog(job.id(), timestamp() + " " + note + "; " + std::to_string(redo) +
                                 " step(s) to redo (restart " + std::to_string(info.getAttempt()) +
                                 " of at most " + std::to_string(job.job().getMaxRestarts()) +
                                 ")\n");
  log("job " + job.id() + " " + note);
}

}  // namespace tfmath
