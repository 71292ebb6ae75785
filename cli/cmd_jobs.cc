// cmd_jobs.cc: the client commands: submit, status, cancel, result and logs (also installed as
// tfmath-submit, tfmath-status, ...). Each is thin: parse, one or a few requests, print.
#include <kj/string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "base/printable.h"
#include "cli/check_view.h"
#include "cli/client.h"
#include "cli/client_command.h"
#include "cli/commands.h"
#include "cli/metrics_table.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "cli/report_files.h"
#include "cli/signals.h"
#include "cli/sweep_table.h"
#include "cli/top_screen.h"
#include "cli/top_view.h"
#include "jobs/data_check.h"
#include "jobs/job_error.h"
#include "jobs/job_file.h"
#include "jobs/job_override.h"
#include "jobs/metrics_file.h"
#include "jobs/params_file.h"
#include "train/memory_estimate.h"

namespace tfmath::cli {

namespace {

// The largest memory limit the cluster's workers report; 0 without workers.
uint64_t largestWorkerMemory(Client& client) {
  uint64_t largest = 0;
  auto reply = jobStatus(client, "");
  for (auto w : reply->message().getStatusReply().getWorkers())
    largest = std::max(largest, w.getMemoryBytes());
  return largest;
}

// Checks the job's memory estimate against `largest` (largestWorkerMemory), so that a job no
// worker may take is refused here rather than failed there. No workers: nothing to check.
void checkMemory(proto::Job::Reader job, const Data& data, uint64_t largest) {
  const MemoryEstimate memory = estimateMemory(job, data, job.getWorkers());
  if (largest > 0 && memory.total() > static_cast<double>(largest))
    throw JobError("the job needs " + memory.describe() +
                   " on each worker, and the largest any worker allows is " +
                   byteSize(static_cast<double>(largest)) +
                   "; lower batchSize or the model's size, or use more workers");
}

// Fills `out` from Slurm's form "afterok:ID[:ID...]"; throws JobError naming the option.
void setDependency(proto::Dependency::Builder out, const std::string& text) {
  const std::string usage = "--dependency " + shown(text) +
                            ": expected afterok, afterany or afternotok, then :ID for each job, "
                            "e.g. afterok:12:13";
  std::vector<std::string> parts;
  for (size_t at = 0;;) {
    const size_t colon = text.find(':', at);
    parts.push_back(text.substr(at, colon == std::string::npos ? colon : colon - at));
    if (colon == std::string::npos) break;
    at = colon + 1;
  }
  if (parts.size() < 2) throw JobError(usage);
  const std::map<std::string, proto::Dependency::Kind> kinds{
      {"afterok", proto::Dependency::Kind::AFTER_OK},
      {"afterany", proto::Dependency::Kind::AFTER_ANY},
      {"afternotok", proto::Dependency::Kind::AFTER_NOT_OK}};
  auto kind = kinds.find(parts[0]);
  if (kind == kinds.end()) throw JobError(usage);
  out.setKind(kind->second);
  auto ids = out.initJobs(static_cast<unsigned>(parts.size() - 1));
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].empty()) throw JobError(usage);
    ids.set(static_cast<unsigned>(i - 1), parts[i]);
  }
}

// The job of one point of a sweep, in `m`: `base` changed by the point's overrides and named
// after them ("NAME[PATH=VALUE,PATH=VALUE]"). Returns the overrides as text ("PATH=VALUE ...").
std::string pointJob(capnp::MallocMessageBuilder& m, proto::Job::Reader base,
                     const std::vector<JobOverride>& point) {
  m.setRoot(base);
  auto job = m.getRoot<proto::Job>();
  std::string text, name = std::string(base.getName().cStr()) + "[";
  for (size_t k = 0; k < point.size(); ++k) {
    applyOverride(job, point[k]);
    text.append(k ? " " : "").append(point[k].text());
    name.append(k ? "," : "").append(point[k].text());
  }
  job.setName(name + "]");
  return text;
}

// The sweep's jobs, each checked as a job file is. The data is read once, and again only for a
// point that changes the data source or the seed.
void fillArray(proto::SubmitArray::Builder out, proto::Job::Reader base,
               const std::vector<std::vector<JobOverride>>& points, Client& client) {
  auto jobs = out.initJobs(static_cast<unsigned>(points.size()));
  auto texts = out.initOverrides(static_cast<unsigned>(points.size()));
  const uint64_t largest = largestWorkerMemory(client);
  auto dataKey = [](proto::Job::Reader job) {
    return std::string(kj::str(job.getData()).cStr()) + "/" + std::to_string(job.getSeed());
  };
  std::string loadedKey;
  std::optional<Data> loaded;
  for (unsigned i = 0; i < points.size(); ++i) {
    capnp::MallocMessageBuilder m;
    const std::string text = pointJob(m, base, points[i]);
    auto job = m.getRoot<proto::Job>();
    try {
      if (loaded && dataKey(job.asReader()) == loadedKey) {
        validateJobWithData(job.asReader(), *loaded);
      } else {
        loaded = validateJob(job.asReader());
        loadedKey = dataKey(job.asReader());
      }
      checkMemory(job.asReader(), *loaded, largest);
    } catch (const JobError& e) {
      throw JobError("--sweep " + text + ": " + e.what());
    }
    jobs.setWithCaveats(i, job.asReader());
    texts.set(i, text);
  }
}

// Follows a job until it ends, on stderr: a bar on a terminal, else a line per state or epoch
// (a running job's once it has figures). Returns the status that says it ended.
std::unique_ptr<wire::Decoded> follow(Client& client, const std::string& id) {
  const bool tty = isatty(STDERR_FILENO);
  std::string last;
  while (true) {
    auto d = jobStatus(client, id);
    auto info = d->message().getStatusReply().getJobs()[0];
    const double done = info.getStepsTotal() ? double(info.getStep()) / info.getStepsTotal() : 0;
    char line[256];
    if (info.getState() == proto::JobState::RUNNING) {
      const int width = 24, filled = static_cast<int>(done * width);
      std::snprintf(line, sizeof line,
                    "job %s RUNNING [%s%s] %3.0f%%  epoch %u/%u  loss %.4f  %.0f samples/s",
                    id.c_str(), std::string(filled, '#').c_str(),
                    std::string(width - filled, ' ').c_str(), 100 * done, info.getEpoch() + 1,
                    info.getEpochs(), info.getLoss(), info.getSamplesPerSecond());
    } else {
      std::snprintf(line, sizeof line, "job %s %s%s%s", id.c_str(),
                    wire::jobStateName(info.getState()), info.getReason().size() ? ": " : "",
                    shown(info.getReason()).c_str());
    }
    const std::string text = line;
    // Off a terminal, one line per state or epoch change keeps logs short; a running job's line
    // waits for its first figures.
    const bool figures = info.getState() != proto::JobState::RUNNING || info.getStep() > 0;
    const std::string key =
        std::string(wire::jobStateName(info.getState())) + std::to_string(info.getEpoch());
    if (tty) {
      std::fprintf(stderr, "\r\033[K%s", text.c_str());
    } else if (key != last && figures) {
      std::fprintf(stderr, "%s\n", text.c_str());
      last = key;
    }
    if (wire::jobEnded(info.getState())) {
      if (tty) std::fprintf(stderr, "\n");
      return d;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(tty ? 200 : 500));
  }
}

}  // namespace

Command addSubmitCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("submit", "Validate a job file and submit it to the cluster");
  auto c = std::make_shared<Common>();
  auto file = std::make_shared<std::string>();
  auto wait = std::make_shared<bool>(false);
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto parsable = std::make_shared<bool>(false);
  auto dependency = std::make_shared<std::string>();
  auto sweeps = std::make_shared<std::vector<std::string>>();
  auto maxRunning = std::make_shared<uint32_t>(0);
  auto initFrom = std::make_shared<std::string>();
  addCommon(cmd, *c);
  cmd->add_option("job", *file, "The job file, or - to read it from standard input")->required();
  cmd->add_option("--set", *overrides,
                  "PATH=VALUE: change one field of the job, e.g. optimizer.sgd.learningRate=0.01 "
                  "or model[1].dense.units=512 (repeatable)");
  auto* sweep = cmd->add_option(
      "--sweep", *sweeps,
      "PATH=V1,V2,...: one job per value (repeatable: every combination), as an array of ids "
      "ID_0, ID_1, ...");
  cmd->add_option("--max-running", *maxRunning, "At most this many of the sweep's jobs at once")
      ->needs(sweep);
  cmd->add_flag("--wait", *wait,
                "Follow the job, print a line on how it ended; the exit status is tfmath wait's")
      ->excludes(sweep);
  auto* json = cmd->add_flag("--json", c->json, "Print the job id as JSON");
  cmd->add_flag("--parsable", *parsable, "Print the job id only, and nothing else on stdout")
      ->excludes(json);
  cmd->add_option("--init-from", *initFrom,
                  "JOB or FILE.params: start from that job's trained parameters (fine-tuning; "
                  "waits for the job to COMPLETE), or from those in the file")
      ->excludes(sweep);
  auto report = std::make_shared<std::string>();
  cmd->add_option("--report", *report,
                  "With --wait: then write the job's report into this folder (tfmath report)")
      ->needs("--wait");
  auto dryRun = std::make_shared<bool>(false);
  cmd->add_flag("--dry-run", *dryRun,
                "Check the job (each job of a sweep) as `tfmath check` does, print its model's "
                "shapes and math, and submit nothing (the workers' memory, --dependency and "
                "--init-from are left to a real submission)")
      ->excludes(json)
      ->excludes("--parsable")
      ->excludes("--wait");
  cmd->add_option("--dependency", *dependency,
                  "afterok:ID[:ID...] (or afterany, afternotok): run only once these jobs ended "
                  "so; PENDING with reason Dependency until then");
  return {cmd, [=] {
            return guarded("submit", [&] {
              // The same checks as `tfmath run`, before anything is sent (§6.1).
              JobFile job = *file == "-" ? [] {
                std::stringstream in;
                in << std::cin.rdbuf();
                return JobFile::parse(in.str(), "<stdin>", ".");
              }()
                                         : JobFile::load(*file);
              applyOverrides(job.builder(), *overrides);
              // A sweep's points, each a list of overrides; one point with none for a job.
              std::vector<std::vector<JobOverride>> points{{}};
              if (!sweeps->empty()) {
                std::vector<SweepAxis> axes;
                for (const auto& s : *sweeps) axes.push_back(parseSweep(s));
                points = sweepPoints(axes);
              }
              if (*dryRun) {
                for (const auto& point : points) {
                  capnp::MallocMessageBuilder m;
                  const std::string text = point.empty() ? "" : pointJob(m, job.job(), point);
                  const auto one = point.empty() ? job.job() : m.getRoot<proto::Job>().asReader();
                  try {
                    std::fputs(checkText(one, validateJob(one)).c_str(), stdout);
                  } catch (const JobError& e) {
                    if (text.empty()) throw;
                    throw JobError("--sweep " + text + ": " + e.what());
                  }
                  std::printf("\n");
                }
                std::printf("nothing submitted (--dry-run)\n");
                return 0;
              }
              if (!sweeps->empty()) {
                Client client(findCoordinator(c->coordinator));
                capnp::MallocMessageBuilder b;
                auto a = wire::start(b).initSubmitArray();
                fillArray(a, job.job(), points, client);
                a.setMaxRunning(*maxRunning);
                if (!dependency->empty()) setDependency(a.initDependency(), *dependency);
                const std::string id = client.call(b)->message().getSubmitted();
                nlohmann::json ids = nlohmann::json::array();
                for (size_t i = 0; i < points.size(); ++i)
                  ids.push_back(id + "_" + std::to_string(i));
                if (c->json)
                  std::printf("%s\n", nlohmann::json{{"ids", ids}}.dump().c_str());
                else
                  for (const auto& i : ids) std::printf("%s\n", i.get<std::string>().c_str());
                return 0;
              }
              const Data data = validateJob(job.job());
              Client client(findCoordinator(c->coordinator));
              checkMemory(job.job(), data, largestWorkerMemory(client));
              capnp::MallocMessageBuilder b;
              auto s = wire::start(b).initSubmit();
              s.setJob(job.job());
              if (!dependency->empty()) setDependency(s.initDependency(), *dependency);
              // A parameter file of the user's travels with the job; else it names a job.
              std::error_code ignored;
              std::unique_ptr<ParameterStateFile> initial;
              if (std::filesystem::is_regular_file(*initFrom, ignored)) {
                initial = std::make_unique<ParameterStateFile>(*initFrom);
                s.initInitial().setTensors(initial->state().getTensors());
              } else {
                s.setInitFrom(*initFrom);
              }
              const std::string id = client.call(b)->message().getSubmitted();
              if (c->json)
                std::printf("%s\n", nlohmann::json{{"id", id}}.dump().c_str());
              else
                std::printf("%s\n", id.c_str());
              std::fflush(stdout);
              if (!*wait) return 0;
              auto end = follow(client, id);
              auto info = end->message().getStatusReply().getJobs()[0];
              if (c->json)
                std::printf("%s\n", toJson(info).dump().c_str());
              else if (!*parsable)
                std::printf("%s\n", jobSummary(info, nowMs()).c_str());
              if (!report->empty()) {
                std::fflush(stdout);
                // The exit status stays the job's: a report that cannot be written is said.
                try {
                  reportFromJob(client, id, *report);
                } catch (const std::exception& e) {
                  std::fprintf(stderr, "tfmath submit: --report: %s\n",
                               escapeForTerminal(e.what(), true).c_str());
                }
              }
              return exitStatusFor({info.getState()});
            });
          }};
}

Command addStatusCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("status", "Show jobs and workers");
  auto c = std::make_shared<Common>();
  auto id = std::make_shared<std::string>();
  addCommon(cmd, *c);
  cmd->add_option("job", *id, "Only this job");
  cmd->add_flag("--json", c->json, "Machine-readable output");
  return {cmd, [=] {
            return guarded("status", [&] {
              Client client(findCoordinator(c->coordinator));
              auto d = jobStatus(client, *id);
              auto r = d->message().getStatusReply();
              if (c->json) {
                nlohmann::json out{{"jobs", nlohmann::json::array()},
                                   {"workers", nlohmann::json::array()}};
                for (auto j : r.getJobs()) out["jobs"].push_back(toJson(j));
                for (auto w : r.getWorkers()) out["workers"].push_back(toJson(w));
                std::printf("%s\n", out.dump(2).c_str());
                return 0;
              }
              const int64_t now = nowMs();
              std::printf("%-5s %-10s %-14s %-10s %3s %-9s %-13s %-8s %9s %-15s %s\n", "JOB",
                          "USER", "NAME", "STATE", "W", "EPOCH", "STEP", "LOSS", "SAMPLES/S",
                          "ELAPSED/ETA", "REASON");
              for (auto j : r.getJobs()) {
                const int64_t end = j.getFinishedMs() ? j.getFinishedMs() : now;
                const double elapsed = j.getStartedMs() ? (end - j.getStartedMs()) / 1e3 : 0;
                const double left =
                    j.getStep() && j.getStepsTotal() > j.getStep() && !j.getFinishedMs()
                        ? elapsed * double(j.getStepsTotal() - j.getStep()) / j.getStep()
                        : 0;
                const std::string epoch =
                    std::to_string(std::min(j.getEpoch() + 1, j.getEpochs())) + "/" +
                    std::to_string(j.getEpochs());
                const std::string step =
                    std::to_string(j.getStep()) + "/" + std::to_string(j.getStepsTotal());
                const std::string time = formatDuration(elapsed) + "/" + formatDuration(left);
                std::printf("%-5s %-10s %-14s %-10s %3u %-9s %-13s %-8.4f %9.0f %-15s %s\n",
                            shown(j.getId()).c_str(), shown(j.getUser()).c_str(),
                            shown(j.getName()).c_str(), wire::jobStateName(j.getState()),
                            j.getWorkers(), epoch.c_str(), step.c_str(), j.getLoss(),
                            j.getSamplesPerSecond(), time.c_str(), shown(j.getReason()).c_str());
              }
              std::printf("\n%-28s %-12s %-7s %-5s %-5s %-5s %s\n", "WORKER", "HOST", "DEVICE",
                          "STATE", "JOB", "RANK", "HEARTBEAT");
              for (auto w : r.getWorkers()) {
                std::printf("%-28s %-12s %-7s %-5s %-5s %-5s %.1fs ago", shown(w.getId()).c_str(),
                            shown(w.getHost()).c_str(), shown(w.getDevice()).c_str(),
                            w.getBusy() ? "busy" : "idle",
                            w.getBusy() ? shown(w.getJobId()).c_str() : "-",
                            w.getBusy() ? std::to_string(w.getRank()).c_str() : "-",
                            w.getHeartbeatAgeMs() / 1e3);
                if (auto g = w.getGpu(); g.getName().size()) {
                  std::printf("  %s, %.1f/%.1f GiB", shown(g.getName()).c_str(),
                              g.getMemoryUsedBytes() / 1073741824.0,
                              g.getMemoryTotalBytes() / 1073741824.0);
                  if (g.getUtilizationPercent() >= 0)
                    std::printf(", %d%% busy", g.getUtilizationPercent());
                }
                std::printf("\n");
              }
              return 0;
            });
          }};
}

Command addCancelCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("cancel", "Stop a job on all its workers");
  auto c = std::make_shared<Common>();
  auto id = std::make_shared<std::string>();
  addCommon(cmd, *c);
  cmd->add_option("job", *id, "The job")->required();
  return {cmd, [=] {
            return guarded("cancel", [&] {
              Client client(findCoordinator(c->coordinator));
              capnp::MallocMessageBuilder b;
              wire::start(b).setCancelJob(*id);
              client.call(b);
              std::printf("job %s cancelled\n", id->c_str());
              return 0;
            });
          }};
}

Command addResultCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("result", "Show a finished job's metrics and learned values");
  auto c = std::make_shared<Common>();
  auto id = std::make_shared<std::string>();
  auto params = std::make_shared<std::string>();
  auto sort = std::make_shared<std::string>("test_loss");
  addCommon(cmd, *c);
  cmd->add_option("job", *id, "The job, or a sweep's array id for one table of its jobs")
      ->required();
  cmd->add_option("--params", *params, "Also write its parameter-state file here");
  cmd->add_flag("--json", c->json, "Machine-readable output");
  cmd->add_option("--sort", *sort,
                  "For a sweep: test_loss (the default), test_accuracy, loss, samples_per_s or id; "
                  "-KEY for the largest first");
  return {cmd, [=] {
            return guarded("result", [&] {
              Client client(findCoordinator(c->coordinator));
              std::unique_ptr<wire::Decoded> d;
              try {
                capnp::MallocMessageBuilder b;
                wire::start(b).setResult(*id);
                d = client.call(b);
              } catch (const ClientError&) {
                // No such job: a sweep's array id stands for its jobs, in one table.
                auto status = jobStatus(client, "");
                const auto jobs = sweepJobs(status->message().getStatusReply(), *id, *sort);
                if (jobs.empty() || id->find('_') != std::string::npos) throw;
                if (!params->empty())
                  throw JobError("--params: " + shown(*id) +
                                 " is a sweep; ask for one of its jobs, e.g. " + shown(*id) + "_0");
                if (c->json)
                  std::printf("%s\n", sweepJson(jobs).dump(2).c_str());
                else
                  std::printf("%s", sweepTable(jobs).c_str());
                return 0;
              }
              auto r = d->message().getResultReply();
              if (r.getState().getTensors().size() == 0)
                throw ClientError(
                    "job " + shown(*id) + " ended " + wire::jobStateName(r.getInfo().getState()) +
                    " before its first checkpoint, so it has no parameters" +
                    (r.getInfo().getReason().size() ? ": " + shown(r.getInfo().getReason())
                                                    : std::string()));
              auto m = r.getState().getMetrics();
              const std::string values = learnedValues(r.getState());
              if (!params->empty()) {
                capnp::MallocMessageBuilder out;
                out.setRoot(r.getState());
                saveParameterState(*params, out);
              }
              if (c->json) {
                nlohmann::json out{{"job", toJson(r.getInfo())},
                                   {"metrics", metricsJson(m)},
                                   {"step", r.getState().getStep()},
                                   {"epoch", r.getState().getEpoch()}};
                if (!values.empty()) out["learned"] = values;
                std::printf("%s\n", out.dump(2).c_str());
                return 0;
              }
              std::printf("job %s (%s): %s at epoch %u, step %llu\n", shown(*id).c_str(),
                          shown(r.getInfo().getName()).c_str(),
                          wire::jobStateName(r.getInfo().getState()), r.getState().getEpoch(),
                          static_cast<unsigned long long>(r.getState().getStep()));
              std::printf("train loss %.4f  test loss %.4f", m.getTrainLoss(), m.getTestLoss());
              if (!std::isnan(m.getTestAccuracy()))
                std::printf("  test accuracy %.2f%%", 100 * m.getTestAccuracy());
              std::printf("  %.0f samples/s\n", m.getSamplesPerSecond());
              if (!values.empty()) std::printf("learned: %s\n", values.c_str());
              if (!params->empty()) std::printf("parameters saved to %s\n", params->c_str());
              return 0;
            });
          }};
}

Command addLogsCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("logs", "Print a job's log");
  auto c = std::make_shared<Common>();
  auto id = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  addCommon(cmd, *c);
  cmd->add_option("job", *id, "The job")->required();
  cmd->add_flag("-f,--follow", *follow, "Keep printing until the job ends");
  return {cmd, [=] {
            return guarded("logs", [&] {
              Client client(findCoordinator(c->coordinator));
              uint64_t offset = 0;
              LineEscaper escaper;
              auto print = [](const std::string& text) {
                std::fwrite(text.data(), 1, text.size(), stdout);
                std::fflush(stdout);
              };
              while (true) {
                capnp::MallocMessageBuilder b;
                auto l = wire::start(b).initLogs();
                l.setJobId(*id);
                l.setOffset(offset);
                auto d = client.call(b);
                auto r = d->message().getLogsReply();
                print(escaper.add({r.getText().begin(), r.getText().size()}));
                offset = r.getNextOffset();
                // The whole log so far; with --follow, until the job has ended.
                if (r.getText().size() == 0 && (!*follow || r.getFinished())) {
                  print(escaper.finish());
                  return 0;
                }
                if (r.getText().size() == 0)
                  std::this_thread::sleep_for(std::chrono::milliseconds(500));
              }
            });
          }};
}

Command addMetricsCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "metrics", "Print a job's metrics history: windows of steps per rank, and epochs");
  auto c = std::make_shared<Common>();
  auto what = std::make_shared<std::string>();
  auto csv = std::make_shared<bool>(false);
  addCommon(cmd, *c);
  cmd->add_option("job", *what, "A job id, or a metrics file (tfmath run writes NAME.metrics)")
      ->required();
  auto* json = cmd->add_flag("--json", c->json, "One JSON array of points");
  cmd->add_flag("--csv", *csv, "CSV with a header row")->excludes(json);
  return {cmd, [=] {
            return guarded("metrics", [&] {
              const MetricsFormat format = c->json ? MetricsFormat::json
                                           : *csv  ? MetricsFormat::csv
                                                   : MetricsFormat::table;
              std::error_code ignored;
              if (std::filesystem::is_regular_file(*what, ignored)) {
                auto series = readMetricsFile(*what);
                printMetrics(series->getRoot<proto::MetricsSeries>().asReader(), format);
                return 0;
              }
              Client client(findCoordinator(c->coordinator));
              capnp::MallocMessageBuilder b;
              wire::start(b).setMetrics(*what);
              auto d = client.call(b);
              printMetrics(d->message().getMetricsReply(), format);
              return 0;
            });
          }};
}

Command addTopCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("top", "Watch the cluster: workers, jobs, their speed and loss");
  auto c = std::make_shared<Common>();
  auto once = std::make_shared<bool>(false);
  auto seconds = std::make_shared<double>(1.0);
  addCommon(cmd, *c);
  cmd->add_flag("--once", *once, "Print one snapshot and exit (also without a terminal)");
  cmd->add_flag("--json", c->json, "Print one snapshot as JSON and exit");
  cmd->add_option("-d,--delay", *seconds, "Seconds between refreshes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  return {cmd, [=] {
            return guarded("top", [&] {
              Client client(findCoordinator(c->coordinator));
              if (c->json) {
                auto d = jobStatus(client, "");
                std::printf("%s\n", topJson(d->message().getStatusReply()).dump(2).c_str());
                return 0;
              }
              const auto& stop = stopOnSignals();
              std::string why;
              if (!*once && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO)) {
                if (runTopScreen(client, *seconds, stop, why)) return 0;
                std::fprintf(stderr, "tfmath top: %s; one snapshot follows\n", why.c_str());
              }
              // Without a terminal, or with --once: one snapshot.
              auto d = jobStatus(client, "");
              winsize size{};
              const int width = ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0
                                    ? size.ws_col
                                    : 100;
              std::printf("%s", renderTop(d->message().getStatusReply(), width, nowMs()).c_str());
              return 0;
            });
          }};
}

}  // namespace tfmath::cli
