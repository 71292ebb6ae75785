// tfmath.cc: the `tfmath` command: dispatches to its subcommands, git-style. Installed also as
// tfmath-NAME (a link to this binary), which runs `tfmath NAME`.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "base/version.h"
#include "cli/commands.h"
#include "ops/gemm.h"

int main(int argc, char** argv) {
  namespace c = tfmath::cli;
  CLI::App app{"tfmath: train models whose math you can read, on one machine or a cluster"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tfmath ") + tfmath::kTfmathVersion +
                                        " (gemm: " + tfmath::gemmBackend() + ")");
  std::vector<c::Command> commands;
  for (auto add :
       {c::addRunCommand, c::addSubmitCommand, c::addStatusCommand, c::addCancelCommand,
        c::addLogsCommand, c::addResultCommand, c::addUpCommand, c::addCoordinatorCommand,
        c::addWorkerCommand, c::addKeygenCommand, c::addOpsCommand, c::addMetricsCommand,
        c::addTopCommand, c::addWaitCommand, c::addCheckCommand, c::addReportCommand})
    commands.push_back(add(app));
  // tfmath-NAME ARGS... is tfmath NAME ARGS...
  std::vector<std::string> args(argv, argv + argc);
  const std::string self = std::filesystem::path(args[0]).filename().string();
  if (self.rfind("tfmath-", 0) == 0) {
    args.insert(args.begin() + 1, self.substr(7));
    args[0] = "tfmath";  // so that --help reads `tfmath submit ...`
  }
  std::vector<const char*> cargs;
  for (const auto& a : args) cargs.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(cargs.size()), cargs.data());
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as scripts expect.
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (auto& command : commands)
    if (command.parsed->parsed()) return command.run();
  return 2;
}
