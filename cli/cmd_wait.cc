// cmd_wait.cc: `tfmath wait ID... [--any] [--timeout S] [--json]`: waits for jobs to end, prints a
// line on each, and exits with one status for scripts (docs/batch.md): 0 every job COMPLETED, 1 one
// FAILED, 3 one was CANCELLED, 124 the timeout came first, 2 a usage error.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/client_command.h"
#include "cli/commands.h"
#include "cli/report.h"
#include "jobs/job_error.h"

namespace tfmath::cli {

Command addWaitCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("wait", "Wait for jobs to end; the exit status says how they did");
  auto c = std::make_shared<Common>();
  auto ids = std::make_shared<std::vector<std::string>>();
  auto any = std::make_shared<bool>(false);
  auto timeout = std::make_shared<double>(0);
  addCommon(cmd, *c);
  cmd->add_option("jobs", *ids, "The jobs; a sweep's array id stands for all its jobs")->required();
  cmd->add_flag("--any", *any, "Return once one of them has ended");
  cmd->add_option("--timeout", *timeout, "Give up after this many seconds (exit status 124)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", c->json, "Print the jobs' records as JSON, as status --json does");
  return {cmd, [=] {
            return guarded("wait", [&] {
              Client client(findCoordinator(c->coordinator));
              const auto start = std::chrono::steady_clock::now();
              while (true) {
                auto d = jobStatus(client, "");
                // Each id names a job, or a sweep's array: all its jobs.
                std::vector<proto::JobInfo::Reader> waited;
                for (const auto& id : *ids) {
                  const size_t before = waited.size();
                  for (auto j : d->message().getStatusReply().getJobs()) {
                    const std::string jobId = j.getId().cStr();
                    if (jobId == id || jobId.starts_with(id + "_")) waited.push_back(j);
                  }
                  if (waited.size() == before) throw JobError("no job " + shown(id));
                }
                std::vector<proto::JobInfo::Reader> ended;
                std::vector<proto::JobState> states;
                for (auto j : waited) {
                  if (!wire::jobEnded(j.getState())) continue;
                  ended.push_back(j);
                  states.push_back(j.getState());
                }
                const bool done = *any ? !ended.empty() : ended.size() == waited.size();
                const bool late = *timeout > 0 && std::chrono::steady_clock::now() - start >=
                                                      std::chrono::duration<double>(*timeout);
                if (done || late) {
                  nlohmann::json records = nlohmann::json::array();
                  for (auto j : ended) {
                    if (c->json)
                      records.push_back(toJson(j));
                    else
                      std::printf("%s\n", jobSummary(j, nowMs()).c_str());
                  }
                  if (c->json)
                    std::printf("%s\n", nlohmann::json{{"jobs", records}}.dump(2).c_str());
                  if (done) return exitStatusFor(states);
                  std::fprintf(stderr,
                               "tfmath wait: timed out after %gs; %zu of %zu job(s) ended\n",
                               *timeout, ended.size(), waited.size());
                  return kExitTimedOut;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(500));
              }
            });
          }};
}

}  // namespace tfmath::cli
