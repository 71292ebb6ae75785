// shared_cluster_test.cc: a cluster that many users share, tried as a hostile user would, with a
// raw client that skips the CLI's own checks: data roots, and errors that quote nothing of a file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "tests/cluster_fixture.h"

namespace tfmath {
namespace {

using testing::Cluster;
using testing::csvJob;
using testing::RawPeer;
using testing::TempDir;
using testing::waitForState;

// A cluster whose coordinator and worker may read data only in ROOT.
struct RootedCluster {
  TempDir dir;
  std::string root = dir.path() + "/root";
  std::unique_ptr<Cluster> cluster;
  explicit RootedCluster(int workers) {
    std::filesystem::create_directory(root);
    cluster = std::make_unique<Cluster>(workers, std::vector<std::string>{},
                                        std::vector<std::string>{root});
  }
  // Submits a CSV job over `path` for `workers` ranks as a raw client; returns the error ("(not
  // an error)" when accepted).
  std::string submitCsv(const std::string& path, uint32_t workers = 1) const {
    RawPeer client(cluster->clientEndpoint());
    capnp::MallocMessageBuilder b;
    csvJob(b, path, workers);
    return client.send(b);
  }
};

// The daemons run as root here: what they refuse, they refuse by the roots, not by permissions.
TEST(SharedCluster, DataOutsideTheRootsIsRefusedAtSubmissionAndNothingOfItIsQuoted) {
  RootedCluster rc(1);
  const std::string& root = rc.root;
  std::filesystem::create_symlink("/etc/shadow", root + "/shadow-link.csv");
  ASSERT_EQ(::mkfifo((root + "/fifo.csv").c_str(), 0666), 0);
  const std::string outside = ": is outside the data roots (" + root + ")";
  EXPECT_EQ(rc.submitCsv("/etc/shadow"), "invalid job: data.csv.train: /etc/shadow" + outside);
  const std::string dotdot = root + "/../../../../../../etc/shadow";
  EXPECT_EQ(rc.submitCsv(dotdot), "invalid job: data.csv.train: " + dotdot + outside);
  EXPECT_EQ(rc.submitCsv(root + "/shadow-link.csv"),
            "invalid job: data.csv.train: " + root + "/shadow-link.csv" + outside);
  EXPECT_EQ(rc.submitCsv("shadow-link.csv"),
            "invalid job: data.csv.train: shadow-link.csv: must be an absolute path (a client "
            "makes a relative one absolute against the job file's folder)");
  // A FIFO would block whoever opens it: refused, and the coordinator answers the next request.
  EXPECT_EQ(rc.submitCsv(root + "/fifo.csv"),
            "invalid job: data.csv.train: " + root + "/fifo.csv: is not a regular file");
  const auto status = rc.cluster->run("status --json");
  EXPECT_EQ(status.exitCode, 0) << status.output;
  EXPECT_EQ(nlohmann::json::parse(status.output)["jobs"].size(), 0u) << status.output;
  EXPECT_EQ(rc.cluster->coordinatorLog().find("root:"), std::string::npos);
}

// What the coordinator could not see at submission (a file missing on its machine) is checked
// again by the worker that opens it: a link out of the roots or a FIFO put there since fails the
// job, the worker does not block, and it keeps serving.
TEST(SharedCluster, AWorkerChecksWhatItOpensAndKeepsServing) {
  RootedCluster rc(1);
  const std::string& root = rc.root;
  // Two ranks on a one-worker cluster: PENDING until a second worker comes.
  EXPECT_EQ(rc.submitCsv(root + "/later-link.csv", 2), "(not an error)");
  EXPECT_EQ(rc.submitCsv(root + "/later-fifo.csv", 2), "(not an error)");
  waitForState(*rc.cluster, "1", "PENDING", 5);
  std::filesystem::create_symlink("/etc/shadow", root + "/later-link.csv");
  ASSERT_EQ(::mkfifo((root + "/later-fifo.csv").c_str(), 0666), 0);
  rc.cluster->addWorker();
  auto first = waitForState(*rc.cluster, "1", "FAILED", 30);
  EXPECT_NE(first["reason"].get<std::string>().find("invalid job: data.csv.train: " + root +
                                                    "/later-link.csv: is outside the data roots (" +
                                                    root + ")"),
            std::string::npos)
      << first;
  auto second = waitForState(*rc.cluster, "2", "FAILED", 30);
  EXPECT_NE(
      second["reason"].get<std::string>().find(root + "/later-fifo.csv: is not a regular file"),
      std::string::npos)
      << second;
  // Both workers still serve: a good job on two ranks completes.
  std::string rows = "a,y\n";
  for (int i = 0; i < 40; ++i) rows += std::to_string(i) + "," + std::to_string(2 * i + 1) + "\n";
  rc.dir.write("root/good.csv", rows);
  EXPECT_EQ(rc.submitCsv(root + "/good.csv", 2), "(not an error)");
  EXPECT_EQ(waitForState(*rc.cluster, "3", "COMPLETED", 60)["state"], "COMPLETED");
}

// A data file inside the roots whose content is secret to the user: the error names the field, the
// file, the line and column and the kind of problem, and quotes none of it.
TEST(SharedCluster, ADataErrorFromAWorkerQuotesNothingOfTheFile) {
  RootedCluster rc(1);
  const std::string path =
      rc.dir.write("root/key.csv", "-----BEGIN OPENSSH PRIVATE KEY-----,y\nb3BlbnNzaC1r,1\n");
  EXPECT_EQ(rc.submitCsv(path), "(not an error)");
  auto info = waitForState(*rc.cluster, "1", "FAILED", 30);
  const std::string reason = info["reason"];
  EXPECT_NE(reason.find("data.csv.train: " + path + ": line 2, column 1: not a finite number"),
            std::string::npos)
      << reason;
  const auto logs = rc.cluster->run("logs 1");
  for (const std::string& text : {reason, logs.output, rc.cluster->coordinatorLog()}) {
    EXPECT_EQ(text.find("OPENSSH"), std::string::npos) << text;
    EXPECT_EQ(text.find("b3Bl"), std::string::npos) << text;
  }
}

// `--client-socket-group`: members of the group reach the ipc socket (mode 0660) and act as
// themselves; the coordinator refuses to start with a socket the group could not reach.
TEST(SharedCluster, AGroupSharesTheLocalSocket) {
  if (const std::string why = testing::whyNotAsNobody(); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  // Where a deployment would put it: a folder of the group's, not the state folder.
  const std::string socket = testing::nogroupSocket(dir);
  Cluster c(1, {"--client-endpoint", "ipc://" + socket, "--client-socket-group", "nogroup"});
  struct stat st {};
  ASSERT_EQ(::stat(socket.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  const std::string job = dir.write(
      "linreg.capnp", testing::jobText(testing::linregJob() + " epochs = 2, workers = 1"));
  ::chmod(job.c_str(), 0644);
  auto r = testing::tfmathAsNobody(dir.path(),
                                   "submit " + job + " --wait --coordinator ipc://" + socket);
  EXPECT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
  r = c.run("status --json");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["jobs"][0]["user"], "nobody") << r.output;

  // The same group on a socket inside the state folder (0700): refused at the start, saying why.
  r = testing::tfmath("coordinator --state-dir " + dir.path() +
                      "/state --client-socket-group nogroup --worker-endpoint tcp://127.0.0.1:0");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("--client-socket-group nogroup: the group cannot reach the socket " +
                          dir.path() + "/state/coordinator.sock, because " + dir.path() +
                          "/state lets neither it nor everyone pass"),
            std::string::npos)
      << r.output;
  r = testing::tfmath("coordinator --state-dir " + dir.path() +
                      "/state2 --client-socket-group no-such-group-here --worker-endpoint "
                      "tcp://127.0.0.1:0");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("--client-socket-group no-such-group-here: no such group"),
            std::string::npos)
      << r.output;
}

// 300 plaintext connections to a CURVE endpoint: one log line about them per interval, and then
// their count, instead of 300 lines.
TEST(SharedCluster, RefusedPeersGetOneLogLinePerIntervalWithACount) {
  Cluster c(0, {"--client-endpoint", "tcp://127.0.0.1:*", "--refusal-log-interval", "1"});
  {
    zmq::context_t context;
    std::vector<std::unique_ptr<zmq::socket_t>> peers;
    for (int i = 0; i < 300; ++i) {
      peers.push_back(std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer));
      peers.back()->set(zmq::sockopt::linger, 0);
      peers.back()->set(zmq::sockopt::reconnect_ivl, -1);  // one attempt each
      peers.back()->connect(c.clientEndpoint());
      peers.back()->send(zmq::str_buffer("hello"), zmq::send_flags::dontwait);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  }
  // The held-back count comes out once the interval ends.
  std::string log;
  for (int i = 0; i < 50 && log.find("more like it from client handshakes") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    log = c.coordinatorLog();
  }
  size_t lines = 0;
  for (size_t at = 0; (at = log.find("a client handshake failed", at)) != std::string::npos; ++at)
    ++lines;
  EXPECT_LE(lines, 4u) << log;
  EXPECT_NE(log.find("more like it from client handshakes in 1 s"), std::string::npos) << log;
}

// A job over a worker's memory limit fails at once with its estimate, before anything big is
// allocated, and the worker keeps serving; `tfmath submit` refuses it before sending it.
TEST(SharedCluster, AJobOverAWorkersMemoryLimitFailsAtOnceAndTheWorkerServesOn) {
  Cluster c(0);
  c.addWorker({"--memory-limit", "1GiB"});
  c.waitForWorkers(1);
  RawPeer client(c.clientEndpoint());
  auto linearJob = [&](const std::string& name, uint32_t samples, uint32_t units) {
    capnp::MallocMessageBuilder b;
    auto job = wire::start(b).initSubmit().initJob();
    job.setName(name);
    job.initData().initLinear().setSamples(samples);
    job.getData().getLinear().initWeights(1).set(0, 1.0);
    // A hidden layer of `units`, then one output.
    auto model = job.initModel(2);
    model[0].initDense().setUnits(units);
    model[0].getDense().setActivation(proto::Activation::RELU);
    model[1].initDense().setUnits(1);
    job.initOptimizer().initSgd().setLearningRate(0.1);
    job.setEpochs(1);
    job.setBatchSize(10);
    job.setWorkers(1);
    return client.send(b);
  };
  // The dense layer of 2,000,000,000 units that once grew a worker toward the host's memory.
  EXPECT_EQ(linearJob("huge", 100, 2000000000u), "(not an error)");
  // Linear data of 4,000,000,000 samples: refused before it is generated.
  EXPECT_EQ(linearJob("many samples", 4000000000u, 1), "(not an error)");
  const auto start = std::chrono::steady_clock::now();
  // Parameters (2e9 + 2e9) + (2e9 + 1) floats = 22.4 GiB, gradients as many, no slots (plain
  // SGD); activations 2 · 4 bytes · (1 + 2e9 + 2e9 + 1) outputs (input, dense, relu, dense) ·
  // 10 samples = 298.0 GiB; data 100 · (1 + 1) · 4 = 800 bytes; in all 342.7 GiB.
  auto first = waitForState(c, "1", "FAILED", 20);
  EXPECT_NE(first["reason"].get<std::string>().find(
                "the job needs about 342.7 GiB (data 800 bytes, parameters 22.4 GiB, gradients "
                "22.4 GiB, optimizer slots 0 bytes, activations 298.0 GiB at a local batch of "
                "10) on each worker, over this worker's memory limit of 1.0 GiB"),
            std::string::npos)
      << first;
  // 4e9 · (1 + 1) · 4 bytes = 29.8 GiB.
  auto second = waitForState(c, "2", "FAILED", 20);
  EXPECT_NE(second["reason"].get<std::string>().find(
                "the job needs 29.8 GiB for its linear data on each worker, over this worker's "
                "memory limit of 1.0 GiB (tfmath worker --memory-limit)"),
            std::string::npos)
      << second;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // The worker serves on, and the CLI refuses the huge job itself, naming the workers' limit.
  TempDir dir;
  auto r = c.run(
      "submit " +
      dir.write("ok.capnp", testing::jobText(testing::linregJob() + " epochs = 1, workers = 1")) +
      " --wait");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  r = c.run("submit " +
            dir.write("huge.capnp", testing::jobText("data = (linear = (samples = 100, weights = "
                                                     "[1.0])), model = [(dense = (units = "
                                                     "2000000000)), (dense = (units = 1))], loss = "
                                                     "mse, optimizer = (sgd = "
                                                     "(learningRate = 0.1)), batchSize = 10, "
                                                     "epochs = 1")));
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find("on each worker, and the largest any worker allows is 1.0 GiB"),
            std::string::npos)
      << r.output;
}

// A cancel while the ranks load their data ends the job within seconds of the load.
TEST(SharedCluster, ACancelWhileTheDataLoadsEndsTheJob) {
  Cluster c(2);
  TempDir dir;
  const std::string big = dir.path() + "/big.csv";
  testing::writeBigCsv(big, 1000000);
  RawPeer client(c.clientEndpoint());
  capnp::MallocMessageBuilder b;
  csvJob(b, big, 2);
  EXPECT_EQ(client.send(b), "(not an error)");
  waitForState(c, "1", "RUNNING", 10);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(c.run("cancel 1").exitCode, 0);
  EXPECT_EQ(waitForState(c, "1", "CANCELLED", 10)["state"], "CANCELLED");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(6));
}

// Client connections are bounded for all users together: past the limit a client is told to try
// again at once, and a connection that closes makes room.
TEST(SharedCluster, ClientConnectionsPastTheLimitAreToldToTryAgain) {
  Cluster c(0, {"--max-client-connections", "3"});
  auto askStatus = [](RawPeer& peer) {
    capnp::MallocMessageBuilder b;
    wire::start(b).setStatus("");
    return peer.send(b);
  };
  std::vector<std::unique_ptr<RawPeer>> peers;
  for (int i = 0; i < 3; ++i) {
    peers.push_back(std::make_unique<RawPeer>(c.clientEndpoint()));
    EXPECT_EQ(askStatus(*peers.back()), "(not an error)");
  }
  const auto start = std::chrono::steady_clock::now();
  auto r = c.run("status");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("has as many client connections as it takes (its "
                          "--max-client-connections); try again in a moment"),
            std::string::npos)
      << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_NE(c.coordinatorLog().find("3 client connections open, its limit "
                                    "(--max-client-connections 3)"),
            std::string::npos)
      << c.coordinatorLog();
  peers.pop_back();
  for (int i = 0; i < 50 && (r = c.run("status")).exitCode != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(r.exitCode, 0) << r.output;
}

// A worker that cannot allocate what a job needs (here its address space is capped at 2 GB, below
// the 4 GB of the job's weights, while its --memory-limit lets the job in) fails the job with that
// reason and keeps serving.
TEST(SharedCluster, AWorkerThatCannotAllocateFailsTheJobAndServesOn) {
  Cluster c(0);
  const pid_t worker =
      testing::spawnTfmath({"worker", "--coordinator", c.workerEndpoint(), "--keys", c.keysDir(),
                            "--memory-limit", "1TiB"},
                           c.dir().path() + "/capped-worker.log", {"prlimit", "--as=2000000000"});
  c.waitForWorkers(1);
  RawPeer client(c.clientEndpoint());
  capnp::MallocMessageBuilder b;
  auto job = wire::start(b).initSubmit().initJob();
  job.setName("too big for this worker");
  job.initData().initLinear().setSamples(20);
  job.getData().getLinear().initWeights(1).set(0, 1.0);
  auto model = job.initModel(2);
  model[0].initDense().setUnits(1000000000);
  model[1].initDense().setUnits(1);
  job.initOptimizer().initSgd().setLearningRate(0.1);
  job.setEpochs(1);
  job.setBatchSize(1);
  job.setWorkers(1);
  EXPECT_EQ(client.send(b), "(not an error)");
  auto info = waitForState(c, "1", "FAILED", 30);
  EXPECT_NE(info["reason"].get<std::string>().find(
                "out of memory: this worker could not allocate what the job needs"),
            std::string::npos)
      << info << Cluster::slurp(c.dir().path() + "/capped-worker.log");
  TempDir dir;
  auto r = c.run(
      "submit " +
      dir.write("ok.capnp", testing::jobText(testing::linregJob() + " epochs = 1, workers = 1")) +
      " --wait");
  EXPECT_EQ(r.exitCode, 0) << r.output << Cluster::slurp(c.dir().path() + "/capped-worker.log");
  ::kill(worker, SIGTERM);
  ::waitpid(worker, nullptr, 0);
}

// A flood from one user: a 30 MB name is refused by the job-size limit before anything is stored,
// and a burst of 40 submissions gets the rate limit; `status` keeps working for everyone.
TEST(SharedCluster, AFloodOfSubmissionsIsBoundedAndStatusKeepsWorking) {
  Cluster c(0);
  TempDir dir;
  RawPeer client(c.clientEndpoint());
  {
    capnp::MallocMessageBuilder b;
    csvJob(b, dir.path() + "/none.csv", 1);
    b.getRoot<proto::Message>().getSubmit().getJob().setName(std::string(30 << 20, 'n'));
    EXPECT_NE(client.send(b).find("bytes, over this coordinator's limit of 1048576 "
                                  "(--max-job-bytes)"),
              std::string::npos);
  }
  int accepted = 0, tooFast = 0;
  for (int i = 0; i < 40; ++i) {
    capnp::MallocMessageBuilder b;
    csvJob(b, dir.path() + "/none.csv", 1);
    const std::string answer = client.send(b);
    if (answer == "(not an error)") ++accepted;
    if (answer.find("(--max-submits-per-second)") != std::string::npos) ++tooFast;
  }
  EXPECT_GE(accepted, 10);  // the burst
  EXPECT_LT(accepted, 40);
  EXPECT_EQ(accepted + tooFast, 40);
  const auto r = c.run("status --json");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["jobs"].size(), static_cast<size_t>(accepted));
}

// `--trust-own-user` (a cluster of one user, as `tfmath up` runs it): the coordinator's own user
// reads data outside the roots; another user, here nobody through the group's socket, does not.
TEST(SharedCluster, OnlyTheOwnUsersJobsLeaveTheRootsWhenTrusted) {
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  const std::string root = dir.path() + "/root", run = dir.path() + "/run";
  std::filesystem::create_directory(root);
  std::filesystem::create_directory(run);
  const bool asNobody = testing::whyNotAsNobody().empty();
  if (asNobody) {
    ASSERT_EQ(std::system(("chgrp nogroup " + run + " && chmod 0750 " + run).c_str()), 0);
  }
  std::vector<std::string> args{"--client-endpoint", "ipc://" + run + "/c.sock",
                                "--trust-own-user"};
  if (asNobody) args.insert(args.end(), {"--client-socket-group", "nogroup"});
  Cluster c(1, args, {root});
  std::string rows = "a,y\n";
  for (int i = 0; i < 40; ++i) rows += std::to_string(i) + "," + std::to_string(2 * i + 1) + "\n";
  dir.write("t.csv", rows);  // outside the root
  const std::string job = dir.write(
      "job.capnp", testing::jobText("data = (csv = (train = \"t.csv\", target = \"y\")), model = "
                                    "[(dense = (units = 1))], loss = mse, optimizer = (sgd = "
                                    "(learningRate = 0.001)), batchSize = 10, epochs = 1"));
  ::chmod(job.c_str(), 0644);
  ::chmod((dir.path() + "/t.csv").c_str(), 0644);
  auto r = c.run("submit " + job + " --wait");
  EXPECT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
  if (!asNobody) GTEST_SKIP() << "the other user's half: " << testing::whyNotAsNobody();
  r = testing::tfmathAsNobody(dir.path(), "submit " + job + " --coordinator " + c.clientEndpoint());
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("invalid job: data.csv.train: " + dir.path() +
                          "/t.csv: is outside the data roots (" + root + ")"),
            std::string::npos)
      << r.output;
}

// A deployment keeps its roots in the daemon's config file; a wrong line stops the start, naming
// it.
TEST(SharedCluster, TheDataRootsCanComeFromTheConfigFile) {
  TempDir dir;
  const std::string root = dir.path() + "/from-config";
  std::filesystem::create_directory(root);
  const std::string config =
      dir.write("coordinator.conf", "# the roots\ndata-root = " + root + "\n");
  Cluster c(0, {"--config", config}, {});
  RawPeer client(c.clientEndpoint());
  capnp::MallocMessageBuilder b;
  csvJob(b, "/etc/shadow", 1);
  EXPECT_EQ(client.send(b),
            "invalid job: data.csv.train: /etc/shadow: is outside the data roots (" + root + ")");

  const std::string bad = dir.write("bad.conf", "data-root = " + root + "\ndata-rot = /srv\n");
  const auto r =
      testing::tfmath("coordinator --state-dir " + dir.path() + "/state --config " + bad);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find(bad + ":2: no option --data-rot to set"), std::string::npos) << r.output;
}

// A packaged daemon takes its settings from its config file: a worker unit's command line names
// only the file and the device. A required setting missing from both is named with where it goes.
TEST(SharedCluster, AWorkerCanTakeAllItsSettingsFromTheConfigFile) {
  TempDir dir;
  Cluster c(0);
  const std::string config =
      dir.write("worker.conf", "coordinator = " + c.workerEndpoint() + "\nkeys = " + c.keysDir() +
                                   "\ncollective-timeout = 5\n");
  const pid_t worker = testing::spawnTfmath({"worker", "--config", config, "--device", "cpu:1"},
                                            dir.path() + "/worker.log");
  c.waitForWorkers(1);
  const auto status = nlohmann::json::parse(c.run("status --json").output);
  ASSERT_EQ(status["workers"].size(), 1u) << testing::Cluster::slurp(dir.path() + "/worker.log");
  EXPECT_EQ(status["workers"][0]["device"], "cpu:1");
  kill(worker, SIGTERM);
  waitpid(worker, nullptr, 0);

  const std::string none = dir.write("none.conf", "keys = " + c.keysDir() + "\n");
  auto r = testing::tfmath("worker --config " + none);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("--coordinator is required: give it on the command line, or as "
                          "`coordinator = ...` in " +
                          none),
            std::string::npos)
      << r.output;
  r = testing::tfmath("coordinator --config " + none);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("--state-dir is required"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace tfmath
