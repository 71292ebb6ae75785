// cmd_daemons.cc: `tfmath coordinator` (tfmath-coordinator) and `tfmath worker` (tfmath-worker).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "base/durable_file.h"
#include "cli/commands.h"
#include "cli/daemon_config.h"
#include "cli/signals.h"
#include "cli/ssh_launcher.h"
#include "coordinator/coordinator.h"
#include "net/curve_keys.h"
#include "ops/threads.h"
#include "train/backend.h"
#include "worker/worker_daemon.h"

namespace tfmath::cli {

namespace {

// §8: the SSH launcher writes the worker key and the coordinator's public key to the worker's
// stdin, never on its command line. stdin then stays open; its end means the launcher is gone, so
// the worker stops as on SIGTERM and no orphan outlives its cluster.
CurveClientKeys workerKeysFromStdin() {
  std::string text, line;
  while (std::getline(std::cin, line) && line != "end") text += line + "\n";
  CurveClientKeys keys{
      checkedPublicKey(configValue(text, "coordinator-key"), "stdin: coordinator-key"),
      parseKeyPair(text, "stdin")};
  std::thread([] {
    std::string ignored;
    while (std::getline(std::cin, ignored)) {
    }
    kill(getpid(), SIGTERM);
  }).detach();
  return keys;
}

}  // namespace

std::vector<std::string> defaultDataRoots() {
  std::error_code ignored;
  if (std::filesystem::is_directory("/usr/share/datasets", ignored)) return {"/usr/share/datasets"};
  return {};
}

void addDataRootOption(CLI::App* command, std::vector<std::string>& roots) {
  command->add_option("--data-root", roots,
                      "A folder whose regular files jobs may read as data (repeatable; default "
                      "/usr/share/datasets). Paths are resolved, links included, before the check");
}

void addThreadsOption(CLI::App* command, int& threads) {
  command
      ->add_option("--threads", threads,
                   "Threads for the GEMMs, convolutions and element-wise passes of training "
                   "(default: OMP_NUM_THREADS if set, else the CPUs this process may run on); the "
                   "result does not depend on it beyond the order of float sums")
      ->check(CLI::Range(1, 1024));
}

Command addCoordinatorCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("coordinator", "Run the coordinator daemon (one per cluster)");
  auto o = std::make_shared<CoordinatorOptions>();
  auto hostfile = std::make_shared<HostfileOptions>();
  hostfile->addTo(cmd);
  cmd->add_option("--state-dir", o->stateDir,
                  "Where jobs, logs, checkpoints and results live (required)");
  cmd->add_option("--client-endpoint", o->clientEndpoint,
                  "Where clients connect (default ipc://STATE-DIR/coordinator.sock)");
  cmd->add_option("--worker-endpoint", o->workerEndpoint,
                  "Where workers connect, e.g. tcp://*:5555 (a port of * picks a free one)")
      ->capture_default_str();
  cmd->add_option("--keys", o->keysFolder,
                  "The cluster's key folder: coordinator.key/.pub, worker.key/.pub; made where "
                  "missing (default STATE-DIR/keys)");
  cmd->add_option(
      "--authorized-clients", o->authorizedClients,
      "Lines `PUBLIC-KEY USER`: who may connect over tcp (default KEYS/authorized_clients)");
  cmd->add_option("--admin", o->admins,
                  "A user who may cancel and read any job (repeatable; the coordinator's own user "
                  "always may)");
  cmd->add_option("--client-socket-group", o->clientSocketGroup,
                  "A group whose members may connect to the ipc client socket (mode 0660); each "
                  "acts as their own user");
  addDataRootOption(cmd, o->dataRoots);
  cmd->add_flag("--trust-own-user", o->trustOwnUser,
                "Let the jobs of the coordinator's own user read data outside the data roots, with "
                "the workers' rights (a cluster of one user; tfmath up sets it)");
  cmd->add_option_function<double>(
         "--refusal-log-interval",
         [o](double s) { o->refusalLogInterval = std::chrono::milliseconds(int64_t(s * 1000)); },
         "Seconds between log lines about one refused peer or kind of malformed message; the "
         "others are counted (default 10)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--metrics-endpoint", o->metricsEndpoint,
                  "Serve Prometheus metrics on HOST:PORT (e.g. 127.0.0.1:9464; port 0 picks one). "
                  "Unauthenticated: loopback or a trusted network only");
  cmd->add_option_function<double>(
         "--worker-lease",
         [o](double s) { o->workerLease = std::chrono::milliseconds(int64_t(s * 1000)); },
         "Seconds a restarted coordinator waits for the workers of the jobs that were running to "
         "return; a rank that has not returned by then is lost and its job requeued (default "
         "60)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-client-connections", o->maxClientConnections,
                  "Client connections open at once, all users together; more are told to try "
                  "again")
      ->capture_default_str();
  cmd->add_option("--max-job-bytes", o->limits.maxJobBytes,
                  "The largest job a client may submit, encoded, embedded data included")
      ->capture_default_str();
  cmd->add_option("--max-queued-jobs", o->limits.maxQueuedJobs,
                  "How many PENDING jobs one user may have")
      ->capture_default_str();
  cmd->add_option("--max-submits-per-second", o->limits.maxSubmitsPerSecond,
                  "How fast one user may submit (a burst of as many is allowed)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  auto config = std::make_shared<std::string>();
  addConfigOption(cmd, *config, "/etc/tfmath/coordinator.conf");
  return {cmd, [cmd, config, o, hostfile] {
            try {
              applyConfigFile(cmd, *config, cmd->count("--config") > 0);
              requireOption(cmd, "state-dir", *config);
              if (o->dataRoots.empty()) o->dataRoots = defaultDataRoots();
              Coordinator coordinator(*o);
              // Tells `tfmath up` (and people) where the endpoints ended up.
              std::string endpoints = "client " + coordinator.clientEndpoint() + "\nworker " +
                                      coordinator.workerEndpoint() + "\n";
              if (!coordinator.metricsEndpoint().empty())
                endpoints += "metrics " + coordinator.metricsEndpoint() + "\n";
              writeFileDurably(o->stateDir + "/endpoints", endpoints);
              std::unique_ptr<SshLauncher> remote;
              if (!hostfile->hostfile.empty())
                remote = launchHostfile(
                    *hostfile, coordinator.workerEndpoint(),
                    o->keysFolder.empty() ? o->stateDir + "/keys" : o->keysFolder, o->stateDir);
              ignoreBrokenPipes();
              coordinator.run(stopOnSignals());
              return 0;
            } catch (const std::exception& e) {
              std::fprintf(stderr, "tfmath-coordinator: %s\n", e.what());
              return 1;
            }
          }};
}

Command addWorkerCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("worker", "Run a worker daemon (one per CPU slot)");
  auto o = std::make_shared<WorkerOptions>();
  cmd->add_option("--coordinator", o->coordinator,
                  "The coordinator's worker endpoint, tcp://HOST:PORT (required)");
  cmd->add_option(
      "--gloo-host", o->glooHost,
      "Address other ranks reach this worker's Gloo device on (default: this host's address on "
      "the route to the coordinator)");
  cmd->add_option("--device", o->device,
                  "The device this worker trains on: cpu, or gpu:N (cpu:N names one of several CPU "
                  "workers of a host)")
      ->capture_default_str();
  auto keys = std::make_shared<std::string>();
  auto keysOnStdin = std::make_shared<bool>(false);
  auto* keysOption = cmd->add_option(
      "--keys", *keys, "The cluster's key folder (worker.key and coordinator.pub from it)");
  cmd->add_flag("--keys-on-stdin", *keysOnStdin,
                "Read the worker key file, plus a `coordinator-key = KEY` line, from stdin, then "
                "exit when stdin closes (how `tfmath up --hostfile` starts workers over SSH)")
      ->excludes(keysOption);
  auto timeoutSeconds = std::make_shared<int>(30);
  cmd->add_option("--collective-timeout", *timeoutSeconds,
                  "Seconds a collective (Gloo) may wait for the other ranks before the job fails")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option_function<double>(
         "--worker-lease",
         [o](double s) { o->lease = std::chrono::milliseconds(int64_t(s * 1000)); },
         "Seconds a rank trains on while the coordinator is away (restarting, or unreachable) "
         "before it stops (default 60)")
      ->check(CLI::PositiveNumber);
  addDataRootOption(cmd, o->dataRoots);
  auto threads = std::make_shared<int>(defaultComputeThreads());
  addThreadsOption(cmd, *threads);
  cmd->add_option("--memory-limit", o->memoryLimit,
                  "Bytes a job may take on this worker (its estimate: data, parameters, gradients, "
                  "optimizer slots, activations); default: the host's memory")
      ->transform(CLI::AsSizeValue(false));
  auto config = std::make_shared<std::string>();
  addConfigOption(cmd, *config, "/etc/tfmath/worker.conf");
  return {cmd, [cmd, config, o, timeoutSeconds, keys, keysOnStdin, threads] {
            try {
              applyConfigFile(cmd, *config, cmd->count("--config") > 0);
              requireOption(cmd, "coordinator", *config);
              setComputeThreads(*threads);
              if (o->dataRoots.empty()) o->dataRoots = defaultDataRoots();
              o->collectiveTimeout = std::chrono::seconds(*timeoutSeconds);
              probeDevice(o->device);  // a GPU that is not there stops the worker here, by name
              if (*keysOnStdin) {
                o->keys = workerKeysFromStdin();
              } else if (!keys->empty()) {
                ClusterKeyFiles files(*keys);
                o->keys.own = readSecretKeyFile(files.workerSecret());
                o->keys.serverPublicKey = readPublicKeyFile(files.coordinatorPublic());
              } else {
                throw std::runtime_error(
                    "pass --keys FOLDER (the cluster's keys) or --keys-on-stdin: the coordinator "
                    "admits only workers with the cluster's worker key");
              }
              WorkerDaemon worker(*o);
              ignoreBrokenPipes();
              if (!worker.run(stopOnSignals())) {
                std::fflush(nullptr);
                std::_Exit(0);  // a training thread still waits in a collective: leave it
              }
              return 0;
            } catch (const std::exception& e) {
              std::fprintf(stderr, "tfmath-worker: %s\n", e.what());
              return 1;
            }
          }};
}

}  // namespace tfmath::cli
