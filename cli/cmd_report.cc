// cmd_report.cc: `tfmath report FILE.params [-o DIR]`: a run's report (report_markdown.h) from its
// parameter file and the metrics history beside it.
#include <cstdio>
#include <filesystem>

#include "base/durable_file.h"
#include "cli/client_command.h"
#include "cli/commands.h"
#include "cli/report_markdown.h"
#include "jobs/data_check.h"
#include "jobs/job_error.h"
#include "jobs/metrics_file.h"
#include "jobs/params_file.h"
#include "train/gradient_check.h"

namespace tfmath::cli {

namespace {

int report(const std::string& file, std::string out) {
  ParameterStateFile params(file);
  const auto state = params.state();
  const auto job = state.getJob();
  if (job.getModel().size() == 0)
    throw JobError(file + ": holds no job, so there is nothing to report");
  const std::string history = metricsPathFor(file);
  if (!std::filesystem::exists(history))
    throw JobError(file + ": no metrics history beside it (" + history +
                   ", which tfmath run writes with the parameters): a report needs the run's "
                   "history");
  const auto series = readMetricsFile(history);
  const Data data = validateJob(job);
  ReportInputs in;
  in.source = std::filesystem::path(file).filename().string();
  in.state = state;
  in.data = &data;
  for (auto p : series->getRoot<proto::MetricsSeries>().getPoints()) in.history.push_back(p);
  in.gradients = checkGradients(job, data, state);
  if (out.empty()) {
    out = file;
    if (out.ends_with(".params")) out.resize(out.size() - 7);
    out += "-report";
  }
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
  std::printf("report written to %s/report.md (with %zu more files beside it)\n", out.c_str(),
              files.size() - 1);
  return 0;
}

}  // namespace

Command addReportCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "report", "Write a run's report: its math with its shapes, its results, and the checks");
  auto file = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("params", *file,
                  "The run's parameter file (tfmath run --save); its metrics "
                  "history must be beside it")
      ->required();
  cmd->add_option("-o,--output", *out,
                  "The report's folder (default: NAME-report beside the file)");
  return {cmd, [=] { return guarded("report", [&] { return report(*file, *out); }); }};
}

}  // namespace tfmath::cli
