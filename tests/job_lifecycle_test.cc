// job_lifecycle_test.cc: every transition of a job's state machine (coordinator/job_lifecycle.h,
// docs/protocol.md §5.5), one test each, the races between a cancel and failing ranks included.
#include "coordinator/job_lifecycle.h"

#include <gtest/gtest.h>

namespace tfmath {
namespace {

JobLifecycle running(uint32_t ranks) {
  JobLifecycle life;
  life.start(ranks);
  return life;
}

TEST(JobLifecycle, StartTakesAPendingJobToRunning) {
  JobLifecycle life;
  EXPECT_EQ(life.phase(), JobPhase::pending);
  EXPECT_FALSE(life.storeOpen());
  const JobEffects e = life.start(2);
  EXPECT_EQ(life.phase(), JobPhase::running);
  EXPECT_EQ(publicState(life.phase()), proto::JobState::RUNNING);
  EXPECT_TRUE(life.storeOpen());
  EXPECT_FALSE(e.ended || e.stopRanks);
  // Starting again changes nothing.
  life.start(3);
  EXPECT_FALSE(life.rankDone(2));
}

TEST(JobLifecycle, CancelOfAPendingJobEndsItAtOnce) {
  JobLifecycle life;
  const JobEffects e = life.cancel();
  EXPECT_TRUE(e.ended);
  EXPECT_EQ(life.phase(), JobPhase::cancelled);
  EXPECT_EQ(life.reason(), "cancelled while pending");
  EXPECT_EQ(publicState(life.phase()), proto::JobState::CANCELLED);
}

TEST(JobLifecycle, CancelOfARunningJobStopsItsRanksAndReleasesTheStore) {
  JobLifecycle life = running(2);
  const JobEffects e = life.cancel();
  EXPECT_EQ(life.phase(), JobPhase::cancelling);
  EXPECT_EQ(publicState(life.phase()), proto::JobState::RUNNING);  // clients see RUNNING
  EXPECT_TRUE(e.stopRanks);
  EXPECT_EQ(e.releaseStore, "cancelled");
  EXPECT_FALSE(e.ended);
  EXPECT_FALSE(life.storeOpen());
  // A second cancel does nothing more.
  const JobEffects again = life.cancel();
  EXPECT_FALSE(again.stopRanks || again.ended);
}

TEST(JobLifecycle, EveryRankOkWithAResultCompletes) {
  JobLifecycle life = running(2);
  EXPECT_FALSE(life.rankFinished(1, true, "", false).ended);
  EXPECT_EQ(life.phase(), JobPhase::running);
  const JobEffects e = life.rankFinished(0, true, "", true);
  EXPECT_TRUE(e.ended);
  EXPECT_EQ(life.phase(), JobPhase::completed);
  EXPECT_EQ(life.reason(), "");
}

TEST(JobLifecycle, EveryRankOkWithoutAResultFails) {
  JobLifecycle life = running(1);
  EXPECT_TRUE(life.rankFinished(0, true, "", false).ended);
  EXPECT_EQ(life.phase(), JobPhase::failed);
  EXPECT_EQ(life.reason(), "rank 0 finished without storing a result");
}

TEST(JobLifecycle, ARankFailureStopsThePeersAndFailsWithItsReason) {
  JobLifecycle life = running(3);
  const JobEffects e = life.rankFinished(1, false, "rank 1: out of memory", false);
  EXPECT_EQ(life.phase(), JobPhase::failing);
  EXPECT_TRUE(e.stopRanks);
  EXPECT_EQ(e.releaseStore, "a rank failed");
  EXPECT_FALSE(e.ended);
  EXPECT_FALSE(life.storeOpen());
  // The peers' own errors, and ok ends, do not replace the first failure.
  EXPECT_FALSE(life.rankFinished(0, false, "rank 0: collective timed out", true).ended);
  EXPECT_TRUE(life.rankFinished(2, true, "", true).ended);
  EXPECT_EQ(life.phase(), JobPhase::failed);
  EXPECT_EQ(life.reason(), "rank 1: out of memory");
}

TEST(JobLifecycle, ALostWorkerPastItsRestartsFailsTheJob) {
  JobLifecycle life = running(2);
  const JobEffects e =
      life.rankLost(1, "worker w1 (rank 1) lost at step 4: missed 3 heartbeats", false, false);
  EXPECT_EQ(life.phase(), JobPhase::failing);
  EXPECT_TRUE(e.stopRanks);
  EXPECT_EQ(e.releaseStore, "a worker was lost");
  EXPECT_TRUE(life.rankFinished(0, false, "rank 0: the peer closed the connection", true).ended);
  EXPECT_EQ(life.phase(), JobPhase::failed);
  EXPECT_EQ(life.reason(), "worker w1 (rank 1) lost at step 4: missed 3 heartbeats");
}

TEST(JobLifecycle, ALostWorkerOutranksTheCollectiveErrorsItCaused) {
  JobLifecycle life = running(2);
  life.rankFinished(0, false, "rank 0: the peer closed the connection", false);
  const JobEffects e = life.rankLost(1, "worker w1 (rank 1) lost at step 4: killed", false, false);
  EXPECT_TRUE(e.ended);
  EXPECT_EQ(life.phase(), JobPhase::failed);
  EXPECT_EQ(life.reason(), "worker w1 (rank 1) lost at step 4: killed");
}

// While restarts remain, a lost worker stops the other ranks, and once every rank has stopped the
// job is PENDING again, its next attempt to be started afresh.
TEST(JobLifecycle, ALostWorkerWithRestartsLeftRequeuesOnceEveryRankStopped) {
  JobLifecycle life = running(3);
  JobEffects e = life.rankLost(2, "worker w2 (rank 2) lost at step 9: killed", true, true);
  EXPECT_EQ(life.phase(), JobPhase::requeueing);
  EXPECT_EQ(publicState(life.phase()), proto::JobState::RUNNING);  // its ranks are stopping
  EXPECT_TRUE(e.stopRanks);
  EXPECT_EQ(e.releaseStore, "a worker was lost");
  EXPECT_FALSE(e.requeued || e.ended);
  EXPECT_FALSE(life.storeOpen());
  // The survivors' collectives fail because of the loss: noted, not a failure of the job.
  e = life.rankFinished(0, false, "rank 0: connection closed by peer", true);
  EXPECT_NE(e.note.find("stopped for the requeue"), std::string::npos) << e.note;
  EXPECT_FALSE(e.requeued);
  e = life.rankFinished(1, true, "", true);
  EXPECT_TRUE(e.requeued);
  EXPECT_FALSE(e.ended);
  EXPECT_EQ(life.phase(), JobPhase::pending);
  EXPECT_EQ(life.reason(), "worker w2 (rank 2) lost at step 9: killed");
  // The next attempt runs on any number of ranks, and finishes as a first one would.
  life.start(2);
  EXPECT_EQ(life.phase(), JobPhase::running);
  EXPECT_FALSE(life.rankDone(0) || life.rankDone(1));
  life.rankFinished(0, true, "", true);
  EXPECT_TRUE(life.rankFinished(1, true, "", true).ended);
  EXPECT_EQ(life.phase(), JobPhase::completed);
}

TEST(JobLifecycle, ALossAfterThePeersFailedStillRequeuesAndASecondLossIsNoted) {
  JobLifecycle life = running(3);
  life.rankFinished(0, false, "rank 0: connection closed by peer", false);
  EXPECT_EQ(life.phase(), JobPhase::failing);
  life.rankLost(1, "worker w1 (rank 1) lost at step 3: killed", false, true);
  EXPECT_EQ(life.phase(), JobPhase::requeueing);
  const JobEffects e = life.rankLost(2, "worker w2 (rank 2) lost at step 3: killed", false, true);
  EXPECT_NE(e.note.find("also worker w2"), std::string::npos) << e.note;
  EXPECT_TRUE(e.requeued);
  EXPECT_EQ(life.reason(), "worker w1 (rank 1) lost at step 3: killed");
}

TEST(JobLifecycle, ACancelWhileRequeueingEndsCancelled) {
  JobLifecycle life = running(2);
  life.rankLost(1, "worker w1 (rank 1) lost at step 3: killed", false, true);
  life.cancel();
  EXPECT_EQ(life.phase(), JobPhase::cancelling);
  EXPECT_TRUE(life.rankFinished(0, true, "", false).ended);
  EXPECT_EQ(life.phase(), JobPhase::cancelled);
}

TEST(JobLifecycle, ARequeuedJobWhoseCheckpointCannotBeReadFails) {
  JobLifecycle life = running(1);
  EXPECT_TRUE(life.rankLost(0, "worker w0 (rank 0) lost at step 1: killed", true, true).requeued);
  EXPECT_TRUE(life.failPending("resume: checkpoint.params: truncated").ended);
  EXPECT_EQ(life.phase(), JobPhase::failed);
  EXPECT_FALSE(life.failPending("again").ended);  // only a pending job
}

// The race seen under load: the cancel releases a rank waiting in the store, which reports the
// refusal as a failure. The job still ends CANCELLED.
TEST(JobLifecycle, ARankFailureAfterTheCancelStillEndsCancelled) {
  JobLifecycle life = running(2);
  life.cancel();
  const JobEffects e = life.rankFinished(
      1, false,
      "rank 1: the coordinator refused: job 1 is ending (cancelled) while waiting for rank_0",
      false);
  EXPECT_EQ(life.phase(), JobPhase::cancelling);
  EXPECT_FALSE(e.stopRanks);  // already told
  EXPECT_NE(e.note.find("after the cancel"), std::string::npos) << e.note;
  EXPECT_TRUE(life.rankFinished(0, true, "", false).ended);
  EXPECT_EQ(life.phase(), JobPhase::cancelled);
  EXPECT_EQ(life.reason(), "cancelled by the user");
}

TEST(JobLifecycle, AWorkerLostAfterTheCancelStillEndsCancelled) {
  JobLifecycle life = running(2);
  life.cancel();
  const JobEffects e = life.rankLost(0, "worker w0 (rank 0) lost at step 2: killed", false, true);
  EXPECT_NE(e.note.find("lost at step 2"), std::string::npos) << e.note;  // logged
  EXPECT_TRUE(life.rankFinished(1, false, "rank 1: peer gone", false).ended);
  EXPECT_EQ(life.phase(), JobPhase::cancelled);
}

TEST(JobLifecycle, EveryRankOkAfterTheCancelEndsCancelledEvenWithAResult) {
  JobLifecycle life = running(1);
  life.cancel();
  EXPECT_TRUE(life.rankFinished(0, true, "", true).ended);
  EXPECT_EQ(life.phase(), JobPhase::cancelled);
}

TEST(JobLifecycle, ACancelAfterAFailureKeepsTheFailure) {
  JobLifecycle life = running(2);
  life.rankFinished(1, false, "rank 1: invalid job: data.csv.train: cannot read", false);
  const JobEffects e = life.cancel();
  EXPECT_FALSE(e.stopRanks || e.ended);
  EXPECT_EQ(life.phase(), JobPhase::failing);
  life.rankFinished(0, true, "", false);
  EXPECT_EQ(life.phase(), JobPhase::failed);
  EXPECT_EQ(life.reason(), "rank 1: invalid job: data.csv.train: cannot read");
}

TEST(JobLifecycle, FinalStatesAndRepeatedReportsChangeNothing) {
  JobLifecycle life = running(2);
  life.rankFinished(0, true, "", true);
  // A rank reporting twice counts once.
  EXPECT_FALSE(life.rankFinished(0, true, "", true).ended);
  EXPECT_FALSE(life.rankFinished(7, true, "", true).ended);  // no such rank
  EXPECT_TRUE(life.rankFinished(1, true, "", true).ended);
  ASSERT_EQ(life.phase(), JobPhase::completed);
  for (const JobEffects& e : {life.cancel(), life.rankFinished(1, false, "late", false),
                              life.rankLost(0, "late", false, true)})
    EXPECT_FALSE(e.ended || e.stopRanks || !e.releaseStore.empty());
  EXPECT_EQ(life.phase(), JobPhase::completed);
  // A pending job has no ranks to report.
  JobLifecycle pending;
  EXPECT_FALSE(pending.rankFinished(0, false, "x", false).ended);
  EXPECT_EQ(pending.phase(), JobPhase::pending);
}

TEST(JobLifecycle, AJobReadBackRunningAwaitsItsRanksWhichEndItAsBefore) {
  JobLifecycle was(proto::JobState::RUNNING);
  was.awaitRanks(2);
  EXPECT_EQ(was.phase(), JobPhase::running);
  EXPECT_FALSE(was.rankDone(0) || was.rankDone(1));
  EXPECT_FALSE(was.rankFinished(0, true, "", true).ended);
  EXPECT_TRUE(was.rankFinished(1, true, "", true).ended);
  EXPECT_EQ(was.phase(), JobPhase::completed);
  // A rank that did not return is lost like any other: the job is requeued.
  JobLifecycle lost(proto::JobState::RUNNING);
  lost.awaitRanks(2);
  EXPECT_TRUE(lost.rankLost(1, "did not return", true, true).stopRanks);
  EXPECT_TRUE(lost.rankFinished(0, true, "", true).requeued);
  for (auto state : {proto::JobState::PENDING, proto::JobState::COMPLETED,
                     proto::JobState::CANCELLED, proto::JobState::FAILED}) {
    JobLifecycle other(state);
    other.awaitRanks(2);
    EXPECT_FALSE(other.rankFinished(0, true, "", true).ended);
    EXPECT_EQ(publicState(other.phase()), state);
  }
}

}  // namespace
}  // namespace tfmath
