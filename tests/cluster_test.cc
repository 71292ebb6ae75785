// cluster_test.cc: end to end on loopback with a real coordinator and real worker processes:
// training results, equivalence with `tfmath run`, cancel, pending, a killed worker, a coordinator
// restart, the coordinator's answers to bad input, and data checked by the workers, not the
// coordinator.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "jobs/params_file.h"
#include "net/wire.h"
#include "tests/cluster_fixture.h"

namespace tfmath {
namespace {

using testing::Cluster;
using testing::csvJob;
using testing::RawPeer;
using testing::relativeDistance;
using testing::submit;
using testing::TempDir;
using testing::waitForState;

TEST(Cluster, LinregOnTwoWorkersRecoversWeightAndBias) {
  Cluster c(2);
  auto r = c.run("submit " + std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp --wait");
  ASSERT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
  const std::string id = r.output.substr(0, r.output.find('\n'));
  r = c.run("result " + id + " --json");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  auto result = nlohmann::json::parse(r.output);
  EXPECT_EQ(result["job"]["state"], "COMPLETED");
  EXPECT_EQ(result["job"]["ranks"].size(), 2u);
  const std::string learned = result["learned"];
  float w = 0, b = 0;
  ASSERT_EQ(std::sscanf(learned.c_str(), "w = %f  b = %f", &w, &b), 2) << learned;
  EXPECT_NEAR(w, 3.0, 0.1);
  EXPECT_NEAR(b, 2.0, 0.1);
}

// W workers with global batch B end where `tfmath run` with batch B ends (the math depends on the
// global batch, not on how it is split), for W = 1, 2 and 3, batches that 3 does not divide, on
// linreg, on an MLP over a Fashion-MNIST subset, and on a CNN with every training aid: average
// and global average pooling, dropout (its masks drawn per sample, not per rank), AdamW, a cosine
// schedule with warm-up and clipping by the global norm. Only float reassociation in the summed
// gradients separates them, and Adam's division by √v̂ magnifies it where a gradient is near 0:
// at AdamW's default η = 0.001 this CNN ends 3.9e-6 (2 workers) and 5.6e-6 (3) apart, at η = 0.01
// 4.9e-5. Masks drawn by a sample's place in its rank's slice instead put them 0.35 apart.
TEST(Cluster, MatchesTheSingleProcessRunForOneTwoAndThreeWorkers) {
  Cluster c(3);
  TempDir dir;
  const std::string jobs[] = {testing::linregJob() + "epochs = 1,",
                              testing::fashionMlpJob(1000, 200, 100) + "epochs = 1,",
                              testing::fashionCnnWithAidsJob() + "epochs = 2,"};
  for (size_t j = 0; j < 3; ++j) {
    const std::string single = dir.path() + "/single" + std::to_string(j) + ".params";
    const std::string base =
        dir.write("base" + std::to_string(j) + ".capnp", testing::jobText(jobs[j]));
    auto r = testing::tfmath("run " + base + " --save " + single);
    ASSERT_EQ(r.exitCode, 0) << r.output;
    for (int w : {1, 2, 3}) {
      const std::string file =
          dir.write("j" + std::to_string(j) + "w" + std::to_string(w) + ".capnp",
                    testing::jobText(jobs[j] + "workers = " + std::to_string(w)));
      r = c.run("submit " + file + " --wait");
      ASSERT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
      const std::string id = r.output.substr(0, r.output.find('\n'));
      const std::string out =
          dir.path() + "/cluster" + std::to_string(j) + std::to_string(w) + ".params";
      r = c.run("result " + id + " --params " + out);
      ASSERT_EQ(r.exitCode, 0) << r.output;
      EXPECT_LE(relativeDistance(out, single), 1e-5) << "job " << j << " with " << w << " workers";
    }
  }
}

const std::string kLongFields =
    testing::fashionData(60000, 100) +
    "model = [(conv2d = (filters = 8, kernelSize = 3, activation = relu)), (flatten = void),"
    "(dense = (units = 10))], loss = softmaxCrossEntropy, optimizer = (adam = ()),"
    "batchSize = 32, epochs = 200, workers = 2,";
const std::string kLongJob = testing::jobText(kLongFields);
// The same job, failed by the first lost worker rather than requeued.
const std::string kLongJobNoRestarts = testing::jobText(kLongFields + "maxRestarts = 0,");

TEST(Cluster, CancelStopsARunningJobAndFreesItsWorkers) {
  Cluster c(2);
  TempDir dir;
  const std::string id = submit(c, dir.write("long.capnp", kLongJob));
  waitForState(c, id, "RUNNING");
  const auto start = std::chrono::steady_clock::now();
  auto r = c.run("cancel " + id);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  auto info = waitForState(c, id, "CANCELLED", 10);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // Both workers are idle again and can run the next job.
  auto next = c.run("submit " + std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp --wait");
  EXPECT_EQ(next.exitCode, 0) << next.output;
  // Cancelling it again, or a job that does not exist, is an error that names the job.
  r = c.run("cancel " + id);
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.output.find("already ended"), std::string::npos) << r.output;
  r = c.run("cancel 999");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.output.find("no job 999"), std::string::npos) << r.output;
}

TEST(Cluster, TwoJobsRunAtOnceOnFourWorkers) {
  Cluster c(4);
  TempDir dir;
  const std::string a = submit(c, dir.write("a.capnp", kLongJob)),
                    b = submit(c, dir.write("b.capnp", kLongJob));
  auto ia = waitForState(c, a, "RUNNING"), ib = waitForState(c, b, "RUNNING");
  ASSERT_EQ(ia["ranks"].size(), 2u);
  ASSERT_EQ(ib["ranks"].size(), 2u);
  for (auto& w : ia["ranks"])
    EXPECT_TRUE(std::find(ib["ranks"].begin(), ib["ranks"].end(), w) == ib["ranks"].end());
  // A third job waits behind them, with its reason.
  const std::string third = submit(c, std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp");
  EXPECT_EQ(waitForState(c, third, "PENDING", 5)["reason"], "needs 2 worker(s), 0 idle");
  // Cancelling one frees its two workers for the third, at once, while the other job runs on.
  EXPECT_EQ(c.run("cancel " + a).exitCode, 0);
  waitForState(c, third, "COMPLETED");
  EXPECT_EQ(waitForState(c, b, "RUNNING")["state"], "RUNNING");
  EXPECT_EQ(c.run("cancel " + b).exitCode, 0) << "the long job ended before the test did";
}

TEST(Cluster, SubmitFromStdinAndFindTheCoordinatorInAConfigFile) {
  Cluster c(2);
  TempDir home;
  home.write(".config/tfmath/client.conf",
             "# written by the test\ncoordinator = " + c.clientEndpoint() + "\n");
  // As `ssh cluster tfmath-submit - < job.capnp` runs it: the job text on stdin, nothing else set.
  const std::string cmd = "cd " + home.path() +
                          " && env -u TFMATH_COORDINATOR HOME=" + home.path() + " " +
                          std::string(TFMATH_BINARY) + "-submit - --wait < " +
                          std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  std::string out;
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0) << out;
  auto r = c.run("status 1 --json");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["jobs"][0]["state"], "COMPLETED");
  // A bad job on stdin is refused locally with its position, before anything is sent.
  const std::string bad = "cd " + home.path() +
                          " && echo 'const job :UInt32 = 1' | env HOME=" + home.path() + " " +
                          std::string(TFMATH_BINARY) + "-submit - 2>&1";
  p = popen(bad.c_str(), "r");
  out.clear();
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  EXPECT_NE(pclose(p), 0);
  EXPECT_NE(out.find("<stdin>"), std::string::npos) << out;
}

// Without --workers, up starts one worker that computes on every core (OMP_NUM_THREADS, when set,
// counts them, as for every tfmath); --workers N shares them out, and --threads overrides that.
TEST(Cluster, UpStartsOneWorkerOnEveryCoreOrSharesThemOut) {
  const char* before = std::getenv("OMP_NUM_THREADS");
  const std::string saved = before ? before : "";
  setenv("OMP_NUM_THREADS", "4", 1);
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{}, "1 local CPU worker(s) of 4 thread(s)"},
      {{"--workers", "2"}, "2 local CPU worker(s) of 2 thread(s)"},
      {{"--workers", "3", "--threads", "1"}, "3 local CPU worker(s) of 1 thread(s)"}};
  for (const auto& [flags, says] : cases) {
    TempDir dir;
    std::vector<std::string> args{"up", "--state-dir", dir.path()};
    args.insert(args.end(), flags.begin(), flags.end());
    const pid_t up = testing::spawnTfmath(args, dir.path() + "/up.log");
    std::string log;
    for (int i = 0; i < 100 && log.find("export TFMATH_COORDINATOR") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      log = Cluster::slurp(dir.path() + "/up.log");
    }
    EXPECT_NE(log.find(says), std::string::npos) << log;
    kill(up, SIGTERM);
    waitpid(up, nullptr, 0);
  }
  if (before)
    setenv("OMP_NUM_THREADS", saved.c_str(), 1);
  else
    unsetenv("OMP_NUM_THREADS");
}

// `tfmath up` runs its user's jobs wherever their data is; stopped, it takes its processes with it,
// a job in training included, within the 3 s a stopping daemon may take (docs/protocol.md §4), not
// at the collective timeout.
TEST(Cluster, UpReadsItsUsersDataAnywhereAndStopsEverythingMidJobWithinSeconds) {
  TempDir dir;
  const pid_t up = testing::spawnTfmath({"up", "--workers", "2", "--state-dir", dir.path()},
                                        dir.path() + "/up.log");
  // Its three processes, then the export line, which it prints once they are started.
  std::vector<pid_t> children;
  auto exported = [&] {
    return Cluster::slurp(dir.path() + "/up.log").find("export TFMATH_COORDINATOR=ipc://") !=
           std::string::npos;
  };
  for (int i = 0; i < 100 && (children.size() < 3 || !exported()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    children.clear();
    std::ifstream list("/proc/" + std::to_string(up) + "/task/" + std::to_string(up) + "/children");
    for (pid_t p; list >> p;) children.push_back(p);
  }
  ASSERT_EQ(children.size(), 3u) << Cluster::slurp(dir.path() + "/up.log");
  EXPECT_TRUE(exported()) << Cluster::slurp(dir.path() + "/up.log");
  const std::string at = " --coordinator ipc://" + dir.path() + "/coordinator.sock";
  for (int i = 0; i < 100 && testing::tfmath("status" + at).exitCode != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Its user's data may be anywhere, here in a temporary folder outside every data root.
  std::string rows = "a,y\n";
  for (int i = 0; i < 40; ++i) rows += std::to_string(i) + "," + std::to_string(2 * i + 1) + "\n";
  dir.write("t.csv", rows);
  auto r = testing::tfmath(
      "submit --wait " +
      dir.write("csv.capnp",
                testing::jobText("data = (csv = (train = \"t.csv\", target = \"y\")), model = "
                                 "[(dense = (units = 1))], loss = mse, optimizer = (sgd = "
                                 "(learningRate = 0.001)), batchSize = 10, epochs = 1")) +
      at);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  r = testing::tfmath("submit " + dir.write("long.capnp", kLongJob) + at);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  // Training: a step done, so both ranks are in their allreduces.
  for (int i = 0; i < 300; ++i) {
    r = testing::tfmath("status 2 --json" + at);
    if (r.exitCode == 0 && nlohmann::json::parse(r.output)["jobs"][0]["step"] > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto start = std::chrono::steady_clock::now();
  kill(up, SIGTERM);
  int status = 0;
  waitpid(up, &status, 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_LT(seconds, 5) << Cluster::slurp(dir.path() + "/up.log");
  for (pid_t p : children) EXPECT_NE(kill(p, 0), 0) << "pid " << p << " outlived tfmath up";
}

TEST(Cluster, PendingJobSaysWhatItWaitsFor) {
  Cluster c(1);
  const std::string id = submit(c, std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp");
  auto info = waitForState(c, id, "PENDING", 5);
  EXPECT_EQ(info["reason"], "needs 2 worker(s), 1 idle");
  c.addWorker();
  waitForState(c, id, "COMPLETED");
}

// A job's `device` picks its workers: a GPU job waits on a cluster of CPU workers and says so; a
// CPU job runs there.
TEST(Cluster, JobsTakeOnlyWorkersOfTheirDevice) {
  Cluster c(1);
  TempDir dir;
  const std::string linreg =
      "data = (linear = (samples = 40, weights = [3.0], bias = 2.0)), model = [(dense = (units = "
      "1))], loss = mse, optimizer = (sgd = (learningRate = 0.1)), batchSize = 10, epochs = 1,";
  const std::string gpu =
      submit(c, dir.write("gpu.capnp", testing::jobText(linreg + "device = gpu,")));
  EXPECT_EQ(waitForState(c, gpu, "PENDING", 5)["reason"], "needs 1 GPU worker(s), 0 idle");
  EXPECT_EQ(c.run("cancel " + gpu).exitCode, 0);
  const std::string cpu =
      submit(c, dir.write("cpu.capnp", testing::jobText(linreg + "device = cpu,")));
  waitForState(c, cpu, "COMPLETED");
  auto status = nlohmann::json::parse(c.run("status --json").output);
  EXPECT_EQ(status["workers"][0]["device"], "cpu");
  EXPECT_TRUE(status["workers"][0]["gpu"].is_null());
}

TEST(Cluster, KilledWorkerPastMaxRestartsFailsItsJobAndTheOtherWorkerIsFreed) {
  Cluster c(2);
  TempDir dir;
  const std::string id = submit(c, dir.write("long.capnp", kLongJobNoRestarts));
  waitForState(c, id, "RUNNING");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  c.killWorker(1);
  auto info = waitForState(c, id, "FAILED", 20);
  const std::string reason = info["reason"];
  EXPECT_NE(reason.find("lost at step"), std::string::npos) << reason;
  EXPECT_NE(reason.find("worker "), std::string::npos) << reason;
  // The surviving worker leaves its collective (timeout 5 s) and is idle again.
  c.addWorker();
  auto r = c.run("submit " + std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp --wait");
  EXPECT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
}

TEST(Cluster, FrozenWorkerPastMaxRestartsFailsItsJobAndItsPeerLeavesTheCollective) {
  // SIGSTOP keeps the sockets open, so only timeouts can notice: the coordinator's heartbeat (3 s)
  // and the surviving rank's collective timeout (5 s here).
  Cluster c(2);
  TempDir dir;
  const std::string id = submit(c, dir.write("long.capnp", kLongJobNoRestarts));
  waitForState(c, id, "RUNNING");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  c.freezeWorker(1);
  auto info = waitForState(c, id, "FAILED", 30);
  const std::string reason = info["reason"];
  EXPECT_NE(reason.find("missed 3 heartbeats"), std::string::npos) << reason;
  c.addWorker();
  auto r = c.run("submit " + std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp --wait");
  EXPECT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
}

TEST(Cluster, RankWaitingForALostPeerIsReleasedAtOnce) {
  // Worker 1 freezes before the job starts: rank 0 waits in Gloo's rendezvous for it. When the
  // coordinator declares worker 1 dead (3 s), it answers rank 0's waiting store get with an error
  // at once, instead of leaving it to its own timeout (10 s here), and the job fails (it may not
  // be requeued).
  Cluster c(2);
  TempDir dir;
  c.freezeWorker(1);
  const auto start = std::chrono::steady_clock::now();
  const std::string id = submit(
      c, dir.write("linreg.capnp", testing::jobText(testing::linregJob() +
                                                    "epochs = 3, workers = 2, maxRestarts = 0,")));
  auto info = waitForState(c, id, "FAILED", 30);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  EXPECT_NE(std::string(info["reason"]).find("missed 3 heartbeats"), std::string::npos)
      << info.dump();
}

TEST(Cluster, RestartedCoordinatorListsEveryJobAndServesResults) {
  Cluster c(2);
  auto r = c.run("submit " + std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp --wait");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string id = r.output.substr(0, r.output.find('\n'));
  auto before = c.run("result " + id + " --json");
  c.stopCoordinator();
  c.startCoordinator();
  auto status = c.run("status --json");
  ASSERT_EQ(status.exitCode, 0) << status.output;
  auto jobs = nlohmann::json::parse(status.output)["jobs"];
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["state"], "COMPLETED");
  auto after = c.run("result " + id + " --json");
  EXPECT_EQ(after.output, before.output);
  // Workers re-register with the new coordinator and take new jobs; ids keep counting.
  r = c.run("submit " + std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp --wait");
  EXPECT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
  EXPECT_EQ(r.output.substr(0, r.output.find('\n')), "2");
}

// ---- bad input straight to the sockets ----

TEST(Cluster, CoordinatorAnswersBadInputAndKeepsServing) {
  Cluster c(1);
  RawPeer client(c.clientEndpoint());
  RawPeer worker(c.workerEndpoint(), c.workerKeys());
  // Bytes that are not Cap'n Proto.
  EXPECT_NE(client.send({"hello, coordinator"}).find("malformed"), std::string::npos);
  EXPECT_NE(client.send({std::string(64, '\xff')}).find("malformed"), std::string::npos);
  // Two frames where one is allowed.
  EXPECT_NE(client.send({"12345678", "12345678"}).find("one frame"), std::string::npos);
  // A wrong protocol version.
  {
    capnp::MallocMessageBuilder b;
    b.initRoot<proto::Message>().setVersion(99);
    b.getRoot<proto::Message>().setStatus("");
    EXPECT_NE(client.send(b, true).find("protocol version 99"), std::string::npos);
  }
  // A command that does not belong on the client socket, and one not for the worker socket.
  {
    capnp::MallocMessageBuilder b;
    wire::start(b).setHeartbeat();
    EXPECT_NE(client.send(b).find("unexpected command"), std::string::npos);
    capnp::MallocMessageBuilder s;
    wire::start(s).setStatus("");
    EXPECT_NE(worker.send(s).find("unexpected command"), std::string::npos);
  }
  // An invalid job sent past the CLI's checks: the coordinator checks its fields again.
  {
    capnp::MallocMessageBuilder b;
    auto job = wire::start(b).initSubmit().initJob();
    job.initData().initLinear().setSamples(10);
    job.getData().getLinear().initWeights(1).set(0, 1.0);
    job.initModel(1)[0].initDense().setUnits(1);
    job.initOptimizer().initSgd().setLearningRate(0.1);
    job.setEpochs(1);
    job.setBatchSize(0);
    EXPECT_NE(client.send(b).find("invalid job: batchSize: must be > 0"), std::string::npos);
  }
  // Arrays sent past the CLI's checks: empty, overrides that do not match, a job that is invalid.
  {
    capnp::MallocMessageBuilder b;
    wire::start(b).initSubmitArray();
    EXPECT_NE(client.send(b).find("invalid array: it has no jobs"), std::string::npos);
    capnp::MallocMessageBuilder m;
    auto a = wire::start(m).initSubmitArray();
    auto jobs = a.initJobs(2);
    for (unsigned i = 0; i < 2; ++i) {
      jobs[i].initData().initLinear().setSamples(10);
      jobs[i].getData().getLinear().initWeights(1).set(0, 1.0);
      jobs[i].initModel(1)[0].initDense().setUnits(1);
      jobs[i].initOptimizer().initSgd().setLearningRate(0.1);
      jobs[i].setEpochs(1);
      jobs[i].setBatchSize(i == 0 ? 5 : 0);
    }
    a.initOverrides(1);
    EXPECT_NE(client.send(m).find("invalid array: 1 overrides for 2 jobs"), std::string::npos);
    a.initOverrides(2);
    EXPECT_NE(client.send(m).find("array job 1: invalid job: batchSize: must be > 0"),
              std::string::npos);
    // A dependency and an init-from that name no job.
    capnp::MallocMessageBuilder d;
    auto dep = wire::start(d).initSubmitArray();
    dep.setJobs(a.getJobs().asReader());
    dep.getJobs()[1].setBatchSize(5);
    dep.initOverrides(2);
    dep.initDependency().initJobs(1).set(0, "4040");
    EXPECT_NE(client.send(d).find("dependency: no job 4040"), std::string::npos);
    capnp::MallocMessageBuilder f;
    auto from = wire::start(f).initSubmit();
    from.setJob(dep.getJobs()[0].asReader());
    from.setInitFrom("../../etc");
    EXPECT_NE(client.send(f).find("init-from: no job ../../etc"), std::string::npos);
    EXPECT_EQ(nlohmann::json::parse(c.run("status --json").output)["jobs"].size(), 0u);
  }
  // Session commands before attaching, and an attach to a job that does not run.
  {
    capnp::MallocMessageBuilder b;
    wire::start(b).setStoreGet("key");
    EXPECT_NE(worker.send(b).find("not attached"), std::string::npos);
    capnp::MallocMessageBuilder a;
    wire::start(a).initAttach().setJobId("77");
    EXPECT_NE(worker.send(a).find("no running job 77"), std::string::npos);
  }
  // A worker that registers twice is one worker.
  {
    for (int i = 0; i < 2; ++i) {
      capnp::MallocMessageBuilder b;
      auto r = wire::start(b).initRegister();
      r.setWorkerId("twice:1");
      r.setDevice("cpu");
      EXPECT_EQ(worker.send(b), "(not an error)");
    }
    auto status = nlohmann::json::parse(c.run("status --json").output);
    int seen = 0;
    for (auto& w : status["workers"]) seen += w["id"] == "twice:1";
    EXPECT_EQ(seen, 1);
  }
  // A message over the size limit: ZeroMQ drops that connection; the coordinator serves on.
  {
    RawPeer big(c.clientEndpoint());
    std::string huge(static_cast<size_t>(wire::kMaxMessageBytes) + 8, '\0');
    EXPECT_EQ(big.send({huge}), "");
  }
  // After all that, it still answers and still trains.
  auto r = c.run("status");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(c.coordinatorLog().find("rejected a message"), std::string::npos);
}

// docs/protocol.md §6.1: the coordinator never reads the data. A submission whose data takes
// seconds to read is answered at once, and the loop keeps every running job's heartbeats going
// meanwhile.
TEST(Cluster, ABigDataSetSubmittedWhileAJobRunsDoesNotStallTheCoordinator) {
  Cluster c(2);
  TempDir dir;
  const std::string running = submit(c, dir.write("long.capnp", kLongJob));
  waitForState(c, running, "RUNNING");
  // 40 MB of CSV: reading it took the old coordinator about 2.5 s on its loop.
  const std::string big = dir.path() + "/big.csv";
  testing::writeBigCsv(big, 2000000);  // 40 MB
  RawPeer client(c.clientEndpoint());
  capnp::MallocMessageBuilder b;
  csvJob(b, big, 2);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client.send(b), "(not an error)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000))
      << "the submission was answered only after the data was read";
  // Longer than the liveness limit (3 s): the running job keeps running.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  auto info = waitForState(c, running, "RUNNING", 1);
  EXPECT_EQ(info["state"], "RUNNING") << c.coordinatorLog();
  EXPECT_EQ(c.coordinatorLog().find("missed 3 heartbeats"), std::string::npos)
      << c.coordinatorLog();
  EXPECT_EQ(c.run("cancel " + running).exitCode, 0);
  EXPECT_EQ(waitForState(c, running, "CANCELLED", 10)["state"], "CANCELLED");
}

// docs/protocol.md §5.5: data the coordinator never reads is checked by the workers before step 0;
// a file inside the data roots that the coordinator's machine lacks is accepted, and its absence
// fails the job with the message `tfmath run` gives for it.
TEST(Cluster, UnreadableDataIsAcceptedThenFailsTheJobNamingTheDataError) {
  Cluster c(1);
  TempDir dir;
  const std::string missing = dir.path() + "/missing/train.csv";
  RawPeer client(c.clientEndpoint());
  capnp::MallocMessageBuilder b;
  csvJob(b, missing, 1);
  EXPECT_EQ(client.send(b), "(not an error)");
  auto info = waitForState(c, "1", "FAILED", 20);
  const std::string reason = info["reason"];
  EXPECT_NE(reason.find("invalid job: data.csv.train: " + missing + ": cannot read"),
            std::string::npos)
      << reason;
  auto logs = c.run("logs 1");
  EXPECT_NE(logs.output.find("FAILED: rank 0 on worker"), std::string::npos) << logs.output;
  EXPECT_NE(logs.output.find(missing + ": cannot read"), std::string::npos) << logs.output;
}

TEST(Cluster, ClientWithoutCoordinatorFailsClearlyAndFast) {
  TempDir dir;
  auto start = std::chrono::steady_clock::now();
  // No socket file: said at once, not after the request's timeout.
  auto r = testing::tfmath("status --coordinator ipc://" + dir.path() + "/nothing.sock");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.output.find("nothing.sock does not exist"), std::string::npos) << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // A socket file that nothing listens on (a coordinator that died): said at once too.
  start = std::chrono::steady_clock::now();
  const std::string stale = dir.path() + "/stale.sock";
  {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, stale.c_str(), sizeof address.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    ::close(fd);
  }
  r = testing::tfmath("status --coordinator ipc://" + stale);
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.output.find("nothing listens on the coordinator's socket " + stale),
            std::string::npos)
      << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // A socket this user may not write to: permission denied, at once. Root may write anywhere, so
  // the CLI runs as the unprivileged `nobody` (from Debian's base system) when the test is root.
  if (testing::whyNotAsNobody().empty()) {
    ::chmod(stale.c_str(), 0600);
    start = std::chrono::steady_clock::now();
    r = testing::tfmathAsNobody(dir.path(), "status --coordinator ipc://" + stale);
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.output.find("permission denied on the coordinator's socket " + stale),
              std::string::npos)
        << r.output;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  }
  r = testing::tfmath("status");  // nothing configured at all
  if (!std::getenv("TFMATH_COORDINATOR")) {
    EXPECT_NE(r.output.find("no coordinator"), std::string::npos) << r.output;
  }
}

// A raw client (past the CLI's own checks) names its job to take over other users' terminals: a
// title change, a screen clear and a forged row. The coordinator refuses it, naming the field, and
// its log carries no control character.
TEST(Cluster, AJobNameWithControlCharactersIsRefusedAndNeverPrintedRaw) {
  Cluster c(1);
  RawPeer client(c.clientEndpoint());
  capnp::MallocMessageBuilder b;
  csvJob(b, "/nonexistent.csv", 1);
  const std::string attack = "x\x1b]0;pwned\x07\x1b[2J\n2     root  forged  COMPLETED";
  b.getRoot<proto::Message>().getSubmit().getJob().setName(attack);
  EXPECT_EQ(client.send(b),
            "invalid job: name: must be printable UTF-8 without control characters");
  const testing::CommandResult status =
      testing::tfmath("status --coordinator " + c.clientEndpoint());
  EXPECT_EQ(status.exitCode, 0) << status.output;
  EXPECT_EQ(status.output.find("forged"), std::string::npos) << status.output;
  EXPECT_EQ(c.coordinatorLog().find('\x1b'), std::string::npos) << c.coordinatorLog();
  // An error that quotes what the user sent comes back escaped too.
  const testing::CommandResult cancel =
      testing::tfmath("cancel '7\x1b[2J' --coordinator " + c.clientEndpoint());
  EXPECT_EQ(cancel.exitCode, 1) << cancel.output;
  EXPECT_NE(cancel.output.find("no job 7\\x1b[2J"), std::string::npos) << cancel.output;
  EXPECT_EQ(cancel.output.find('\x1b'), std::string::npos) << cancel.output;
}

}  // namespace
}  // namespace tfmath
