// cmd_up.cc: `tfmath up`, the embedded default cluster: a coordinator and N local workers, stopped
// together on Ctrl-C or SIGTERM. Children die with it even if it is killed (PR_SET_PDEATHSIG).
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/commands.h"
#include "cli/signals.h"
#include "cli/ssh_launcher.h"
#include "net/curve_keys.h"
#include "ops/threads.h"
#include "train/backend.h"

namespace tfmath::cli {

namespace {

struct UpOptions {
  int workers = -1;   // -1: one using every core, or none with a hostfile or --gpus
  int threads = -1;   // per local CPU worker; -1: defaultComputeThreads() shared out among them
  bool gpus = false;  // one more worker per visible GPU
  std::string stateDir, workerEndpoint = "tcp://127.0.0.1:*";
  std::vector<std::string> dataRoots;  // none given: defaultDataRoots()
  HostfileOptions hostfile;
};

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(1);  // the parent died before prctl took effect
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
  std::perror("tfmath up: exec");
  _exit(127);
}

// The worker endpoint the coordinator wrote into STATE/endpoints, or "" after `timeout`.
std::string waitForEndpoint(const std::string& stateDir, pid_t coordinator) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(stateDir + "/endpoints");
    std::string kind, endpoint;
    while (in >> kind >> endpoint)
      if (kind == "worker") return endpoint;
    if (waitpid(coordinator, nullptr, WNOHANG) == coordinator) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

void stopAll(std::vector<pid_t>& children) {
  for (pid_t p : children) kill(p, SIGTERM);
  // A stopping daemon ends its job within 3 s (docs/protocol.md §4); past 5 s it is killed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (pid_t p : children) {
    while (waitpid(p, nullptr, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(p, SIGKILL);
        waitpid(p, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  children.clear();
}

int up(UpOptions o) {
  const auto& stop = stopOnSignals();
  const int gpus = o.gpus ? gpuCount() : 0;
  if (o.gpus && gpus == 0) {
    std::fprintf(stderr,
                 "tfmath up: --gpus, but this machine shows no CUDA device (no driver, no GPU, or "
                 "a build without CUDA)\n");
    return 1;
  }
  // One worker computing on every core trains faster than one worker per core: those spend a
  // core's worth on the loopback allreduce (docs/performance.md).
  if (o.workers < 0) o.workers = !o.hostfile.hostfile.empty() || o.gpus ? 0 : 1;
  if (o.threads < 0) o.threads = std::max(1, defaultComputeThreads() / std::max(1, o.workers));
  if (o.stateDir.empty()) {
    const char* home = std::getenv("HOME");
    o.stateDir = std::string(home ? home : ".") + "/.local/state/tfmath";
  }
  std::filesystem::create_directories(o.stateDir);
  o.stateDir = std::filesystem::canonical(o.stateDir).string();
  std::filesystem::remove(o.stateDir + "/endpoints");

  if (o.dataRoots.empty()) o.dataRoots = defaultDataRoots();
  std::vector<std::string> rootArgs;
  for (const auto& root : o.dataRoots) rootArgs.insert(rootArgs.end(), {"--data-root", root});
  auto with = [](std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };

  // §8: the local cluster's keys, made on first use; the coordinator and the workers share them.
  const std::string keys = o.stateDir + "/keys";
  ClusterKeyFiles(keys).createMissing();

  std::vector<pid_t> children;
  // A cluster of one user: its jobs read their data wherever it is (the user's own rights); any
  // other user would be held to the data roots.
  children.push_back(spawn(with({"tfmath", "coordinator", "--state-dir", o.stateDir, "--keys", keys,
                                 "--worker-endpoint", o.workerEndpoint, "--trust-own-user"},
                                rootArgs)));
  const std::string workerEndpoint = waitForEndpoint(o.stateDir, children[0]);
  if (workerEndpoint.empty()) {
    std::fprintf(stderr, "tfmath up: the coordinator did not start (see its messages above)\n");
    stopAll(children);
    return 1;
  }
  std::unique_ptr<SshLauncher> remote;
  if (!o.hostfile.hostfile.empty()) {
    try {
      remote = launchHostfile(o.hostfile, workerEndpoint, keys, o.stateDir);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tfmath up: %s\n", e.what());
      stopAll(children);
      return 1;
    }
  }
  for (int i = 0; i < o.workers; ++i)
    children.push_back(spawn(with({"tfmath", "worker", "--coordinator", workerEndpoint, "--keys",
                                   keys, "--threads", std::to_string(o.threads)},
                                  rootArgs)));
  for (int i = 0; i < gpus; ++i)
    children.push_back(spawn(with({"tfmath", "worker", "--coordinator", workerEndpoint, "--keys",
                                   keys, "--device", "gpu:" + std::to_string(i)},
                                  rootArgs)));
  const std::string client = "ipc://" + o.stateDir + "/coordinator.sock";
  std::string roots;
  for (const auto& root : o.dataRoots) roots += (roots.empty() ? "" : ", ") + root;
  std::fprintf(stderr,
               "tfmath up: a coordinator, %d local CPU worker(s) of %d thread(s), %d local GPU and "
               "%d remote worker(s); state in %s; your jobs read data anywhere, other users' only "
               "in %s\n"
               "  submit:  tfmath submit JOB.capnp --wait   (after the export line below)\n"
               "  watch:   tfmath status\n"
               "  stop:    Ctrl-C\n",
               o.workers, o.threads, gpus, remote ? remote->running() : 0, o.stateDir.c_str(),
               roots.empty() ? "no folder" : roots.c_str());
  std::printf("export TFMATH_COORDINATOR=%s\n", client.c_str());
  std::fflush(stdout);

  int code = 0;
  while (!stop) {
    int status = 0;
    const pid_t gone = waitpid(-1, &status, WNOHANG);
    if (gone == children[0]) {
      std::fprintf(stderr, "tfmath up: the coordinator exited; stopping the workers\n");
      children.erase(children.begin());
      code = 1;
      break;
    }
    if (gone > 0) {
      std::fprintf(stderr, "tfmath up: worker %d exited\n", gone);
      std::erase(children, gone);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "tfmath up: stopping\n");
  remote.reset();  // the remote workers first, while the coordinator still hears their goodbyes
  stopAll(children);
  return code;
}

}  // namespace

Command addUpCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("up", "Start a local cluster: a coordinator and N workers");
  auto o = std::make_shared<UpOptions>();
  cmd->add_option(
      "--workers", o->workers,
      "Local CPU workers to start, sharing the cores (default: one; none with --hostfile or "
      "--gpus)");
  cmd->add_option("--threads", o->threads,
                  "Threads of each local CPU worker (default: OMP_NUM_THREADS if set, else the "
                  "CPUs this process may run on, shared out among the workers)")
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--gpus", o->gpus, "Start one worker per visible GPU");
  cmd->add_option("--state-dir", o->stateDir, "State directory (default ~/.local/state/tfmath)");
  cmd->add_option("--worker-endpoint", o->workerEndpoint, "Where workers connect")
      ->capture_default_str();
  cmd->add_option("--data-root", o->dataRoots,
                  "A folder whose regular files other users' jobs may read as data (repeatable; "
                  "default /usr/share/datasets); your own jobs read data anywhere. Remote workers "
                  "use their own host's setting");
  o->hostfile.addTo(cmd);
  return {cmd, [o] { return up(*o); }};
}

}  // namespace tfmath::cli
