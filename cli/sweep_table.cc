// sweep_table.cc: a sweep's jobs as one table.
#include "cli/sweep_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "base/printable.h"
#include "cli/report.h"
#include "jobs/job_error.h"
#include "net/wire.h"

namespace tfmath::cli {

namespace {

double figure(proto::JobInfo::Reader j, const std::string& key) {
  if (key == "test_loss") return j.getTestLoss();
  if (key == "test_accuracy") return j.getTestAccuracy();
  if (key == "loss") return j.getStep() > 0 ? j.getLoss() : NAN;
  if (key == "samples_per_s") return j.getSamplesPerSecond();
  const std::string id = j.getId().cStr();  // "id": the index within the array
  return std::strtod(id.substr(id.find('_') + 1).c_str(), nullptr);
}

std::string number(const char* pattern, double v) {
  if (!std::isfinite(v)) return "-";
  char text[64];
  std::snprintf(text, sizeof text, std::fabs(v) >= 1e6 ? "%.3g" : pattern, v);  // a diverged one
  return text;
}

}  // namespace

std::vector<proto::JobInfo::Reader> sweepJobs(proto::StatusReply::Reader status,
                                              const std::string& arrayId, const std::string& key) {
  const bool largestFirst = key.starts_with("-");
  const std::string column = largestFirst ? key.substr(1) : key;
  if (std::find(kSweepSortKeys.begin(), kSweepSortKeys.end(), column) == kSweepSortKeys.end()) {
    std::string keys;
    for (const auto& k : kSweepSortKeys) keys += (keys.empty() ? "" : ", ") + k;
    throw JobError("--sort " + escapeForTerminal(key) + ": expected one of " + keys +
                   ", with - before it for the largest first");
  }
  std::vector<proto::JobInfo::Reader> jobs;
  for (auto j : status.getJobs())
    if (std::string(j.getId().cStr()).starts_with(arrayId + "_")) jobs.push_back(j);
  std::stable_sort(jobs.begin(), jobs.end(), [&](auto a, auto b) {
    const double x = figure(a, column), y = figure(b, column);
    if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
    return largestFirst ? x > y : x < y;
  });
  return jobs;
}

std::string sweepTable(const std::vector<proto::JobInfo::Reader>& jobs) {
  char line[512];
  std::snprintf(line, sizeof line, "%-8s %-10s %9s %9s %9s %10s  %s\n", "JOB", "STATE", "TEST LOSS",
                "TEST ACC", "LOSS", "SAMPLES/S", "OVERRIDES");
  std::string out = line;
  for (auto j : jobs) {
    std::snprintf(line, sizeof line, "%-8s %-10s %9s %9s %9s %10s  ",
                  escapeForTerminal(j.getId().cStr()).c_str(), wire::jobStateName(j.getState()),
                  number("%.4f", j.getTestLoss()).c_str(),
                  number("%.2f%%", 100 * j.getTestAccuracy()).c_str(),
                  number("%.4f", j.getStep() > 0 ? j.getLoss() : NAN).c_str(),
                  j.getSamplesPerSecond() > 0
                      ? std::to_string(std::lround(j.getSamplesPerSecond())).c_str()
                      : "-");
    out += line + escapeForTerminal(j.getOverrides().cStr()) + "\n";
  }
  return out;
}

nlohmann::json sweepJson(const std::vector<proto::JobInfo::Reader>& jobs) {
  nlohmann::json out = nlohmann::json::array();
  for (auto j : jobs) {
    auto record = toJson(j);
    record["overrides"] = j.getOverrides().cStr();
    out.push_back(record);
  }
  return {{"jobs", out}};
}

}  // namespace tfmath::cli
