// fault_matrix_test.cc: jobs that outlive failures, with real processes on loopback. A worker is
// SIGKILLed at a step drawn from a seed, or while it sends a checkpoint, or frozen past its
// liveness and woken; each case checks the end state against an unbroken run: bit for bit when a
// replacement restores the world size, within 1e-5 when the job finishes on fewer workers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "tests/cluster_fixture.h"

namespace tfmath {
namespace {

using testing::Cluster;
using testing::relativeDistance;
using testing::submit;
using testing::TempDir;
using testing::waitForState;

// 2 epochs of 40 steps on two workers, a checkpoint every 10: seconds to train, and a loss lands
// between two checkpoints.
const std::string kFields =
    testing::fashionMlpJob(2000, 200, 50) + "epochs = 2, workers = 2, checkpointEvery = 10,";
constexpr uint64_t kSteps = 80;

// "" when two parameter-state files hold the same bits where an unbroken run and a recovered one
// must agree: every tensor, every optimizer slot, the random stream, the step and the epoch, and
// the final figures computed from them. Else the first difference.
std::string differenceOf(const std::string& a, const std::string& b) {
  ParameterStateFile fa(a), fb(b);
  auto sa = fa.state(), sb = fb.state();
  if (sa.getStep() != sb.getStep()) return "step";
  if (sa.getEpoch() != sb.getEpoch()) return "epoch";
  if (sa.getRngState() != sb.getRngState()) return "rngState";
  auto sameTensors = [](auto x, auto y) {
    if (x.size() != y.size()) return false;
    for (unsigned i = 0; i < x.size(); ++i) {
      auto dx = x[i].getData(), dy = y[i].getData();
      if (x[i].getName() != y[i].getName() || dx.size() != dy.size() ||
          std::memcmp(dx.begin(), dy.begin(), dx.size()) != 0)
        return false;
    }
    return true;
  };
  if (!sameTensors(sa.getTensors(), sb.getTensors())) return "tensors";
  if (!sameTensors(sa.getOptimizerSlots(), sb.getOptimizerSlots())) return "optimizerSlots";
  auto ma = sa.getMetrics(), mb = sb.getMetrics();
  if (ma.getTrainLoss() != mb.getTrainLoss()) return "metrics.trainLoss";
  if (ma.getTestLoss() != mb.getTestLoss()) return "metrics.testLoss";
  return "";
}

// Writes the finished job's parameter state to `path`.
void saveResult(const Cluster& c, const std::string& id, const std::string& path) {
  auto r = c.run("result " + id + " --params " + path);
  ASSERT_EQ(r.exitCode, 0) << r.output;
}

// The job's log, as `tfmath logs` prints it.
std::string logOf(const Cluster& c, const std::string& id) { return c.run("logs " + id).output; }

// The unbroken run of `job` on a fresh cluster of two workers, saved to `path`.
void unbrokenRun(const std::string& job, const std::string& path) {
  Cluster clean(2);
  auto r = clean.run("submit " + job + " --wait");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  saveResult(clean, r.output.substr(0, r.output.find('\n')), path);
}

// Expects job `id` of `c` to have ended on the bits of an unbroken run of `job`, on a fresh cluster
// where no worker carries a fault.
void expectUnbrokenBits(const Cluster& c, const std::string& id, const std::string& job,
                        const TempDir& dir) {
  const std::string recovered = dir.path() + "/recovered.params",
                    unbroken = dir.path() + "/unbroken.params";
  saveResult(c, id, recovered);
  unbrokenRun(job, unbroken);
  EXPECT_EQ(differenceOf(recovered, unbroken), "") << c.coordinatorLog();
}

// A cluster of one worker and one that TFMATH_FAULT_INJECT kills at `fault`.
std::unique_ptr<Cluster> clusterWithAFault(const std::string& fault) {
  auto c = std::make_unique<Cluster>(1);
  c->addWorker({}, {"TFMATH_FAULT_INJECT=" + fault});
  c->waitForWorkers(2);
  return c;
}

// SIGKILL a worker after a step drawn from each of three seeds, then add a replacement: the job
// goes back to PENDING, resumes from its latest checkpoint on two workers again, and ends on the
// bits of the unbroken run: parameters, optimizer slots, random stream and step.
TEST(FaultMatrix, AWorkerKilledAtASeededStepAndReplacedEndsBitIdentical) {
  TempDir dir;
  const std::string job = dir.write("job.capnp", testing::jobText(kFields));
  const std::string unbroken = dir.path() + "/unbroken.params";
  for (unsigned seed : {1u, 2u, 3u}) {
    std::mt19937 draw(seed);
    const uint64_t step = std::uniform_int_distribution<uint64_t>(1, kSteps - 1)(draw);
    SCOPED_TRACE("seed " + std::to_string(seed) + ": killed after step " + std::to_string(step));
    auto c = clusterWithAFault("kill-after-step=" + std::to_string(step));
    const std::string id = submit(*c, job);
    auto info = waitForState(*c, id, "PENDING", 30);
    const std::string reason = info["reason"];
    EXPECT_NE(reason.find("requeued: worker "), std::string::npos) << reason;
    // The latest checkpoint before the kill; or, when rank 0 died while it was in flight, the one
    // before that.
    const size_t at = reason.find("resumes at step ");
    ASSERT_NE(at, std::string::npos) << reason;
    const uint64_t from = std::stoull(reason.substr(at + 16)), latest = step / 10 * 10;
    EXPECT_TRUE(from == latest || from + 10 == latest) << reason << "\n"
                                                       << logOf(*c, id) << c->coordinatorLog();
    c->addWorker();
    info = waitForState(*c, id, "COMPLETED", 60);
    EXPECT_EQ(info["ranks"].size(), 2u);
    const std::string recovered = dir.path() + "/recovered" + std::to_string(seed) + ".params";
    saveResult(*c, id, recovered);
    const std::string log = logOf(*c, id);
    EXPECT_NE(log.find("resumed on 2 worker(s) at step " + std::to_string(from)), std::string::npos)
        << log;
    if (seed == 1) {  // the unbroken run, on the survivor and the replacement
      auto r = c->run("submit " + job + " --wait");
      ASSERT_EQ(r.exitCode, 0) << r.output;
      saveResult(*c, r.output.substr(0, r.output.find('\n')), unbroken);
    }
    EXPECT_EQ(differenceOf(recovered, unbroken), "") << c->coordinatorLog();
  }
}

// SIGKILL a worker with no replacement: after elasticWaitSeconds the job resumes on the survivor,
// says that the world size changed, and ends within 1e-5 of `tfmath run` (the math depends on the
// global batch only).
TEST(FaultMatrix, AWorkerKilledWithNoReplacementFinishesOnTheSurvivor) {
  TempDir dir;
  const std::string job =
      dir.write("job.capnp", testing::jobText(kFields + "elasticWaitSeconds = 1,"));
  const std::string single = dir.path() + "/single.params";
  auto r = testing::tfmath("run " + job + " --save " + single);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  auto c = clusterWithAFault("kill-after-step=35");
  const std::string id = submit(*c, job);
  auto info = waitForState(*c, id, "COMPLETED", 60);
  EXPECT_EQ(info["ranks"].size(), 1u);
  EXPECT_EQ(info["reason"], "after 1 restart(s); 5 step(s) redone");
  EXPECT_EQ(info["attempt"], 1);
  EXPECT_EQ(info["steps_lost"], 5);
  EXPECT_EQ(info["checkpoint_step"], kSteps);  // the result, stored as the last checkpoint
  ASSERT_EQ(info["failures"].size(), 1u);
  EXPECT_NE(info["failures"][0].get<std::string>().find("lost at step 35"), std::string::npos);
  const std::string recovered = dir.path() + "/recovered.params";
  saveResult(*c, id, recovered);
  EXPECT_LE(relativeDistance(recovered, single), 1e-5);
  const std::string log = logOf(*c, id);
  for (const char* line :
       {"lost worker ", "lost at step 35", "resumes at step 30; 5 step(s) to redo",
        "resumed on 1 worker(s) at step 30 (attempt 1); the world size changed "
        "from 2 to 1, the global batch did not"})
    EXPECT_NE(log.find(line), std::string::npos) << line << "\n" << log;
}

// SIGKILL rank 0 between sending the checkpoint of step 20 and the coordinator's answer: the
// checkpoint is stored whole or not at all, the job resumes from it or from step 10, and ends on
// the unbroken run's bits.
TEST(FaultMatrix, RankZeroKilledWhileSendingACheckpointEndsBitIdentical) {
  TempDir dir;
  const std::string job = dir.write("job.capnp", testing::jobText(kFields));
  Cluster c(0);
  for (int i = 0; i < 2; ++i) c.addWorker({}, {"TFMATH_FAULT_INJECT=kill-while-checkpointing=20"});
  c.waitForWorkers(2);
  const std::string id = submit(c, job);
  auto info = waitForState(c, id, "PENDING", 30);
  const std::string reason = info["reason"];
  EXPECT_NE(reason.find("(rank 0) lost at step 2"), std::string::npos) << reason;
  c.addWorker();
  waitForState(c, id, "COMPLETED", 60);
  expectUnbrokenBits(c, id, job, dir);
}

// SIGSTOP a worker after step 25, past its liveness: the coordinator declares it lost and requeues
// the job, which resumes on the survivor and a replacement. Then SIGCONT it while the new attempt
// runs: its stale rank goes on talking about attempt 0 (progress, store keys, a checkpoint, its
// end), and the coordinator fences all of it off by the attempt number, so the job still ends on
// the unbroken run's bits.
TEST(FaultMatrix, AWorkerFrozenPastItsLivenessThenThawedCorruptsNothing) {
  TempDir dir;
  const std::string job = dir.write("job.capnp", testing::jobText(kFields));
  Cluster c(1);
  c.addWorker({}, {"TFMATH_FAULT_INJECT=stop-after-step=25"});
  c.waitForWorkers(2);
  const std::string id = submit(c, job);
  auto info = waitForState(c, id, "PENDING", 30);
  const std::string reason = info["reason"];
  EXPECT_NE(reason.find("missed 3 heartbeats"), std::string::npos) << reason;
  c.addWorker();
  waitForState(c, id, "RUNNING", 30);
  c.thawWorker(1);
  info = waitForState(c, id, "COMPLETED", 60);
  EXPECT_EQ(info["attempt"], 1);
  expectUnbrokenBits(c, id, job, dir);
  // The thawed rank's end was refused by the fence, and its worker registered again.
  c.waitForWorkers(3);
  const std::string thawed = Cluster::slurp(c.dir().path() + "/worker1.log");
  EXPECT_NE(thawed.find("attempt 0 of job " + id + " is over (now 1)"), std::string::npos)
      << thawed;
  EXPECT_EQ(nlohmann::json::parse(c.run("status --json").output)["workers"].size(), 3u)
      << thawed << c.coordinatorLog();
}

// 10 epochs of the same job: 400 steps, long enough for the coordinator to be away mid-job.
const std::string kLongFields =
    testing::fashionMlpJob(2000, 200, 50) + "epochs = 10, workers = 2, checkpointEvery = 10,";

// Waits until `id` is RUNNING past global step `step`.
void waitForStep(const Cluster& c, const std::string& id, uint64_t step) {
  for (int i = 0; i < 600; ++i) {
    auto r = c.run("status " + id + " --json");
    if (r.exitCode == 0) {
      auto info = nlohmann::json::parse(r.output)["jobs"][0];
      if (info["state"] == "RUNNING" && info["step"].get<uint64_t>() >= step) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "job " << id << " never passed step " << step;
}

// SIGKILL the coordinator mid-job and start it again on the same state directory: the ranks train
// on while it is away, register again with their assignment, and the job ends COMPLETED on the
// unbroken run's bits, with no restart of its own.
TEST(FaultMatrix, TheCoordinatorKilledMidJobAndRestartedEndsBitIdentical) {
  TempDir dir;
  const std::string job = dir.write("job.capnp", testing::jobText(kLongFields));
  Cluster c(2);
  const std::string id = submit(c, job);
  waitForStep(c, id, 40);
  c.stopCoordinator(true);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  c.startCoordinator();
  auto info = waitForState(c, id, "COMPLETED", 90);
  EXPECT_EQ(info["attempt"], 0) << info.dump();
  EXPECT_EQ(info["reason"], "") << info.dump();
  const std::string log = logOf(c, id);
  EXPECT_NE(log.find("the coordinator restarted; waiting up to 60 s for the 2 rank(s)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("every rank is back, the job goes on"), std::string::npos) << log;
  EXPECT_EQ(log.find("lost "), std::string::npos) << log;
  expectUnbrokenBits(c, id, job, dir);
}

// SIGSTOP the coordinator for 10 s mid-job: the ranks train on (and may finish) meanwhile, the
// workers reconnect and register again with their ranks, and when it runs again nothing is lost,
// nothing fails, and the job ends on the unbroken run's bits.
TEST(FaultMatrix, TheCoordinatorStoppedForTenSecondsFailsNothing) {
  TempDir dir;
  const std::string job = dir.write("job.capnp", testing::jobText(kLongFields));
  Cluster c(2);
  const std::string id = submit(c, job);
  waitForStep(c, id, 40);
  c.freezeCoordinator();
  std::this_thread::sleep_for(std::chrono::seconds(10));
  c.thawCoordinator();
  auto info = waitForState(c, id, "COMPLETED", 90);
  EXPECT_EQ(info["attempt"], 0) << info.dump();
  const std::string log = logOf(c, id);
  EXPECT_EQ(log.find("lost "), std::string::npos) << log;
  EXPECT_NE(c.coordinatorLog().find("its workers' liveness starts afresh"), std::string::npos)
      << c.coordinatorLog();
  expectUnbrokenBits(c, id, job, dir);
  // Both workers are still registered, and serve the next job.
  auto r = c.run("submit " + job + " --wait");
  EXPECT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
}

// A restart finds one job's record corrupted (a byte flipped) and another's latest checkpoint cut
// short. The coordinator starts, names the damaged record and leaves that job out, serves the
// other from its previous checkpoint, and gives new jobs fresh ids.
TEST(FaultMatrix, ACorruptedRecordAndATruncatedCheckpointCostOnlyWhatTheyHold) {
  TempDir dir;
  const std::string job = dir.write("job.capnp", testing::jobText(kFields));
  Cluster c(2);
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    auto r = c.run("submit " + job + " --wait");
    ASSERT_EQ(r.exitCode, 0) << r.output;
    ids.push_back(r.output.substr(0, r.output.find('\n')));
  }
  c.stopCoordinator();
  const std::string jobs = c.dir().path() + "/jobs/";
  {
    std::fstream f(jobs + ids[0] + "/record.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(24);
    f.put('\x5a');
  }
  std::filesystem::resize_file(jobs + ids[1] + "/checkpoint.params", 100);
  c.startCoordinator();
  auto status = nlohmann::json::parse(c.run("status --json").output)["jobs"];
  ASSERT_EQ(status.size(), 1u) << status.dump();
  EXPECT_EQ(status[0]["id"], ids[1]);
  EXPECT_EQ(status[0]["state"], "COMPLETED");
  const std::string log = c.coordinatorLog();
  EXPECT_NE(log.find("job " + ids[0] + " is not served: " + jobs + ids[0] +
                     "/record.bin: its checksum does not match its content"),
            std::string::npos)
      << log;
  const std::string kept = dir.path() + "/kept.params";
  saveResult(c, ids[1], kept);
  EXPECT_EQ(ParameterStateFile(kept).state().getStep(), kSteps - 10);  // the checkpoint before
  EXPECT_NE(c.coordinatorLog().find("using the previous checkpoint, of step " +
                                    std::to_string(kSteps - 10)),
            std::string::npos)
      << c.coordinatorLog();
  auto r = c.run("submit " + job + " --wait");
  ASSERT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
  EXPECT_EQ(r.output.substr(0, r.output.find('\n')), std::to_string(std::stoi(ids[1]) + 1));
}

// A full disk: the state directory on a 16 MiB tmpfs, filled up mid-job. A submission is refused
// with "state dir DIR: no space left: ...", status and logs are served, the running job trains on
// while its checkpoints fail (logged, and sent again), and once space is freed it ends on the
// unbroken run's bits, and the next submission is taken.
TEST(FaultMatrix, AFullDiskRefusesSubmissionsAndLosesNothing) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  TempDir dir;
  const std::string job = dir.write("job.capnp", testing::jobText(kLongFields));
  Cluster c(2);
  const std::string state = c.dir().path(), saved = dir.path() + "/saved";
  c.stopCoordinator();
  ASSERT_EQ(std::system(("cp -a " + state + " " + saved).c_str()), 0);
  ASSERT_EQ(std::system(("mount -t tmpfs -o size=16m,mode=0700 tmpfs " + state).c_str()), 0);
  struct Unmount {
    std::string path;
    ~Unmount() { (void)std::system(("umount -l " + path).c_str()); }
  } unmount{state};
  ASSERT_EQ(std::system(("cp -a " + saved + "/. " + state).c_str()), 0);
  c.startCoordinator();
  c.waitForWorkers(2);
  const std::string id = submit(c, job);
  waitForStep(c, id, 40);
  (void)std::system(("dd if=/dev/zero of=" + state + "/filler bs=1M 2>/dev/null").c_str());
  auto r = c.run("submit " + job);
  EXPECT_NE(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("state dir " + state + ": no space left: "), std::string::npos)
      << r.output;
  EXPECT_EQ(c.run("status " + id).exitCode, 0);
  EXPECT_EQ(c.run("logs " + id).exitCode, 0);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // checkpoints fail meanwhile
  std::filesystem::remove(state + "/filler");
  waitForState(c, id, "COMPLETED", 90);
  EXPECT_NE(
      c.coordinatorLog().find("cannot store checkpoint: state dir " + state + ": no space left: "),
      std::string::npos)
      << c.coordinatorLog();
  expectUnbrokenBits(c, id, job, dir);
  r = c.run("submit " + job + " --wait");
  EXPECT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
}

}  // namespace
}  // namespace tfmath
