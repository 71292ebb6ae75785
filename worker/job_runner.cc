// job_runner.cc: the training thread of one rank.
#include "worker/job_runner.h"

#include <cassert>
#include <cstdio>
#include <thread>

#include "jobs/job_error.h"
#include "train/backend.h"
#include "train/gloo_communicator.h"
#ifdef TFMATH_HAVE_NCCL
#include "train/nccl_communicator.h"
#endif
#include "jobs/data_check.h"
#include "train/memory_estimate.h"
#include "train/metrics_recorder.h"
#include "train/trainer.h"
#include "worker/checkpoint_sender.h"
#include "worker/fault_injection.h"
#include "worker/job_session.h"

namespace tfmath {

namespace {

// Posts a report that has no answer, attached again first if the coordinator may have restarted
// (§5.7). A report that finds the coordinator away is dropped: training never waits for it.
void postAttached(JobSession& session, capnp::MallocMessageBuilder& message) {
  try {
    session.keepAttached();
    session.post(message);
  } catch (const std::runtime_error&) {
  }
}

// Sends rank 0's progress over the job session, and its checkpoints through the sender.
class SessionReporter : public TrainingObserver {
 public:
  SessionReporter(JobSession& session, CheckpointSender& checkpoints, Trainer& trainer,
                  proto::Job::Reader job, const std::string& jobId)
      : session_(session), checkpoints_(checkpoints), trainer_(trainer), job_(job), jobId_(jobId) {}

  void onStep(const StepReport& r) override {
    const auto now = std::chrono::steady_clock::now();
    if (now - lastProgress_ >= std::chrono::seconds(1) || r.stepInEpoch == r.stepsPerEpoch) {
      lastProgress_ = now;
      sendProgress(r, "");
    }
    const uint32_t every = job_.getCheckpointEvery();
    if (every && r.globalStep % every == 0 && !trainer_.finished()) checkpoint(Evaluation{});
  }

  void onEpoch(const EpochReport& e) override {
    StepReport r{e.epoch,
                 trainer_.stepsPerEpoch(),
                 trainer_.stepsPerEpoch(),
                 trainer_.globalStep(),
                 e.trainLoss,
                 trainer_.samplesPerSecond(),
                 0};
    sendProgress(r, epochSummary(e, job_.getEpochs()));
  }

  // Copies the state and hands it to the sender: training goes on while it travels.
  void checkpoint(const Evaluation& eval) {
    auto b = std::make_unique<capnp::MallocMessageBuilder>();
    auto state = wire::start(*b).initCheckpoint();
    trainer_.saveState(state, eval);
    state.setJobId(jobId_);
    checkpoints_.post(std::move(b), trainer_.globalStep());
  }

 private:
  void sendProgress(const StepReport& r, const std::string& line) {
    capnp::MallocMessageBuilder b;
    auto p = wire::start(b).initProgress();
    p.setEpoch(r.epoch);
    p.setStep(r.globalStep);
    p.setStepsTotal(trainer_.stepsPerEpoch() * job_.getEpochs());
    p.setLoss(r.loss);
    p.setSamplesPerSecond(r.samplesPerSecond);
    p.setLine(line);
    postAttached(session_, b);
  }

  JobSession& session_;
  CheckpointSender& checkpoints_;
  Trainer& trainer_;
  proto::Job::Reader job_;
  std::string jobId_;
  std::chrono::steady_clock::time_point lastProgress_{};
};

// Records the last global step the rank completed, and commits an injected fault after it.
class StepWatch : public TrainingObserver {
 public:
  StepWatch(std::atomic<uint64_t>& reached, uint32_t attempt)
      : reached_(reached), attempt_(attempt) {}
  void onStep(const StepReport& r) override {
    reached_ = r.globalStep;
    killIfInjected(FaultPoint::afterStep, r.globalStep, attempt_);
  }

 private:
  std::atomic<uint64_t>& reached_;
  uint32_t attempt_;
};

// Thrown when the rank was cancelled before training began.
struct Cancelled {};

}  // namespace

JobRunner::JobRunner(zmq::context_t& context, RunnerSettings settings, proto::Assign::Reader assign)
    : context_(context),
      settings_(std::move(settings)),
      jobId_(assign.getJobId()),
      rank_(assign.getRank()),
      attempt_(assign.getAttempt()),
      reached_(assign.getResume().getStep()) {
  assert(settings_.registrations);
  assign_.setRoot(assign);
  thread_ = std::thread([this] { train(); });
}

JobRunner::~JobRunner() {
  cancel();
  if (thread_.joinable()) thread_.join();
}

void JobRunner::cancel() {
  cancelled_ = true;
  if (Trainer* t = trainer_.load()) t->requestStop();
}

std::unique_ptr<Communicator> JobRunner::makeCommunicator(proto::Job::Reader job,
                                                          gloo::rendezvous::Store& store, int rank,
                                                          int size) const {
  // All ranks of a device = gpu job are GPUs: NCCL. Any other job: Gloo, with GPU ranks staging
  // their gradients through host memory.
  if (job.getDevice() == proto::Device::GPU) {
    if (gpuIndex(settings_.device) < 0)
      throw JobError("a device = gpu job reached the " + settings_.device + " worker");
#ifdef TFMATH_HAVE_NCCL
    return std::make_unique<NcclCommunicator>(store, rank, size, gpuIndex(settings_.device),
                                              settings_.collectiveTimeout);
#else
    throw JobError("device = gpu jobs sum gradients with NCCL, and this tfmath has no NCCL");
#endif
  }
  return std::make_unique<GlooCommunicator>(store, rank, size, settings_.glooHost,
                                            settings_.collectiveTimeout);
}

void JobRunner::train() {
  auto assign = assign_.getRoot<proto::Assign>().asReader();
  auto job = assign.getJob();
  const uint32_t rank = rank_, attempt = attempt_;
  std::unique_ptr<JobSession> session;
  bool ok = true;
  std::string reason;
  auto connect = [this, rank, attempt] {
    return std::make_unique<JobSession>(context_, settings_.coordinatorEndpoint, settings_.keys,
                                        jobId_, rank, attempt, settings_.collectiveTimeout * 2,
                                        *settings_.registrations);
  };
  try {
    session = connect();
    // A job over this worker's memory is refused before anything big is allocated: its generated
    // data before it is made, the rest once the data gives the model's shapes (docs/protocol.md
    // §8.6).
    const double limit = static_cast<double>(settings_.memoryLimit);
    auto overLimit = [&](const std::string& what) {
      return JobError("the job needs " + what +
                      " on each worker, over this worker's memory limit of " + byteSize(limit) +
                      " (tfmath worker --memory-limit)");
    };
    if (limit > 0 && generatedDataBytes(job) > limit)
      throw overLimit(byteSize(generatedDataBytes(job)) + " for its linear data");
    // The coordinator checked the fields and paths only; the data is checked here, where it is
    // read, before step 0 (docs/protocol.md §5.5). A bad data set fails the job with the message
    // `tfmath run` prints for it.
    const Data data = [&] {
      try {
        return validateJob(job, assign.getOwnUserJob() ? DataAccess::ownRights() : settings_.data);
      } catch (const JobError& e) {
        throw JobError(std::string("invalid job: ") + e.what());
      }
    }();
    const MemoryEstimate memory = estimateMemory(job, data, assign.getWorldSize());
    if (limit > 0 && memory.total() > limit) throw overLimit(memory.describe());
    // Cancelled while the data loaded: stop before the rendezvous, so no peer waits for this rank.
    if (cancelled_) throw Cancelled();
    CoordinatorStore store(*session, attempt);
    const auto comm = makeCommunicator(job, store, static_cast<int>(rank),
                                       static_cast<int>(assign.getWorldSize()));
    Trainer trainer(job, data, *comm, settings_.device);
    if (assign.getInitial().getTensors().size()) trainer.initFrom(assign.getInitial());
    if (assign.getResume().getTensors().size()) trainer.resume(assign.getResume());
    trainer_ = &trainer;
    if (cancelled_) trainer.requestStop();
    // Every rank reports its own metrics history: its step and allreduce times show stragglers.
    MetricsRecorder metrics(rank, [&](proto::MetricsPoint::Reader point) {
      capnp::MallocMessageBuilder b;
      wire::start(b).setMetricsPoint(point);
      postAttached(*session, b);
    });
    StepWatch watch(reached_, attempt);
    if (rank == 0) {
      CheckpointSender checkpoints(connect, attempt);
      SessionReporter reporter(*session, checkpoints, trainer, job, jobId_);
      Observers observers({&reporter, &metrics, &watch});
      trainer.run(observers);
      if (!trainer.stopped()) {
        const Evaluation& last = trainer.lastEvaluation();
        reporter.checkpoint(std::isnan(last.loss) ? trainer.evaluate() : last);
        // The result is stored before the rank reports its end.
        checkpoints.flush(std::chrono::steady_clock::now() + settings_.lease);
      }
    } else {
      Observers observers({&metrics, &watch});
      trainer.run(observers);
    }
    trainer_ = nullptr;
  } catch (const Cancelled&) {
    trainer_ = nullptr;  // stopped on the cancel before training: ok (§5.3)
  } catch (const std::bad_alloc&) {
    trainer_ = nullptr;
    ok = cancelled_;
    reason = "out of memory: this worker could not allocate what the job needs";
    std::fprintf(stderr, "tfmath-worker: job %s rank %u: %s\n", jobId_.c_str(), rank,
                 reason.c_str());
  } catch (const std::exception& e) {
    trainer_ = nullptr;
    // After a cancel, an error is the cancel's doing (the coordinator refused the store, a peer
    // left): the rank stopped on the cancel. The coordinator ends the job CANCELLED either way.
    ok = cancelled_;
    reason = ok ? std::string("stopped on a cancel: ") + e.what() : std::string(e.what());
    std::fprintf(stderr, "tfmath-worker: job %s rank %u %s: %s\n", jobId_.c_str(), rank,
                 ok ? "stopped" : "failed", e.what());
  }
  if (session) reportEnd(std::move(session), connect, ok, reason);
  finished_ = true;
}

void JobRunner::reportEnd(std::unique_ptr<JobSession> session,
                          const std::function<std::unique_ptr<JobSession>()>& connect, bool ok,
                          const std::string& reason) {
  capnp::MallocMessageBuilder b;
  auto f = wire::start(b).initFinished();
  f.setOk(ok);
  f.setReason(reason);
  f.setStep(reached_);
  // A coordinator that is away (silent, or restarted and not knowing this session) hears of the
  // end once it is back, within the lease (§5.7); one that refuses it has ended the rank already.
  const auto deadline = std::chrono::steady_clock::now() + settings_.lease;
  while (true) {
    try {
      if (!session) session = connect();
      session->keepAttached();
      session->request(b);
      reported_ = true;
      return;
    } catch (const std::exception& e) {
      const auto* refused = dynamic_cast<const CoordinatorRefused*>(&e);
      if ((refused && !refused->notAttached()) || std::chrono::steady_clock::now() >= deadline) {
        std::fprintf(stderr, "tfmath-worker: job %s: could not report the end: %s\n",
                     jobId_.c_str(), e.what());
        return;
      }
      session.reset();  // a new session, whose attach tells a restarted coordinator who this is
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

}  // namespace tfmath
