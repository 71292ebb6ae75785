// commands.h: the `tfmath` subcommands. Each registers its options on the CLI11 app and returns the
// subcommand with the function that runs it (returning the exit code: 0 success, 1 failure, 2 bad
// input or usage).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace tfmath::cli {

struct Command {
  CLI::App* parsed;          // the subcommand, to see whether it was chosen
  std::function<int()> run;  // runs it
};

Command addRunCommand(CLI::App& app);
Command addOpsCommand(CLI::App& app);
Command addCoordinatorCommand(CLI::App& app);
Command addWorkerCommand(CLI::App& app);
Command addUpCommand(CLI::App& app);
Command addSubmitCommand(CLI::App& app);
Command addStatusCommand(CLI::App& app);
Command addCancelCommand(CLI::App& app);
Command addResultCommand(CLI::App& app);
Command addLogsCommand(CLI::App& app);
Command addKeygenCommand(CLI::App& app);
Command addMetricsCommand(CLI::App& app);
Command addTopCommand(CLI::App& app);
Command addWaitCommand(CLI::App& app);
Command addCheckCommand(CLI::App& app);
Command addReportCommand(CLI::App& app);

// The folders a daemon lets jobs read data from when none is given: Debian's datasets
// (/usr/share/datasets), where installed.
std::vector<std::string> defaultDataRoots();
// Registers --data-root (repeatable) on a daemon's command, filling `roots`.
void addDataRootOption(CLI::App* command, std::vector<std::string>& roots);
// Registers --threads on a command that trains (run, worker), filling `threads` (default 1): the
// threads its GEMMs and convolutions use (ops/threads.h), which the command sets before training.
void addThreadsOption(CLI::App* command, int& threads);

}  // namespace tfmath::cli
