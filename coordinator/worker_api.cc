// worker_api.cc: the worker socket's dialogs: registration, heartbeats and job sessions (§5).
#include "coordinator/worker_api.h"

#include "net/wire.h"

namespace tfmath {

namespace {

// The answer to a store get.
zmq::message_t storeValue(const std::string& key, const std::string& value) {
  capnp::MallocMessageBuilder b;
  auto e = wire::start(b).initStoreValue();
  e.setKey(key);
  e.setValue(kj::arrayPtr(reinterpret_cast<const kj::byte*>(value.data()), value.size()));
  return wire::encode(b);
}

// Why a job's store no longer lets gets wait, as the error to those gets says it.
std::string endingWhy(JobPhase phase) {
  switch (phase) {
    case JobPhase::cancelling:
      return "cancelled";
    case JobPhase::failing:
      return "a rank failed";
    default:
      return jobPhaseName(phase);
  }
}

}  // namespace

WorkerApi::WorkerApi(EventLoop& loop, JobControl& jobs, WorkerRegistry& workers,
                     const StateDir& state, EventLoop::Log log)
    : loop_(loop), jobs_(jobs), workers_(workers), state_(state), log_(std::move(log)) {}

void WorkerApi::handle(const std::string& peer, const zmq::message_t& frame) {
  try {
    wire::Decoded d(frame);
    auto m = d.message();
    workers_.heard(peer);  // §4: any message is a sign of life
    Worker* known = workers_.byPeer(peer);
    switch (m.which()) {
      case proto::Message::REGISTER:
        return registerWorker(peer, m.getRegister());
      case proto::Message::WORKER_LOAD:
      case proto::Message::GPU_STATUS:
        if (known) {
          auto& slot = m.isGpuStatus() ? known->gpu : known->load;
          slot = std::make_unique<capnp::MallocMessageBuilder>();
          if (m.isGpuStatus())
            slot->setRoot(m.getGpuStatus());
          else
            slot->setRoot(m.getWorkerLoad());
        }
        [[fallthrough]];  // it is the worker's heartbeat
      case proto::Message::HEARTBEAT:
        // §5.1: a heartbeat from a peer that never registered is answered with an error, so a
        // worker that outlived a coordinator restart registers again.
        if (!known) loop_.replyError(loop_.workers(), peer, "not registered");
        return;
      case proto::Message::ATTACH:
      case proto::Message::PROGRESS:
      case proto::Message::METRICS_POINT:
      case proto::Message::CHECKPOINT:
      case proto::Message::FINISHED:
      case proto::Message::STORE_SET:
      case proto::Message::STORE_GET:
        return onSession(peer, m);
      default:
        return loop_.replyError(loop_.workers(), peer,
                                "unexpected command " +
                                    std::to_string(static_cast<int>(m.which())) +
                                    " on the worker socket (docs/protocol.md §5)");
    }
  } catch (const wire::ProtocolError& e) {
    loop_.refused("the worker socket",
                  "rejected a message from worker-side " + peerName(peer) + ": " + e.what());
    loop_.replyError(loop_.workers(), peer, std::string("malformed: ") + e.what());
  } catch (const kj::Exception& e) {
    loop_.replyError(loop_.workers(), peer, std::string("malformed: ") + e.getDescription().cStr());
  }
}

void WorkerApi::registerWorker(const std::string& peer, proto::Register::Reader reg) {
  const std::string id = reg.getWorkerId();
  if (id.empty())
    return loop_.replyError(loop_.workers(), peer, "register.workerId: must not be empty");
  // §5.1: registering again means the worker reconnected and holds no job any more, unless it
  // still trains the very rank it had (§5.7: the coordinator was away for a while).
  auto running = reg.getRunning();
  if (Worker* w = workers_.byId(id);
      w && !w->jobId.empty() &&
      !(reg.hasRunning() && w->jobId == running.getJobId().cStr() && w->rank == running.getRank()))
    jobs_.loseWorker(id, "re-registered, so it lost its rank");
  if (!workers_.byId(id)) {
    std::string what = reg.getDevice().cStr();
    if (reg.getGpu().getName().size()) what.append(" ").append(reg.getGpu().getName().cStr());
    log_("worker " + id + " joined (" + what + ", " + std::to_string(reg.getCores()) + " cores)");
  }
  workers_.add(peer, reg);
  loop_.replyOk(loop_.workers(), peer);
  if (reg.hasRunning() && jobs_.adoptRank(id, running, reg.getRunningStep())) {
    // A rank of no live attempt, or of a job that is stopping: the worker stops it.
    capnp::MallocMessageBuilder b;
    wire::start(b).setCancel(running.getJobId());
    loop_.reply(loop_.workers(), peer, wire::encode(b));
  }
  jobs_.schedule();
}

void WorkerApi::storeGet(Job& job, const std::string& peer, const std::string& key) {
  if (auto value = job.store.find(key))
    return loop_.reply(loop_.workers(), peer, storeValue(key, *value));
  // §5.4: a get waits for its key only while the job runs; once it is being cancelled or has
  // failed, the peer it waits for may never come, so it is refused at once.
  if (!job.life.storeOpen())
    return loop_.replyError(loop_.workers(), peer,
                            "job " + job.id() + " is ending (" + endingWhy(job.life.phase()) +
                                ") while waiting for " + key);
  job.store.wait(peer, key);
}

void WorkerApi::notePoint(Job& job, proto::MetricsPoint::Reader point) {
  const uint32_t rank = point.getRank();
  if (point.getKind() == proto::MetricsPoint::Kind::EPOCH) {
    if (rank == 0) {
      job.info().setTestLoss(point.getTestLoss());
      job.info().setTestAccuracy(point.getTestAccuracy());
    }
    return;
  }
  if (rank < job.rankWorkers.size())
    if (Worker* w = workers_.byId(job.rankWorkers[rank]); w && w->jobId == job.id()) {
      w->stepSeconds = point.getStepSeconds();
      w->allreduceSeconds = point.getAllreduceSeconds();
    }
  if (rank != 0) return;
  job.samplesTrained += point.getSamplesPerSecond() * point.getStepSeconds() * point.getSteps();
  job.recentLosses.push_back(static_cast<float>(point.getTrainLoss()));
  if (job.recentLosses.size() > kRecentLosses) job.recentLosses.pop_front();
}

void WorkerApi::forgetSessions(const std::string& jobId) {
  std::erase_if(sessionByPeer_, [&](const auto& entry) { return entry.second.jobId == jobId; });
}

Job* WorkerApi::liveJobOf(const std::string& peer, const Session& s, proto::Message::Which which) {
  Job* job = jobs_.findJob(s.jobId);
  if (!job) {
    loop_.replyError(loop_.workers(), peer, "no such job");
    return nullptr;
  }
  // §5.6: a rank of an earlier attempt (frozen past its liveness, then woken), or one already
  // counted as lost, may change nothing: not the store, the checkpoint or the progress.
  const uint32_t attempt = job->info().getAttempt();
  std::string why;
  if (s.attempt != attempt)
    why = "attempt " + std::to_string(s.attempt) + " of job " + s.jobId + " is over (now " +
          std::to_string(attempt) + ")";
  else if (job->life.phase() == JobPhase::pending || job->life.rankDone(s.rank))
    why = "rank " + std::to_string(s.rank) + " of job " + s.jobId + " has ended";
  if (why.empty()) return job;
  // Messages that have no answer are dropped in silence; the others hear why.
  if (which != proto::Message::PROGRESS && which != proto::Message::METRICS_POINT)
    loop_.replyError(loop_.workers(), peer, why);
  return nullptr;
}

void WorkerApi::onSession(const std::string& peer, proto::Message::Reader m) {
  auto& sock = loop_.workers();
  if (m.isAttach()) {
    auto a = m.getAttach();
    Job* job = jobs_.findJob(a.getJobId());
    const uint32_t rank = a.getRank();
    if (!job || job->info().getState() != proto::JobState::RUNNING ||
        rank >= job->rankWorkers.size())
      return loop_.replyError(sock, peer,
                              "attach: no running job " + std::string(a.getJobId().cStr()) +
                                  " with rank " + std::to_string(rank));
    const Session s{job->id(), rank, a.getAttempt()};
    if (!liveJobOf(peer, s, m.which())) return;
    sessionByPeer_[peer] = s;
    return loop_.replyOk(sock, peer);
  }
  auto s = sessionByPeer_.find(peer);
  // §5.3: every job-session message comes after attach. Reports that have no answer are dropped:
  // they come from a session that a restart made unknown, until it attaches again (§5.7).
  if (s == sessionByPeer_.end()) {
    if (m.isProgress() || m.isMetricsPoint()) return;
    return loop_.replyError(sock, peer, "not attached to a job");
  }
  const uint32_t rank = s->second.rank;
  Job* job = liveJobOf(peer, s->second, m.which());
  if (!job) return;
  if (m.isStoreSet() || m.isStoreGet()) {
    const std::string key = m.isStoreSet() ? m.getStoreSet().getKey() : m.getStoreGet();
    const std::string prefix = wire::storeKeyPrefix(s->second.attempt);
    if (!key.starts_with(prefix))
      return loop_.replyError(
          sock, peer,
          "store key " + key + ": must start with " + prefix + ", the session's attempt");
  }
  switch (m.which()) {
    case proto::Message::STORE_SET: {
      const std::string key = m.getStoreSet().getKey();
      // §5.4: once the job is stopping, no rank may join the rendezvous: its peers have been, or
      // will be, refused the key, so a rank that set it would wait for them in vain.
      if (!job->life.storeOpen())
        return loop_.replyError(sock, peer,
                                "job " + job->id() + " is ending (" + endingWhy(job->life.phase()) +
                                    ") while setting " + key);
      auto v = m.getStoreSet().getValue();
      std::string value(reinterpret_cast<const char*>(v.begin()), v.size());
      loop_.replyOk(sock, peer);
      for (const auto& waiter : job->store.set(key, value))  // the gets that waited for it
        loop_.reply(sock, waiter, storeValue(key, value));
      return;
    }
    case proto::Message::STORE_GET:
      return storeGet(*job, peer, m.getStoreGet());
    case proto::Message::PROGRESS: {
      auto p = m.getProgress();
      auto info = job->info();
      job->stepReached = std::max(job->stepReached, p.getStep());
      info.setEpoch(p.getEpoch());
      info.setStep(p.getStep());
      info.setStepsTotal(p.getStepsTotal());
      info.setLoss(p.getLoss());
      info.setSamplesPerSecond(p.getSamplesPerSecond());
      if (p.getLine().size())
        state_.appendLog(job->id(),
                         jobs_.timestamp() + " " + std::string(p.getLine().cStr()) + "\n");
      return;  // no reply (§5.3)
    }
    case proto::Message::METRICS_POINT:
      try {
        if (!job->metrics)
          job->metrics = std::make_unique<MetricsFileWriter>(state_.metricsPath(job->id()), true,
                                                             MetricsFileWriter::Sync::epochPoints);
        capnp::MallocMessageBuilder message;
        message.setRoot(m.getMetricsPoint());
        auto point = message.getRoot<proto::MetricsPoint>();
        point.setRank(rank);  // the session's, whatever it claims
        job->metrics->append(point.asReader());
        notePoint(*job, point.asReader());
      } catch (const std::exception& e) {
        loop_.refused("metrics of job " + job->id(),
                      "job " + job->id() + ": cannot store a metrics point: " + e.what());
      }
      return;  // no reply (§5.3)
    case proto::Message::CHECKPOINT:
      if (rank != 0)
        return loop_.replyError(sock, peer, "checkpoint: only rank 0 sends checkpoints");
      try {
        state_.saveCheckpoint(job->id(), m.getCheckpoint());
        job->info().setCheckpointStep(m.getCheckpoint().getStep());
        state_.saveRecord(job->info().asReader());
        return loop_.replyOk(sock, peer);
      } catch (const std::exception& e) {
        log_("job " + job->id() + ": cannot store checkpoint: " + e.what());
        return loop_.replyError(sock, peer,
                                std::string("cannot store the checkpoint: ") + e.what());
      }
    case proto::Message::FINISHED:
      loop_.replyOk(sock, peer);
      sessionByPeer_.erase(peer);
      job->stepReached = std::max(job->stepReached, m.getFinished().getStep());
      return jobs_.rankFinished(*job, rank, m.getFinished().getOk(),
                                "rank " + std::to_string(rank) + " on worker " +
                                    job->rankWorkers[rank] + ": " +
                                    std::string(m.getFinished().getReason().cStr()));
    default:
      return;
  }
}

}  // namespace tfmath
