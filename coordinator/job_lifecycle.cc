// job_lifecycle.cc: every transition of a job's state machine; the table is in docs/protocol.md
// §5.5.
#include "coordinator/job_lifecycle.h"

namespace tfmath {

namespace {

// The effects of a transition followed at once by another (a rank's end, then the job's).
JobEffects merged(const JobEffects& first, JobEffects then) {
  then.stopRanks = then.stopRanks || first.stopRanks;
  if (then.releaseStore.empty()) then.releaseStore = first.releaseStore;
  if (then.note.empty()) then.note = first.note;
  return then;
}

}  // namespace

const char* jobPhaseName(JobPhase phase) {
  switch (phase) {
    case JobPhase::pending:
      return "PENDING";
    case JobPhase::running:
      return "RUNNING";
    case JobPhase::cancelling:
      return "CANCELLING";
    case JobPhase::failing:
      return "FAILING";
    case JobPhase::requeueing:
      return "REQUEUEING";
    case JobPhase::completed:
      return "COMPLETED";
    case JobPhase::failed:
      return "FAILED";
    case JobPhase::cancelled:
      return "CANCELLED";
  }
  return "?";
}

proto::JobState publicState(JobPhase phase) {
  switch (phase) {
    case JobPhase::pending:
      return proto::JobState::PENDING;
    case JobPhase::running:
    case JobPhase::cancelling:
    case JobPhase::failing:
    case JobPhase::requeueing:
      return proto::JobState::RUNNING;
    case JobPhase::completed:
      return proto::JobState::COMPLETED;
    case JobPhase::failed:
      return proto::JobState::FAILED;
    case JobPhase::cancelled:
      return proto::JobState::CANCELLED;
  }
  return proto::JobState::FAILED;
}

bool isFinal(JobPhase phase) {
  return phase == JobPhase::completed || phase == JobPhase::failed || phase == JobPhase::cancelled;
}

JobLifecycle::JobLifecycle(proto::JobState state) {
  switch (state) {
    case proto::JobState::PENDING:
      phase_ = JobPhase::pending;
      break;
    case proto::JobState::RUNNING:
      phase_ = JobPhase::running;
      break;
    case proto::JobState::COMPLETED:
      phase_ = JobPhase::completed;
      break;
    case proto::JobState::CANCELLED:
      phase_ = JobPhase::cancelled;
      break;
    default:
      phase_ = JobPhase::failed;
  }
}

JobEffects JobLifecycle::start(uint32_t ranks) {
  if (phase_ != JobPhase::pending) return {};
  phase_ = JobPhase::running;
  done_.assign(ranks, false);
  return {};
}

JobEffects JobLifecycle::cancel() {
  switch (phase_) {
    case JobPhase::pending:
      return end(JobPhase::cancelled, "cancelled while pending");
    case JobPhase::running:
    case JobPhase::requeueing: {
      // §5.5: every rank is told; they agree on a step to stop at, so none waits in a collective.
      phase_ = JobPhase::cancelling;
      JobEffects e;
      e.stopRanks = true;
      e.releaseStore = "cancelled";
      return e;
    }
    default:
      return {};  // already stopping, or ended
  }
}

JobEffects JobLifecycle::cancelPending(const std::string& reason) {
  return phase_ == JobPhase::pending ? end(JobPhase::cancelled, reason) : JobEffects{};
}

JobEffects JobLifecycle::failPending(const std::string& reason) {
  return phase_ == JobPhase::pending ? end(JobPhase::failed, reason) : JobEffects{};
}

JobEffects JobLifecycle::rankFinished(uint32_t rank, bool ok, const std::string& reason,
                                      bool hasResult) {
  if (!markDone(rank)) return {};
  JobEffects e;
  if (!ok) {
    if (phase_ == JobPhase::running) {
      // The first failure: the other ranks cannot go on without this one; stop them.
      phase_ = JobPhase::failing;
      reason_ = reason;
      e.stopRanks = true;
      e.releaseStore = "a rank failed";
    } else if (phase_ == JobPhase::cancelling) {
      // A failure after the cancel is the cancel's doing (a store get it released, a collective
      // it cut short): the job still ends CANCELLED.
      e.note = "after the cancel: " + reason;
    } else if (phase_ == JobPhase::requeueing) {
      e.note = "stopped for the requeue: " + reason;  // mostly the lost peer's collective errors
    }
  }
  return merged(e, endIfAllDone(hasResult));
}

JobEffects JobLifecycle::rankLost(uint32_t rank, const std::string& reason, bool hasResult,
                                  bool mayRequeue) {
  if (!markDone(rank)) return {};
  JobEffects e;
  if (phase_ == JobPhase::running) {
    e.stopRanks = true;
    e.releaseStore = "a worker was lost";
  }
  if (phase_ == JobPhase::running || (phase_ == JobPhase::failing && !lostWorker_)) {
    // A lost worker is the root cause when its peers' collectives failed first: its reason wins,
    // and the job is requeued rather than failed while restarts remain.
    phase_ = mayRequeue ? JobPhase::requeueing : JobPhase::failing;
    reason_ = reason;
    lostWorker_ = true;
  } else if (phase_ == JobPhase::cancelling) {
    e.note = "after the cancel: " + reason;
  } else if (phase_ == JobPhase::requeueing || phase_ == JobPhase::failing) {
    e.note = "also " + reason;
  }
  return merged(e, endIfAllDone(hasResult));
}

void JobLifecycle::awaitRanks(uint32_t ranks) {
  if (phase_ == JobPhase::running) done_.assign(ranks, false);
}

bool JobLifecycle::markDone(uint32_t rank) {
  // Only a started, unfinished job has ranks to finish, and each finishes once.
  if (isFinal(phase_) || phase_ == JobPhase::pending || rank >= done_.size() || done_[rank])
    return false;
  done_[rank] = true;
  return true;
}

JobEffects JobLifecycle::endIfAllDone(bool hasResult) {
  for (bool d : done_)
    if (!d) return {};
  switch (phase_) {
    case JobPhase::cancelling:
      return end(JobPhase::cancelled, "cancelled by the user");
    case JobPhase::failing:
      return end(JobPhase::failed, reason_);
    case JobPhase::requeueing: {
      // Every rank has stopped, so none of this attempt can touch the store or the checkpoint:
      // the next attempt starts clean.
      phase_ = JobPhase::pending;
      done_.clear();
      lostWorker_ = false;
      JobEffects e;
      e.requeued = true;
      e.releaseStore = "requeued";
      return e;
    }
    case JobPhase::running:
      return hasResult ? end(JobPhase::completed, "")
                       : end(JobPhase::failed, "rank 0 finished without storing a result");
    default:
      return {};
  }
}

JobEffects JobLifecycle::end(JobPhase final, const std::string& reason) {
  phase_ = final;
  reason_ = reason;
  JobEffects e;
  e.ended = true;
  e.releaseStore = jobPhaseName(final);
  return e;
}

}  // namespace tfmath
