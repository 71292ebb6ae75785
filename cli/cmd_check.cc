// cmd_check.cc: `tfmath check JOB [--json]`: the job checked as `submit` checks it, data included,
// then its model as math with its shapes, without training (check_view.h).
#include <cstdio>

#include "cli/check_view.h"
#include "cli/client_command.h"
#include "cli/commands.h"
#include "jobs/data_check.h"
#include "jobs/job_file.h"
#include "jobs/job_override.h"

namespace tfmath::cli {

Command addCheckCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "check", "Check a job file, data included, and print its model's shapes and math");
  auto file = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("job", *file, "The job file (.capnp)")->required();
  cmd->add_option("--set", *overrides, "PATH=VALUE: change one field of the job (repeatable)");
  cmd->add_flag("--json", *json, "Print it as JSON");
  return {cmd, [=] {
            return guarded("check", [&] {
              JobFile job = JobFile::load(*file);
              applyOverrides(job.builder(), *overrides);
              const Data data = validateJob(job.job());
              if (*json)
                std::printf("%s\n", checkJson(job.job(), data).dump(2).c_str());
              else
                std::fputs(checkText(job.job(), data).c_str(), stdout);
              return 0;
            });
          }};
}

}  // namespace tfmath::cli
