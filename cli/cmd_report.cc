// cmd_report.cc: `tfmath report FILE.params|JOB [-o DIR]`: a run's or a cluster job's report.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "base/durable_file.h"
#include "cli/client_command.h"
#include "cli/commands.h"
#include "cli/report.h"
#include "cli/report_files.h"
#include "cli/report_html.h"
#include "cli/report_markdown.h"
#include "cli/report_notebook.h"
#include "jobs/data_check.h"
#include "jobs/job_error.h"
#include "jobs/metrics_file.h"
#include "jobs/params_file.h"
#include "train/gradient_check.h"

namespace tfmath::cli {

namespace {

// Loads the job's data, checks the gradients, and writes every file of the report into `out`, in
// each of `formats` ("md", "html", "ipynb").
void writeReport(ReportInputs& in, const std::string& out,
                 const std::vector<std::string>& formats) {
  const auto job = in.state.getJob();
  if (job.getModel().size() == 0)
    throw JobError(in.source + ": holds no job, so there is nothing to report");
  const Data data = validateJob(job);
  in.data = &data;
  if (in.state.getTensors().size()) in.gradients = checkGradients(job, data, in.state);
  std::error_code error;
  std::filesystem::create_directories(out, error);
  if (error || !std::filesystem::is_directory(out))
    throw JobError("-o " + out + ": cannot make the folder" +
                   (error ? ": " + error.message() : std::string()));
  auto files = markdownReport(in);
  std::string written;
  auto wants = [&](const std::string& format) {
    return std::find(formats.begin(), formats.end(), format) != formats.end();
  };
  if (wants("html")) {
    files["report.html"] = htmlReport(files["report.md"], shown(job.getName()) + ": tfmath report");
    files.merge(katexFiles());
    written = out + "/report.html";
  }
  if (wants("ipynb")) {
    files["report.ipynb"] = notebookReport(files["report.md"], files);
    written += (written.empty() ? "" : " and ") + out + "/report.ipynb";
  }
  if (wants("md"))
    written = out + "/report.md" + (written.empty() ? "" : " and " + written);
  else
    files.erase("report.md");
  for (const auto& [name, content] : files) {
    try {
      std::filesystem::create_directories(std::filesystem::path(out + "/" + name).parent_path());
      writeFileDurably(out + "/" + name, content);
    } catch (const std::exception& e) {
      throw JobError("-o " + out + ": cannot write " + name + ": " + e.what());
    }
  }
  // On stderr: `submit --parsable --wait --report` keeps its stdout to the job id.
  std::fprintf(stderr, "report written to %s (%zu files in all)\n", written.c_str(), files.size());
}

}  // namespace

void reportFromFile(const std::string& file, std::string out,
                    const std::vector<std::string>& formats) {
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
  writeReport(in, out, formats);
}

void reportFromJob(Client& client, const std::string& id, std::string out,
                   const std::vector<std::string>& formats) {
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
  const auto jobState = info.getState();
  if (jobState == proto::JobState::FAILED || jobState == proto::JobState::CANCELLED)
    in.ended = std::string(wire::jobStateName(jobState)) +
               (info.getReason().size() ? ": " + shown(info.getReason()) : std::string());
  else
    in.running = jobState != proto::JobState::COMPLETED;
  for (auto p : metrics->message().getMetricsReply().getPoints()) in.history.push_back(p);
  // An ended job is reported with what there is; one still running needs an epoch to show.
  if (in.history.empty() && in.running)
    throw JobError("job " + id + " has no metrics history yet: a report needs at least one epoch");
  writeReport(in, out.empty() ? "report-" + id : out, formats);
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
  auto formats = std::make_shared<std::vector<std::string>>(std::vector<std::string>{"md"});
  cmd->add_option("--format", *formats,
                  "md (Markdown that renders on GitHub), html (KaTeX, offline), ipynb (a Jupyter "
                  "notebook), or several: md,html,ipynb")
      ->delimiter(',')
      ->check(CLI::IsMember({"md", "html", "ipynb"}))
      ->capture_default_str();
  return {cmd, [=] {
            return guarded("report", [&] {
              std::error_code ignored;
              if (std::filesystem::is_regular_file(*what, ignored) || what->ends_with(".params")) {
                reportFromFile(*what, *out, *formats);
              } else {
                Client client(findCoordinator(c->coordinator));
                reportFromJob(client, *what, *out, *formats);
              }
              return 0;
            });
          }};
}

}  // namespace tfmath::cli
