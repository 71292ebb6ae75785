// cluster_fixture.h: a real cluster on loopback for end-to-end tests: a `tfmath coordinator`
// process and N `tfmath worker` processes, a temp state directory, and the CLI run as a user runs
// it.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "jobs/params_file.h"
#include "net/curve_keys.h"
#include "net/wire.h"
#include "tests/test_util.h"

namespace tfmath::testing {

// Starts `tfmath ARGS` with its output in `logPath`, run through `prefix` (such as
// {"ip", "netns", "exec", "NS"}) when one is given, with `env` ("NAME=VALUE") added to its
// environment. Each runs in a session of its own, as a service manager starts a daemon: a daemon
// frozen by SIGSTOP is then never sent SIGHUP when the test's process group is orphaned.
inline pid_t spawnTfmath(const std::vector<std::string>& args, const std::string& logPath,
                         const std::vector<std::string>& prefix = {},
                         const std::vector<std::string>& env = {}) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  setsid();
  for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
  FILE* log = std::fopen(logPath.c_str(), "a");
  dup2(fileno(log), 1);
  dup2(fileno(log), 2);
  std::vector<char*> argv;
  for (const auto& p : prefix) argv.push_back(const_cast<char*>(p.c_str()));
  const std::string binary = tfmathBinary();
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  _exit(127);
}

class Cluster {
 public:
  // The data roots of a test cluster: the temp folder, where tests write their data, and
  // Fashion-MNIST's.
  static std::vector<std::string> testDataRoots() {
    return {std::filesystem::temp_directory_path().string(), kFashion};
  }

  // `coordinatorArgs` go to `tfmath coordinator` after the state dir and worker endpoint;
  // `dataRoots` to the coordinator and every worker.
  explicit Cluster(int workers, std::vector<std::string> coordinatorArgs = {},
                   std::vector<std::string> dataRoots = testDataRoots())
      : coordinatorArgs_(std::move(coordinatorArgs)) {
    for (const auto& root : dataRoots) rootArgs_.insert(rootArgs_.end(), {"--data-root", root});
    startCoordinator();
    for (int i = 0; i < workers; ++i) addWorker();
    waitForWorkers(workers);
  }
  ~Cluster() {
    for (pid_t p : workers_) stop(p);
    stop(coordinator_);
  }

  void startCoordinator() {
    std::remove((dir_.path() + "/endpoints").c_str());
    std::vector<std::string> args{"coordinator", "--state-dir", dir_.path(), "--worker-endpoint",
                                  workerEndpoint_.empty() ? "tcp://127.0.0.1:*" : workerEndpoint_};
    args.insert(args.end(), coordinatorArgs_.begin(), coordinatorArgs_.end());
    args.insert(args.end(), rootArgs_.begin(), rootArgs_.end());
    coordinator_ = spawnTfmath(args, dir_.path() + "/coordinator.log");
    for (int i = 0; i < 200 && workerEndpoint_.empty(); ++i) {
      std::ifstream in(dir_.path() + "/endpoints");
      std::string kind, endpoint;
      while (in >> kind >> endpoint)
        (kind == "worker"   ? workerEndpoint_
         : kind == "client" ? clientEndpoint_
                            : metricsEndpoint_) = endpoint;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (int i = 0; i < 200; ++i) {
      if (std::ifstream(dir_.path() + "/endpoints").good()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  // Starts one more worker, with `extraArgs` after the usual ones and `env` added to its
  // environment.
  void addWorker(const std::vector<std::string>& extraArgs = {},
                 const std::vector<std::string>& env = {}) {
    std::vector<std::string> args{"worker", "--coordinator", workerEndpoint_,
                                  "--keys", keysDir(),       "--collective-timeout",
                                  "5"};
    args.insert(args.end(), rootArgs_.begin(), rootArgs_.end());
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());
    workers_.push_back(spawnTfmath(
        args, dir_.path() + "/worker" + std::to_string(workers_.size()) + ".log", {}, env));
  }
  // Waits until `n` workers are registered (by asking status).
  void waitForWorkers(int n) {
    for (int i = 0; i < 100; ++i) {
      size_t count = 0, at = 0;
      if (clientEndpoint_.starts_with("tcp://")) {
        // A tcp client needs a key this fixture does not hold: count the joins in the log.
        const std::string log = coordinatorLog();
        while ((at = log.find(" joined (", at)) != std::string::npos) ++count, ++at;
      } else {
        auto r = run("status --json");
        while ((at = r.output.find("\"heartbeat_age_ms\"", at)) != std::string::npos) ++count, ++at;
      }
      if (static_cast<int>(count) >= n) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  // Stops the coordinator (SIGTERM, or SIGKILL when `kill`), keeping its state directory.
  void stopCoordinator(bool kill = false) { stop(coordinator_, kill); }
  // SIGSTOP and SIGCONT of the coordinator: its sockets stay open, and it says nothing meanwhile.
  void freezeCoordinator() { ::kill(coordinator_, SIGSTOP); }
  void thawCoordinator() { ::kill(coordinator_, SIGCONT); }
  void killWorker(size_t i) { stop(workers_.at(i), true); }
  // SIGSTOP: the worker's sockets stay open but it says nothing (killed at teardown).
  void freezeWorker(size_t i) { ::kill(workers_.at(i), SIGSTOP); }
  // SIGCONT: a frozen worker runs on from where it stopped.
  void thawWorker(size_t i) { ::kill(workers_.at(i), SIGCONT); }

  // Runs a CLI command against this cluster.
  CommandResult run(const std::string& args) const {
    return tfmath(args + " --coordinator " + clientEndpoint());
  }
  std::string clientEndpoint() const { return clientEndpoint_; }
  const std::string& workerEndpoint() const { return workerEndpoint_; }
  // Where it serves Prometheus metrics (HOST:PORT), if started with --metrics-endpoint.
  const std::string& metricsEndpoint() const { return metricsEndpoint_; }
  const TempDir& dir() const { return dir_; }
  // The cluster's key folder, which the coordinator makes on its first start.
  std::string keysDir() const { return dir_.path() + "/keys"; }
  // What a worker presents: the cluster's worker pair and the coordinator's public key.
  CurveClientKeys workerKeys() const {
    ClusterKeyFiles files(keysDir());
    return {readPublicKeyFile(files.coordinatorPublic()), readSecretKeyFile(files.workerSecret())};
  }
  std::string coordinatorLog() const { return slurp(dir_.path() + "/coordinator.log"); }

  static std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  static void stop(pid_t& pid, bool kill = false) {
    if (pid <= 0) return;
    ::kill(pid, kill ? SIGKILL : SIGTERM);
    ::kill(pid, SIGCONT);  // a frozen process must run to see SIGTERM
    for (int i = 0; i < 400 && waitpid(pid, nullptr, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ::kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
  }

  TempDir dir_;
  std::vector<std::string> coordinatorArgs_, rootArgs_;
  std::string workerEndpoint_, clientEndpoint_, metricsEndpoint_;
  pid_t coordinator_ = -1;
  std::vector<pid_t> workers_;
};

// Max over every tensor of |a − b| / max(|b|∞, 1e-3): the relative distance of two parameter files.
inline double relativeDistance(const std::string& a, const std::string& b) {
  ParameterStateFile fa(a), fb(b);
  auto ta = fa.state().getTensors(), tb = fb.state().getTensors();
  EXPECT_EQ(ta.size(), tb.size());
  double worst = 0;
  for (unsigned i = 0; i < ta.size() && i < tb.size(); ++i) {
    const size_t n = ta[i].getData().size() / 4;
    EXPECT_EQ(n, tb[i].getData().size() / 4);
    std::vector<float> x(n), y(n);
    std::memcpy(x.data(), ta[i].getData().begin(), n * 4);
    std::memcpy(y.data(), tb[i].getData().begin(), n * 4);
    double scale = 1e-3, diff = 0;
    for (size_t k = 0; k < n; ++k) {
      scale = std::max(scale, std::abs(double(y[k])));
      diff = std::max(diff, std::abs(double(x[k]) - y[k]));
    }
    worst = std::max(worst, diff / scale);
  }
  return worst;
}

// Waits until `job` of the cluster `c` (a Cluster, or anything whose run() runs a CLI command
// against a coordinator) reaches `state` (PENDING, RUNNING, ...); returns its status record.
template <typename AnyCluster>
nlohmann::json waitForState(const AnyCluster& c, const std::string& job, const std::string& state,
                            int seconds = 60) {
  nlohmann::json last;
  for (int i = 0; i < seconds * 10; ++i) {
    auto r = c.run("status " + job + " --json");
    if (r.exitCode == 0) {
      last = nlohmann::json::parse(r.output)["jobs"][0];
      if (last["state"] == state) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "job " << job << " never reached " << state << "; last: " << last.dump();
  return last;
}

// Where a deployment puts a local socket it shares with a group: `dir`/run/coordinator.sock, the
// folder run of the group nogroup (0750) in `dir` (0755), for --client-socket-group nogroup.
inline std::string nogroupSocket(const TempDir& dir) {
  ::chmod(dir.path().c_str(), 0755);
  const std::string run = dir.path() + "/run";
  std::filesystem::create_directory(run);
  EXPECT_EQ(std::system(("chgrp nogroup " + run + " && chmod 0750 " + run).c_str()), 0);
  return run + "/coordinator.sock";
}

// Submits `jobFile` to `c` (as waitForState's); returns the job's id.
template <typename AnyCluster>
std::string submit(const AnyCluster& c, const std::string& jobFile) {
  auto r = c.run("submit " + jobFile);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  return r.output.substr(0, r.output.find('\n'));
}

// A job over a CSV file, built as a client program would send it, past the CLI's checks.
inline void csvJob(capnp::MallocMessageBuilder& b, const std::string& path, uint32_t workers) {
  auto job = wire::start(b).initSubmit().initJob();
  job.setName("csv");
  auto csv = job.initData().initCsv();
  csv.setTrain(path);
  csv.setTarget("y");
  job.initModel(1)[0].initDense().setUnits(1);
  job.setLoss(proto::Loss::MSE);
  job.initOptimizer().initSgd().setLearningRate(0.1);
  job.setEpochs(1);
  job.setBatchSize(10);
  job.setWorkers(workers);
}

// Writes a CSV table of `rows` rows of four features and a target (20 bytes a row), for jobs whose
// data takes seconds to read.
inline void writeBigCsv(const std::string& path, int rows) {
  std::ofstream out(path);
  out << "a,b,c,d,y\n";
  for (int i = 0; i < rows; ++i)
    out << i % 97 << ".5," << i % 13 << ".25," << i % 7 << "," << i % 31 << ".125," << i % 3
        << "\n";
}

// A peer that sends raw frames to a coordinator socket, as a broken or hostile program would.
class RawPeer {
 public:
  // A peer that talks plaintext, or CURVE with `keys`.
  explicit RawPeer(const std::string& endpoint, const CurveClientKeys& keys = {})
      : socket_(context_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::rcvtimeo, 5000);
    socket_.set(zmq::sockopt::linger, 0);
    if (!keys.empty()) keys.apply(socket_);
    socket_.connect(endpoint);
  }
  // Sends raw frames; returns the error text of the answer ("" if none came or it was not an
  // error).
  std::string send(const std::vector<std::string>& frames) {
    for (size_t i = 0; i < frames.size(); ++i)
      socket_.send(zmq::buffer(frames[i]),
                   i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    return answer();
  }
  std::string send(capnp::MallocMessageBuilder& m, bool keepVersion = false) {
    if (!keepVersion) return sendRaw(wire::encode(m));
    auto words = capnp::messageToFlatArray(m);
    return sendRaw(zmq::message_t(words.asBytes().begin(), words.asBytes().size()));
  }
  std::string answer() {
    zmq::message_t frame;
    if (!socket_.recv(frame)) return "";
    wire::Decoded d(frame);
    return d.message().isError() ? d.message().getError().getMessage().cStr() : "(not an error)";
  }

 private:
  std::string sendRaw(zmq::message_t m) {
    socket_.send(m, zmq::send_flags::none);
    return answer();
  }
  zmq::context_t context_;
  zmq::socket_t socket_;
};

}  // namespace tfmath::testing
