// top_view.cc: the cluster's view as text lines and as JSON, and the jobs' order and filter.
#include "cli/top_view.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <tuple>
#include <vector>

#include "base/printable.h"
#include "cli/report.h"
#include "net/wire.h"

namespace tfmath::cli {

namespace {

std::string bytes(double b) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  return format(u == 0 ? "%.0f" : "%.1f", b) + units[u];
}

std::string bar(double fraction, int width) {
  const int full = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * width + 0.5);
  std::string out(static_cast<size_t>(width) + 2, ' ');
  out.front() = '[';
  out.back() = ']';
  std::fill_n(out.begin() + 1, full, '#');
  return out;
}

}  // namespace

bool slowerThanMedian(double step, std::vector<double> steps) {
  steps.erase(std::remove_if(steps.begin(), steps.end(), [](double s) { return !(s > 0); }),
              steps.end());
  if (step <= 0 || steps.size() < 2) return false;
  std::sort(steps.begin(), steps.end());
  const size_t n = steps.size();
  const double median = n % 2 ? steps[n / 2] : (steps[n / 2 - 1] + steps[n / 2]) / 2;
  return step > 1.5 * median;
}

bool isStraggler(proto::StatusReply::Reader status, proto::WorkerInfo::Reader worker) {
  if (!worker.getBusy()) return false;
  std::vector<double> steps;
  for (auto w : status.getWorkers())
    if (w.getBusy() && w.getJobId() == worker.getJobId()) steps.push_back(w.getStepSeconds());
  return slowerThanMedian(worker.getStepSeconds(), steps);
}

std::string sparkline(capnp::List<float>::Reader values, Glyphs glyphs, size_t most) {
  static const char* blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  static const char* ascii[] = {"_", ".", "-", "~", "=", "+", "*", "#"};
  const char** marks = glyphs == Glyphs::utf8 ? blocks : ascii;
  const size_t first = values.size() > most ? values.size() - most : 0;
  float lo = INFINITY, hi = -INFINITY;
  for (size_t i = first; i < values.size(); ++i)
    if (std::isfinite(values[i])) lo = std::min(lo, values[i]), hi = std::max(hi, values[i]);
  std::string out;
  for (size_t i = first; i < values.size(); ++i) {
    const float v = values[i];
    if (!std::isfinite(v)) {
      out += " ";
      continue;
    }
    const int level = hi > lo ? static_cast<int>(std::lround(7.0 * (v - lo) / (hi - lo))) : 0;
    out += marks[std::clamp(level, 0, 7)];
  }
  return out;
}

std::vector<std::string> wrapText(const std::string& text, int width, const std::string& indent) {
  std::vector<std::string> out;
  const size_t room = static_cast<size_t>(std::max(10, width - static_cast<int>(indent.size())));
  for (size_t at = 0; at < text.size();) {
    size_t n = std::min(room, text.size() - at);
    // Break after a space in the line's second half, if there is one; else anywhere but inside a
    // UTF-8 character.
    if (at + n < text.size()) {
      const size_t space = text.rfind(' ', at + n - 1);
      if (space != std::string::npos && space >= at + n / 2) n = space + 1 - at;
    }
    while (n > 0 && at + n < text.size() &&
           (static_cast<unsigned char>(text[at + n]) & 0xC0) == 0x80)
      --n;
    out.push_back(indent + text.substr(at, n));
    at += n;
  }
  return out;
}

namespace {

// The header's figures: jobs by state, workers by state and device, the running jobs' speed.
struct Summary {
  std::map<std::string, int> jobStates;
  int busy = 0, idle = 0, gpus = 0;
  double samplesPerSecond = 0;
  explicit Summary(proto::StatusReply::Reader status) {
    for (auto j : status.getJobs()) {
      ++jobStates[wire::jobStateName(j.getState())];
      if (j.getState() == proto::JobState::RUNNING) samplesPerSecond += j.getSamplesPerSecond();
    }
    for (auto w : status.getWorkers()) {
      (w.getBusy() ? busy : idle)++;
      if (std::string(w.getDevice().cStr()).starts_with("gpu")) ++gpus;
    }
  }
};

}  // namespace

std::vector<std::string> summaryLines(proto::StatusReply::Reader status) {
  Summary sum(status);
  std::string workers =
      "workers: " + std::to_string(sum.busy) + " busy, " + std::to_string(sum.idle) + " idle (" +
      std::to_string(sum.busy + sum.idle - sum.gpus) + " cpu, " + std::to_string(sum.gpus) +
      " gpu)   cluster: " + format("%.0f", sum.samplesPerSecond) + " samples/s";
  std::string jobs = "jobs:";
  for (const char* state : {"RUNNING", "PENDING", "COMPLETED", "FAILED", "CANCELLED"})
    jobs.append(" ").append(std::to_string(sum.jobStates[state])).append(" ").append(state);
  return {workers, jobs};
}

std::vector<std::string> workerLines(proto::StatusReply::Reader status) {
  int idWidth = 6;
  for (auto w : status.getWorkers())
    idWidth = std::max(idWidth, static_cast<int>(shown(w.getId()).size()));
  const char* pattern = "%-*s %-5s %-5s %-6s %5s %6s %6s %4s %4s%s";
  char line[512];
  std::snprintf(line, sizeof line, pattern, idWidth, "WORKER", "DEV", "STATE", "JOB/R", "CPU%",
                "MEM", "STEPms", "AR%", "HB", "");
  std::vector<std::string> out{line};
  for (auto w : status.getWorkers()) {
    const bool gpu = w.getGpu().getName().size() > 0;
    std::string use = "-", memory = "-";
    if (gpu) {
      use = format("%.0f%%", w.getGpu().getUtilizationPercent());
      memory = bytes(static_cast<double>(w.getGpu().getMemoryUsedBytes()));
    } else if (w.hasLoad()) {
      use = format("%.0f%%", w.getLoad().getCpuPercent());
      memory = bytes(static_cast<double>(w.getLoad().getRssBytes()));
    }
    const double step = w.getStepSeconds(), age = w.getHeartbeatAgeMs() / 1000.0;
    const std::string job =
        w.getBusy() ? shown(w.getJobId()) + "/" + std::to_string(w.getRank()) : "-";
    std::snprintf(line, sizeof line, pattern, idWidth, shown(w.getId()).c_str(),
                  shown(w.getDevice()).c_str(), w.getBusy() ? "busy" : "idle", job.c_str(),
                  use.c_str(), memory.c_str(), step > 0 ? format("%.1f", 1000 * step).c_str() : "-",
                  step > 0 ? format("%.1f", 100 * w.getAllreduceSeconds() / step).c_str() : "-",
                  format(age < 10 ? "%.1fs" : "%.0fs", age).c_str(),
                  isStraggler(status, w) ? " straggler" : "");
    out.push_back(line);
  }
  return out;
}

namespace {

// The loss trend's columns: what a line of `width` leaves, 4 to 32.
size_t trendWidth(int width) { return static_cast<size_t>(std::clamp(width - 70, 4, 32)); }

}  // namespace

std::string jobHeading(int width) {
  char line[256];
  std::snprintf(line, sizeof line, "%-4s %-8s %-9s %-15s %8s %-*s %7s %11s", "ID", "USER", "STATE",
                "PROGRESS", "LOSS", static_cast<int>(trendWidth(width)), "TREND", "SAMP/S",
                "TIME/ETA");
  return line;
}

std::vector<std::string> jobLines(proto::JobInfo::Reader j, int width, int64_t nowMs,
                                  Glyphs glyphs) {
  const double fraction =
      j.getStepsTotal() ? static_cast<double>(j.getStep()) / j.getStepsTotal() : 0;
  const int64_t end = j.getFinishedMs() ? j.getFinishedMs() : nowMs;
  const double elapsed = j.getStartedMs() ? (end - j.getStartedMs()) / 1e3 : 0;
  // The time left, from the pace so far; not before 1% is done, when the pace says little.
  const double left = j.getSamplesPerSecond() > 0 && fraction >= 0.01 && !j.getFinishedMs()
                          ? elapsed * (1 - fraction) / fraction
                          : 0;
  // The sparkline has one glyph per loss, each of several bytes in UTF-8: pad it by hand.
  const size_t most = trendWidth(width);
  std::string trend = sparkline(j.getRecentLosses(), glyphs, most);
  trend.append(most - std::min<size_t>(most, j.getRecentLosses().size()), ' ');
  char line[512];
  std::snprintf(
      line, sizeof line, "%-4s %-8s %-9s %s %3.0f%% %8s %s %7.0f %11s", shown(j.getId()).c_str(),
      shown(j.getUser()).c_str(), wire::jobStateName(j.getState()), bar(fraction, 8).c_str(),
      100 * fraction, j.getStep() ? format("%.4f", j.getLoss()).c_str() : "-", trend.c_str(),
      j.getSamplesPerSecond(), (formatDuration(elapsed) + "/" + formatDuration(left)).c_str());
  std::vector<std::string> out{line};
  // The name and the reason whole, wrapped to the width: never cut.
  for (auto& l : wrapText(shown(j.getName()), width, "     name: ")) out.push_back(std::move(l));
  if (j.getReason().size())
    for (auto& l : wrapText(shown(j.getReason()), width, "     reason: "))
      out.push_back(std::move(l));
  return out;
}

std::string renderTop(proto::StatusReply::Reader status, int width, int64_t nowMs, Glyphs glyphs) {
  std::vector<std::string> lines = summaryLines(status);
  lines.push_back("");
  for (auto& l : workerLines(status)) lines.push_back(std::move(l));
  lines.push_back("");
  lines.push_back(jobHeading(width));
  for (auto j : status.getJobs())
    for (auto& l : jobLines(j, width, nowMs, glyphs)) lines.push_back(std::move(l));
  std::string out;
  for (const auto& l : lines) out.append(l).append("\n");
  return out;
}

nlohmann::json topJson(proto::StatusReply::Reader status) {
  nlohmann::json workers = nlohmann::json::array(), jobs = nlohmann::json::array();
  for (auto w : status.getWorkers()) {
    auto o = toJson(w);
    o["straggler"] = isStraggler(status, w);
    workers.push_back(o);
  }
  for (auto j : status.getJobs()) jobs.push_back(toJson(j));
  const Summary sum(status);
  return {{"summary", {{"jobs", sum.jobStates}, {"samples_per_s", sum.samplesPerSecond}}},
          {"workers", workers},
          {"jobs", jobs}};
}

const char* jobOrderName(JobOrder order) {
  switch (order) {
    case JobOrder::id:
      return "id";
    case JobOrder::state:
      return "state";
    case JobOrder::user:
      return "user";
    case JobOrder::speed:
      return "samples/s";
    case JobOrder::progress:
      return "progress";
  }
  return "id";
}

JobOrder nextJobOrder(JobOrder order) {
  return order == JobOrder::progress ? JobOrder::id
                                     : static_cast<JobOrder>(static_cast<int>(order) + 1);
}

namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Running first, then waiting, then the ended ones.
int stateRank(proto::JobState state) {
  switch (state) {
    case proto::JobState::RUNNING:
      return 0;
    case proto::JobState::PENDING:
      return 1;
    default:
      return 2;
  }
}

}  // namespace

std::vector<unsigned> shownJobs(proto::StatusReply::Reader status, const std::string& filter,
                                JobOrder order) {
  const auto jobs = status.getJobs();
  const std::string wanted = lower(filter);
  std::vector<unsigned> out;
  for (unsigned i = 0; i < jobs.size(); ++i) {
    auto j = jobs[i];
    const std::string haystack =
        lower(std::string(j.getId().cStr()) + "\n" + j.getUser().cStr() + "\n" +
              j.getName().cStr() + "\n" + wire::jobStateName(j.getState()));
    if (haystack.find(wanted) != std::string::npos) out.push_back(i);
  }
  auto key = [&](unsigned i) -> std::tuple<double, std::string> {
    auto j = jobs[i];
    switch (order) {
      case JobOrder::id:
        return {std::strtod(j.getId().cStr(), nullptr), ""};
      case JobOrder::state:
        return {stateRank(j.getState()), ""};
      case JobOrder::user:
        return {0, j.getUser().cStr()};
      case JobOrder::speed:
        return {-j.getSamplesPerSecond(), ""};
      case JobOrder::progress:
        return {j.getStepsTotal() ? -static_cast<double>(j.getStep()) / j.getStepsTotal() : 0, ""};
    }
    return {0, ""};
  };
  std::stable_sort(out.begin(), out.end(), [&](unsigned a, unsigned b) { return key(a) < key(b); });
  return out;
}

}  // namespace tfmath::cli
