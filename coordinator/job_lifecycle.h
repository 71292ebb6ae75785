// job_lifecycle.h: a job's state machine (docs/protocol.md §5.5): every state a job passes through
// and every transition between them, in one place. It decides; it sends nothing. Each transition
// returns the Effects the coordinator then carries out (stop the ranks, release the store's waiting
// gets, record the end). Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/protocol.capnp.h"

namespace tfmath {

// PENDING and RUNNING are Slurm's; CANCELLING, FAILING and REQUEUEING are RUNNING jobs whose ranks
// are being stopped (clients see RUNNING), REQUEUEING to go back to PENDING once they all have;
// COMPLETED, FAILED and CANCELLED are final.
enum class JobPhase {
  pending,
  running,
  cancelling,
  failing,
  requeueing,
  completed,
  failed,
  cancelled
};

const char* jobPhaseName(JobPhase phase);
// The state clients see (JobInfo.state).
proto::JobState publicState(JobPhase phase);
bool isFinal(JobPhase phase);

// What the coordinator must do after a transition.
struct JobEffects {
  bool stopRanks = false;    // send `cancel` to every rank that has not finished
  std::string releaseStore;  // non-empty: answer every waiting store get with an error, this why
  bool ended = false;        // the job reached a final state: record it, free its workers
  // Every rank stopped after a lost worker: the job is PENDING again, to resume from its latest
  // checkpoint as its next attempt; reason() says which worker was lost.
  bool requeued = false;
  std::string note;  // a line for the coordinator's log, when non-empty
};

class JobLifecycle {
 public:
  JobLifecycle() = default;
  // A job read back from the state directory in `state` (§7).
  explicit JobLifecycle(proto::JobState state);

  JobPhase phase() const { return phase_; }
  // Why it ended (or, while FAILING, the failure it will end with).
  const std::string& reason() const { return reason_; }
  bool rankDone(uint32_t rank) const { return rank < done_.size() && done_[rank]; }
  // Whether the store takes sets and lets gets wait for a key: only while the job runs undisturbed.
  bool storeOpen() const { return phase_ == JobPhase::running; }

  // PENDING → RUNNING on `ranks` workers.
  JobEffects start(uint32_t ranks);
  // The user's cancel. PENDING → CANCELLED; RUNNING → CANCELLING. A FAILING job stays FAILING (its
  // failure came first). Returns no effects for a final job (the caller refuses those).
  JobEffects cancel();
  // A PENDING job that can never run (what it depends on ended the wrong way): CANCELLED with
  // `reason`. No effects for a job past PENDING.
  JobEffects cancelPending(const std::string& reason);
  // A PENDING job that cannot resume (its checkpoint is unreadable): FAILED with `reason`.
  JobEffects failPending(const std::string& reason);
  // A rank sent `finished`. `hasResult`: a checkpoint is stored (asked only when it matters).
  JobEffects rankFinished(uint32_t rank, bool ok, const std::string& reason, bool hasResult);
  // The worker of a rank was lost (§4, §5.1); its reason outranks the peers' collective errors.
  // With `mayRequeue` (restarts remain) the job stops its ranks to be requeued (§5.6); without,
  // it fails with `reason`.
  JobEffects rankLost(uint32_t rank, const std::string& reason, bool hasResult, bool mayRequeue);
  // A job read back RUNNING (§7) has `ranks` ranks, which trained on while the coordinator was
  // away (§5.7): each counts as running until it finishes or is lost.
  void awaitRanks(uint32_t ranks);

 private:
  // Records that `rank` finished; false when that means nothing (not running, or already done).
  bool markDone(uint32_t rank);
  JobEffects endIfAllDone(bool hasResult);
  JobEffects end(JobPhase final, const std::string& reason);

  JobPhase phase_ = JobPhase::pending;
  std::string reason_;
  std::vector<bool> done_;
  bool lostWorker_ = false;  // the failure reason is a lost worker's
};

}  // namespace tfmath
