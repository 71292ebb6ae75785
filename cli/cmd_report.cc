// cmd_report.cc: `tfmath report FILE.params|JOB [-o DIR]`: a run's or a cluster job's report.
#include <cstdio>
#include <filesystem>

#include "base/durable_file.h"
#include "cli/client_command.h"
#include "cli/commands.h"
#include "cli/report.h"
#include "cli/report_files.h"
#include "cli/report_markdown.h"
#include "jobs/data_check.h"
#include "jobs/job_error.h"
#include "jobs/metrics_file.h"
#include "jobs/params_file.h"
#include "train/gradient_check.h"

namespace tfmath::cli {

namespace {

// Loads the job's data, checks the gradients, and writes every file of the report into `out`.
void writeReport(ReportInputs& in, const std::string& out) {
  const auto job = in.state.getJob();
  if (job.getModel().size() == 0)
    throw JobError(in.source + ": holds no job, so there is nothing to report");
  const Data data = validateJob(job);
  in.data = &data;
  in.gradients = checkGradients(job, data, in.state);
  std::error_code error;
  std::filesystem::create_directories(out, error);
  if (error || !std::filesystem::is_directory(out))
    throw JobError("-o " + out + ": cannot make the folder" +
                   (error ? ": " + error.message() : std::string()));
  const auto files = markdownReport(in);
  for (const auto& [name, content] : files) {
    try {
      writeFileDurably(out + "/" + name, content);
    } catch (const std::exception& e) {
      throw JobError("-o " + out + ": cannot write " + name + ": " + e.what());
    }
  }
  // On stderr: `submit --parsable --wait --report` keeps its stdout to the job id.
  std::fprintf(stderr, "report written to %s/report.md (with %zu more files beside it)\n",
               out.c_str(), files.size() - 1);
}

}  // namespace

void reportFromFile(const std::string& file, std::string out) {
  ParameterStateFile params(file);
  const std::string history = metricsPathFor(file);
  if (!std::filesystem::exists(history))
    throw JobError(file + ": no metrics history beside it (" + history +
                   ", which tfmath run writes with the parameters): a report needs the run's "
                   "history");
  const auto series = readMetricsFile(history);
  ReportInputs in;
  in.source = std::filesystem::path(file).filename().string();
  in.state = params.state();
  for (auto p : series->getRoot<proto::MetricsSeries>().getPoints()) in.history.push_back(p);
  if (out.empty()) {
    out = file;
    if (out.ends_with(".params")) out.resize(out.size() - 7);
    out += "-report";
  }
  writeReport(in, out);
}

void reportFromJob(Client& client, const std::string& id, std::string out) {
  capnp::MallocMessageBuilder resultRequest, metricsRequest;
  wire::start(resultRequest).setResult(id);
  const auto result = client.call(resultRequest);
  wire::start(metricsRequest).setMetrics(id);
  const auto metrics = client.call(metricsRequest);
  auto reply = result->message().getResultReply();
  ReportInputs in;
  in.source = "job " + id;
  in.state = reply.getState();
  const auto info = reply.getInfo();
  if (info.getState() != proto::JobState::COMPLETED)
    in.ended = std::string(wire::jobStateName(info.getState())) +
               (info.getReason().size() ? ": " + shown(info.getReason()) : std::string());
  for (auto p : metrics->message().getMetricsReply().getPoints()) in.history.push_back(p);
  if (in.history.empty())
    throw JobError("job " + id + " has no metrics history yet: a report needs at least one epoch");
  writeReport(in, out.empty() ? "report-" + id : out);
}

Command addReportCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "report", "Write a run's report: its math with its shapes, its results, and the checks");
  auto c = std::make_shared<Common>();
  auto what = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  addCommon(cmd, *c);
  cmd->add_option("what", *what,
                  "A run's parameter file (tfmath run --save; its metrics history beside it), or "
                  "a job id")
      ->required();
  cmd->add_option("-o,--output", *out,
                  "The report's folder (default: NAME-report beside the file, or report-ID)");
  return {cmd, [=] {
            return guarded("report", [&] {
              std::error_code ignored;
              if (std::filesystem::is_regular_file(*what, ignored) || what->ends_with(".params")) {
                reportFromFile(*what, *out);
              } else {
                Client client(findCoordinator(c->coordinator));
                reportFromJob(client, *what, *out);
              }
              return 0;
            });
          }};
}

}  // namespace tfmath::cli
