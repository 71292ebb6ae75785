// launcher_test.cc: the SSH launcher against real sshds: the hostfile format, workers
// started over SSH that train and leave no orphans, and hosts that fail (unreachable, unknown host
// key, refused key) named while the others start, or aborting all with --all-or-nothing.
#include <gtest/gtest.h>
#include <sched.h>

#include <nlohmann/json.hpp>
#include <set>

#include "cli/hostfile.h"
#include "tests/netns_fixture.h"
#include "tests/sshd_fixture.h"

namespace tfmath {
namespace {

using testing::Cluster;
using testing::SshServer;
using testing::TempDir;
using testing::TwoNamespaces;

TEST(Hostfile, ReadsTheMpiFormatAndNamesBadLines) {
  TempDir dir;
  auto hosts = cli::readHostfile(dir.write(
      "good", "# cluster\nnode1 slots=4\nalice@node2:2222   # a comment\n\n[::1]:22 slots=1\n"));
  ASSERT_EQ(hosts.size(), 3u);
  EXPECT_EQ(hosts[0].host, "node1");
  EXPECT_EQ(hosts[0].slots, 4);
  EXPECT_EQ(hosts[0].port, 0);
  EXPECT_EQ(hosts[1].user, "alice");
  EXPECT_EQ(hosts[1].port, 2222);
  EXPECT_EQ(hosts[1].slots, 1);
  EXPECT_EQ(hosts[1].name(), "alice@node2:2222");
  EXPECT_EQ(hosts[2].host, "[::1]");
  for (const auto& [text, error] : std::vector<std::pair<std::string, std::string>>{
           {"node1 slots=0\n", ":1: slots must be a positive number, not '0'"},
           {"# ok\nnode1 cpus=2\n", ":2: unknown field 'cpus=2'"},
           {"node1:port\n", ":1: the port must be a positive number, not 'port'"},
           {"alice@\n", ":1: no host name"},
           {"# nothing\n", "the hostfile names no host"}}) {
    try {
      cli::readHostfile(dir.write("bad", text));
      ADD_FAILURE() << "accepted: " << text;
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(error), std::string::npos) << e.what();
    }
  }
}

// Process ids whose command line holds every one of `parts`.
std::vector<int> processesWith(const std::vector<std::string>& parts) {
  std::vector<int> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = Cluster::slurp(entry.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    bool all = !cmdline.empty();
    for (const auto& p : parts) all = all && cmdline.find(p) != std::string::npos;
    if (all) found.push_back(std::stoi(name));
  }
  return found;
}

// Launched workers of the coordinator at `endpoint` still running after up to 10 s of waiting.
size_t workersLeftAfter10s(const std::string& endpoint) {
  std::vector<int> left;
  for (int i = 0; i < 100; ++i) {
    left = processesWith({"--keys-on-stdin", endpoint});
    if (left.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return left.size();
}

// `tfmath up --hostfile` in a temp state dir, stopped (SIGTERM) when this goes away.
class UpCluster {
 public:
  // `prefix` runs it inside something, e.g. {"ip", "netns", "exec", "NS"}.
  UpCluster(const std::string& hostfile, const std::string& sshDir,
            const std::vector<std::string>& extra = {},
            const std::vector<std::string>& prefix = {}) {
    std::vector<std::string> args{"up",          "--hostfile",  hostfile,
                                  "--ssh-dir",   sshDir,        "--remote-tfmath",
                                  TFMATH_BINARY, "--state-dir", dir_.path()};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = testing::spawnTfmath(args, dir_.path() + "/up.log", prefix);
  }
  ~UpCluster() { stop(); }
  // Waits until the launch is over and `n` workers registered; false if `tfmath up` exited first.
  bool waitForWorkers(size_t n) {
    for (int i = 0; i < 300; ++i) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      auto r = run("status --json");
      if (r.exitCode == 0 && nlohmann::json::parse(r.output)["workers"].size() >= n &&
          log().find("remote worker(s)") != std::string::npos)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // Waits for `tfmath up` to exit; returns its exit code.
  int wait() {
    if (pid_ > 0) waitpid(pid_, &status_, 0);
    pid_ = -1;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    wait();
  }
  testing::CommandResult run(const std::string& args) const {
    return testing::tfmath(args + " --coordinator ipc://" + dir_.path() + "/coordinator.sock");
  }
  std::string log() const { return Cluster::slurp(dir_.path() + "/up.log"); }
  const TempDir& dir() const { return dir_; }
  std::string workerEndpoint() const {
    std::ifstream in(dir_.path() + "/endpoints");
    std::string kind, endpoint;
    while (in >> kind >> endpoint)
      if (kind == "worker") return endpoint;
    return "";
  }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int status_ = 0;
};

TEST(Launcher, StartsWorkersOverSshThatTrainAndLeaveNoOrphans) {
  if (!std::filesystem::exists(testing::kSshd)) GTEST_SKIP() << "no sshd (openssh-server)";
  SshServer server;
  ASSERT_TRUE(server.ready()) << server.log();
  TempDir dir;
  const std::string hostfile =
      dir.write("hosts", "# one host, two workers\n127.0.0.1:" + std::to_string(server.port()) +
                             " slots=2\n");
  UpCluster up(hostfile, server.sshDir());
  ASSERT_TRUE(up.waitForWorkers(2)) << up.log() << server.log();
  const std::string endpoint = up.workerEndpoint();
  EXPECT_EQ(processesWith({"--keys-on-stdin", endpoint}).size(), 2u);
  // The two slots share the host's cores: each takes half of what nproc counts there (sshd passes
  // no OMP_NUM_THREADS, so all the CPUs).
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  ASSERT_EQ(sched_getaffinity(0, sizeof cpus, &cpus), 0);
  const std::string half = std::to_string(std::max(1, CPU_COUNT(&cpus) / 2));
  EXPECT_EQ(processesWith({"--keys-on-stdin", endpoint, "--threads " + half + " "}).size(), 2u);
  // The key went over stdin, never onto a command line.
  const std::string secret =
      configValue(Cluster::slurp(up.dir().path() + "/keys/worker.key"), "secret-key");
  EXPECT_TRUE(processesWith({secret}).empty());

  auto r = up.run("submit " + std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp --wait");
  ASSERT_EQ(r.exitCode, 0) << r.output << up.log();
  // Each worker's output streams into its own log in the state directory.
  const std::string log1 =
      up.dir().path() + "/workers/127.0.0.1_" + std::to_string(server.port()) + "-1.log";
  EXPECT_NE(Cluster::slurp(log1).find("registering with " + endpoint), std::string::npos)
      << Cluster::slurp(log1);

  // Stopping the cluster stops every remote worker.
  up.stop();
  EXPECT_EQ(workersLeftAfter10s(endpoint), 0u) << "worker(s) outlived the cluster";
}

// `tfmath coordinator --hostfile` uses the same launcher, and stops its workers when it stops.
TEST(Launcher, TheCoordinatorLaunchesFromAHostfileToo) {
  if (!std::filesystem::exists(testing::kSshd)) GTEST_SKIP() << "no sshd (openssh-server)";
  SshServer server;
  ASSERT_TRUE(server.ready()) << server.log();
  TempDir dir;
  const std::string hostfile =
      dir.write("hosts", "127.0.0.1:" + std::to_string(server.port()) + " slots=1\n");
  const pid_t coordinator =
      testing::spawnTfmath({"coordinator", "--state-dir", dir.path() + "/state",
                            "--worker-endpoint", "tcp://127.0.0.1:*", "--hostfile", hostfile,
                            "--ssh-dir", server.sshDir(), "--remote-tfmath", TFMATH_BINARY},
                           dir.path() + "/coordinator.log");
  const std::string client = " --coordinator ipc://" + dir.path() + "/state/coordinator.sock";
  size_t workers = 0;
  for (int i = 0; i < 100 && workers == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto r = testing::tfmath("status --json" + client);
    if (r.exitCode == 0) workers = nlohmann::json::parse(r.output)["workers"].size();
  }
  EXPECT_EQ(workers, 1u) << Cluster::slurp(dir.path() + "/coordinator.log");
  const std::string endpoints = Cluster::slurp(dir.path() + "/state/endpoints");
  const std::string endpoint = endpoints.substr(
      endpoints.find("worker ") + 7,
      endpoints.find('\n', endpoints.find("worker ")) - endpoints.find("worker ") - 7);
  EXPECT_EQ(processesWith({"--keys-on-stdin", endpoint}).size(), 1u) << endpoint;
  kill(coordinator, SIGTERM);
  waitpid(coordinator, nullptr, 0);
  EXPECT_EQ(workersLeftAfter10s(endpoint), 0u) << "worker(s) outlived the coordinator";
}

TEST(Launcher, NamesEachFailedHostAndStartsTheOthers) {
  if (!std::filesystem::exists(testing::kSshd)) GTEST_SKIP() << "no sshd (openssh-server)";
  SshServer good, refusing, unknown;
  ASSERT_TRUE(good.ready() && refusing.ready() && unknown.ready())
      << good.log() << refusing.log() << unknown.log();
  // One ssh folder: good's key and known_hosts, plus refusing's host key; refusing does not
  // authorize that key, and unknown's host key is not in known_hosts.
  TempDir dir;
  std::filesystem::copy(good.sshDir(), dir.path() + "/ssh");
  std::ofstream(dir.path() + "/ssh/known_hosts", std::ios::app)
      << Cluster::slurp(refusing.sshDir() + "/known_hosts");
  std::filesystem::remove(refusing.sshDir() + "/../authorized_keys");
  std::ofstream(refusing.sshDir() + "/../authorized_keys") << "";
  const std::string g = std::to_string(good.port());
  const std::string hostfile = dir.write(
      "hosts", "127.0.0.1:" + g + " slots=1\n127.0.0.1:" + std::to_string(testing::freePort()) +
                   "\n127.0.0.1:" + std::to_string(unknown.port()) +
                   "\n127.0.0.1:" + std::to_string(refusing.port()) + "\n");
  // The fingerprint the launcher must show: OpenSSH's own, `256 SHA256:... comment (ED25519)`.
  const std::string listed =
      testing::shell("ssh-keygen -lf " + unknown.sshDir() + "/../host_key.pub").output;
  const std::string fingerprint = listed.substr(
      listed.find("SHA256:"), listed.find(' ', listed.find("SHA256:")) - listed.find("SHA256:"));
  {
    UpCluster up(hostfile, dir.path() + "/ssh");
    ASSERT_TRUE(up.waitForWorkers(1)) << up.log();
    const std::string log = up.log();
    EXPECT_NE(log.find("cannot connect"), std::string::npos) << log;
    EXPECT_NE(log.find("host 127.0.0.1:" + std::to_string(unknown.port()) + ": its host key " +
                       fingerprint + " is not in known_hosts"),
              std::string::npos)
        << log << fingerprint;
    EXPECT_NE(log.find("is not in known_hosts"), std::string::npos) << log;
    EXPECT_NE(
        log.find("host 127.0.0.1:" + std::to_string(refusing.port()) + ": authentication failed"),
        std::string::npos)
        << log;
    auto status = nlohmann::json::parse(up.run("status --json").output);
    EXPECT_EQ(status["workers"].size(), 1u);
  }
  // --all-or-nothing: the same hostfile aborts the whole start, leaving nothing running.
  UpCluster strict(hostfile, dir.path() + "/ssh", {"--all-or-nothing"});
  EXPECT_EQ(strict.wait(), 1) << strict.log();
  EXPECT_NE(strict.log().find("--all-or-nothing was given"), std::string::npos) << strict.log();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_TRUE(processesWith({"--keys-on-stdin", strict.workerEndpoint()}).empty());
}

// Workers on two "hosts" (network namespaces, each with its own sshd), launched through a hostfile,
// train with Gloo across the namespace boundary and end where a single process ends. Then the link
// between the hosts goes down for 10 s mid-job: the job recovers (requeued from its checkpoint) or
// carries on, never hangs, and still ends where a single process ends.
TEST(Launcher, TrainsAcrossTwoNetworkNamespacesAndOutlivesTheLinkGoingDown) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to create network namespaces (CI runs as root)";
  if (!std::filesystem::exists(testing::kSshd)) GTEST_SKIP() << "no sshd (openssh-server)";
  TwoNamespaces ns;
  if (!ns.error().empty()) GTEST_SKIP() << "cannot create network namespaces: " << ns.error();
  SshServer hostA({}, ns.address(0), "ip netns exec " + ns.name(0));
  SshServer hostB({}, ns.address(1), "ip netns exec " + ns.name(1));
  ASSERT_TRUE(hostA.ready() && hostB.ready()) << hostA.log() << hostB.log();
  // One client folder: A's key, authorized on B too, and both host keys.
  TempDir dir;
  std::filesystem::copy(hostA.sshDir(), dir.path() + "/ssh");
  std::ofstream(dir.path() + "/ssh/known_hosts", std::ios::app)
      << Cluster::slurp(hostB.sshDir() + "/known_hosts");
  std::ofstream(hostB.sshDir() + "/../authorized_keys", std::ios::app)
      << Cluster::slurp(hostA.sshDir() + "/id_ed25519.pub");
  const std::string hostfile =
      dir.write("hosts", ns.address(0) + ":" + std::to_string(hostA.port()) + " slots=1\n" +
                             ns.address(1) + ":" + std::to_string(hostB.port()) + " slots=1\n");
  // The coordinator lives on host A.
  UpCluster up(hostfile, dir.path() + "/ssh",
               {"--worker-endpoint", "tcp://" + ns.address(0) + ":*"}, ns.exec(0));
  ASSERT_TRUE(up.waitForWorkers(2)) << up.log() << hostA.log() << hostB.log();
  auto status = nlohmann::json::parse(up.run("status --json").output);
  std::set<std::string> hosts;
  for (auto& w : status["workers"]) hosts.insert(w["host"]);
  EXPECT_EQ(hosts, (std::set<std::string>{ns.address(0), ns.address(1)})) << status.dump();

  const std::string jobs[] = {testing::linregJob() + "epochs = 1,",
                              testing::fashionMlpJob(600, 100, 50) + "epochs = 1,"};
  for (int j = 0; j < 2; ++j) {
    const std::string n = std::to_string(j);
    const std::string single = dir.path() + "/single" + n + ".params";
    auto r = testing::tfmath("run " + dir.write("one" + n + ".capnp", testing::jobText(jobs[j])) +
                             " --save " + single);
    ASSERT_EQ(r.exitCode, 0) << r.output;
    r = up.run("submit " +
               dir.write("two" + n + ".capnp", testing::jobText(jobs[j] + "workers = 2")) +
               " --wait");
    ASSERT_EQ(r.exitCode, 0) << r.output << up.log();
    const std::string id = r.output.substr(0, r.output.find('\n'));
    const std::string out = dir.path() + "/two" + n + ".params";
    ASSERT_EQ(up.run("result " + id + " --params " + out).exitCode, 0);
    EXPECT_LE(testing::relativeDistance(out, single), 1e-5) << "job " << j;
  }

  const std::string longJob =
      testing::fashionMlpJob(2000, 200, 50) + "epochs = 10, checkpointEvery = 10,";
  const std::string single = dir.path() + "/long-single.params";
  auto r = testing::tfmath("run " + dir.write("long1.capnp", testing::jobText(longJob)) +
                           " --save " + single);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string id =
      testing::submit(up, dir.write("long2.capnp", testing::jobText(longJob + "workers = 2")));
  for (int i = 0; i < 600; ++i) {  // past step 40
    auto s = nlohmann::json::parse(up.run("status " + id + " --json").output)["jobs"][0];
    if (s["state"] == "RUNNING" && s["step"].get<uint64_t>() >= 40) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(ns.setLink(false));
  std::this_thread::sleep_for(std::chrono::seconds(10));
  ASSERT_TRUE(ns.setLink(true));
  auto info = testing::waitForState(up, id, "COMPLETED", 120);
  const std::string out = dir.path() + "/long2.params";
  ASSERT_EQ(up.run("result " + id + " --params " + out).exitCode, 0);
  EXPECT_LE(testing::relativeDistance(out, single), 1e-5) << info.dump();
}

}  // namespace
}  // namespace tfmath
