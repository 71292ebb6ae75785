// cmd_ops.cc: `tfmath ops [--markdown]`: the op registry with its math.
#include <cstdio>

#include "cli/commands.h"
#include "ops/registry.h"

namespace tfmath::cli {

Command addOpsCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("ops", "List the ops, losses and optimizers with their math");
  auto markdown = std::make_shared<bool>(false);
  cmd->add_flag("--markdown", *markdown, "Print docs/ops.md (Markdown with LaTeX)");
  return {cmd, [markdown] {
            if (*markdown) {
              std::fputs(opsMarkdown().c_str(), stdout);
              return 0;
            }
            for (const OpMath* op : opRegistry())
              std::printf("%-20s %-10s %s\n", op->name.c_str(), op->kind.c_str(),
                          op->forward.c_str());
            return 0;
          }};
}

}  // namespace tfmath::cli
