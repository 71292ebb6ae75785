// cmd_daemons.cc: `tfmath coordinator` (tfmath-coordinator) and `tfmath worker` (tfmath-worker).
#include <cstdio>
#include <fstream>

#include "commands.h"
#include "coordinator.h"
#include "durable_file.h"
#include "signals.h"
#include "worker_daemon.h"

namespace tfmath::cli {

Command addCoordinatorCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("coordinator", "Run the coordinator daemon (one per cluster)");
  auto o = std::make_shared<CoordinatorOptions>();
  cmd->add_option("--state-dir", o->stateDir, "Where jobs, logs, checkpoints and results live")
      ->required();
  cmd->add_option("--client-endpoint", o->clientEndpoint,
                  "Where clients connect (default ipc://STATE-DIR/coordinator.sock)");
  cmd->add_option("--worker-endpoint", o->workerEndpoint,
                  "Where workers connect, e.g. tcp://*:5555 (a port of * picks a free one)")
      ->capture_default_str();
  return {cmd, [o] {
            try {
              Coordinator coordinator(*o);
              // Tells `tfmath up` (and people) where the endpoints ended up.
              writeFileDurably(o->stateDir + "/endpoints",
                               "client " + coordinator.clientEndpoint() + "\nworker " +
                                   coordinator.workerEndpoint() + "\n");
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
                  "The coordinator's worker endpoint, tcp://HOST:PORT")
      ->required();
  cmd->add_option(
      "--gloo-host", o->glooHost,
      "Address other ranks reach this worker's Gloo device on (default: 127.0.0.1 for a "
      "loopback coordinator, else this host's name)");
  auto timeoutSeconds = std::make_shared<int>(30);
  cmd->add_option("--collective-timeout", *timeoutSeconds,
                  "Seconds a collective (Gloo) may wait for the other ranks before the job fails")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  return {cmd, [o, timeoutSeconds] {
            try {
              o->collectiveTimeout = std::chrono::seconds(*timeoutSeconds);
              WorkerDaemon worker(*o);
              worker.run(stopOnSignals());
              return 0;
            } catch (const std::exception& e) {
              std::fprintf(stderr, "tfmath-worker: %s\n", e.what());
              return 1;
            }
          }};
}

}  // namespace tfmath::cli
