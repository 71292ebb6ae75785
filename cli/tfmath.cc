// tfmath.cc: the `tfmath` command: dispatches to its subcommands, git-style.
#include <cstdio>
#include <vector>

#include "commands.h"
#include "gemm.h"

int main(int argc, char** argv) {
  CLI::App app{"tfmath: train models whose math you can read, on one machine or a cluster"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       std::string("tfmath 0.1.0 (gemm: ") + tfmath::gemmBackend() + ")");
  std::vector<tfmath::cli::Command> commands;
  for (auto add : {tfmath::cli::addRunCommand, tfmath::cli::addOpsCommand})
    commands.push_back(add(app));
  CLI11_PARSE(app, argc, argv);
  for (auto& command : commands)
    if (command.parsed->parsed()) return command.run();
  return 2;
}
