// top_view.cc: the cluster's snapshot as text and as JSON.
#include "cli/top_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

#include "base/printable.h"
#include "cli/report.h"
#include "net/wire.h"

namespace tfmath::cli {

namespace {

std::string shown(capnp::Text::Reader text) {
  return escapeForTerminal({text.begin(), text.size()});
}

std::string format(const char* pattern, double v) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, v);
  return text;
}

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

// `text` cut into lines of at most `width` bytes of escaped text, each after `indent`.
std::string wrapped(const std::string& text, int width, const std::string& indent) {
  std::string out;
  const size_t room = static_cast<size_t>(std::max(10, width - static_cast<int>(indent.size())));
  for (size_t at = 0; at < text.size();) {
    size_t n = std::min(room, text.size() - at);
    // Never split a UTF-8 character: back up to its first byte.
    while (n > 0 && at + n < text.size() &&
           (static_cast<unsigned char>(text[at + n]) & 0xC0) == 0x80)
      --n;
    out += indent + text.substr(at, n) + "\n";
    at += n;
  }
  return out;
}

double medianStep(proto::StatusReply::Reader status, const std::string& job) {
  std::vector<double> steps;
  for (auto w : status.getWorkers())
    if (w.getBusy() && job == w.getJobId().cStr() && w.getStepSeconds() > 0)
      steps.push_back(w.getStepSeconds());
  if (steps.size() < 2) return 0;
  std::sort(steps.begin(), steps.end());
  const size_t n = steps.size();
  return n % 2 ? steps[n / 2] : (steps[n / 2 - 1] + steps[n / 2]) / 2;
}

}  // namespace

bool isStraggler(proto::StatusReply::Reader status, proto::WorkerInfo::Reader worker) {
  if (!worker.getBusy() || worker.getStepSeconds() <= 0) return false;
  const double median = medianStep(status, worker.getJobId().cStr());
  return median > 0 && worker.getStepSeconds() > 1.5 * median;
}

std::string sparkline(capnp::List<float>::Reader values) {
  static const char* blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  float lo = INFINITY, hi = -INFINITY;
  for (float v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  std::string out;
  for (float v : values) {
    if (!std::isfinite(v)) {
      out += " ";
      continue;
    }
    const int level = hi > lo ? static_cast<int>(std::lround(7.0 * (v - lo) / (hi - lo))) : 0;
    out += blocks[std::clamp(level, 0, 7)];
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

std::string renderTop(proto::StatusReply::Reader status, int width, int64_t nowMs) {
  Summary sum(status);
  std::string out = "workers: " + std::to_string(sum.busy) + " busy, " + std::to_string(sum.idle) +
                    " idle (" + std::to_string(sum.busy + sum.idle - sum.gpus) + " cpu, " +
                    std::to_string(sum.gpus) + " gpu)   jobs:";
  for (const char* state : {"RUNNING", "PENDING", "COMPLETED", "FAILED", "CANCELLED"})
    out.append(" ").append(std::to_string(sum.jobStates[state])).append(" ").append(state);
  out += "   " + format("%.0f", sum.samplesPerSecond) + " samples/s\n\n";

  char line[512];
  std::snprintf(line, sizeof line, "%-22s %-6s %-5s %-5s %4s %11s %7s %8s %7s %6s\n", "WORKER",
                "DEVICE", "STATE", "JOB", "RANK", "CPU%/GPU%", "MEM", "STEP MS", "ALLRED%", "HB");
  out += line;
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
    const double step = w.getStepSeconds();
    std::snprintf(line, sizeof line, "%-22s %-6s %-5s %-5s %4s %11s %7s %8s %7s %6s%s\n",
                  shown(w.getId()).c_str(), shown(w.getDevice()).c_str(),
                  w.getBusy() ? "busy" : "idle", w.getBusy() ? shown(w.getJobId()).c_str() : "-",
                  w.getBusy() ? std::to_string(w.getRank()).c_str() : "-", use.c_str(),
                  memory.c_str(), step > 0 ? format("%.2f", 1000 * step).c_str() : "-",
                  step > 0 ? format("%.1f", 100 * w.getAllreduceSeconds() / step).c_str() : "-",
                  format("%.1fs", w.getHeartbeatAgeMs() / 1000.0).c_str(),
                  isStraggler(status, w) ? "  straggler" : "");
    out += line;
  }
  out += "\n";
  std::snprintf(line, sizeof line, "%-5s %-10s %-10s %-21s %9s %-16s %9s %9s\n", "JOB", "USER",
                "STATE", "PROGRESS", "LOSS", "LOSS TREND", "SAMPLES/S", "TIME/ETA");
  out += line;
  for (auto j : status.getJobs()) {
    const double fraction =
        j.getStepsTotal() ? static_cast<double>(j.getStep()) / j.getStepsTotal() : 0;
    const int64_t end = j.getFinishedMs() ? j.getFinishedMs() : nowMs;
    const double elapsed = j.getStartedMs() ? (end - j.getStartedMs()) / 1e3 : 0;
    const double left = j.getSamplesPerSecond() > 0 && fraction > 0 && !j.getFinishedMs()
                            ? elapsed * (1 - fraction) / fraction
                            : 0;
    std::snprintf(line, sizeof line, "%-5s %-10s %-10s %s %4.0f%% %9s %-16s %9.0f %9s\n",
                  shown(j.getId()).c_str(), shown(j.getUser()).c_str(),
                  wire::jobStateName(j.getState()), bar(fraction, 14).c_str(), 100 * fraction,
                  j.getStep() ? format("%.4f", j.getLoss()).c_str() : "-",
                  sparkline(j.getRecentLosses()).c_str(), j.getSamplesPerSecond(),
                  (formatDuration(elapsed) + "/" + formatDuration(left)).c_str());
    out += line;
    // The name and the reason whole, wrapped to the width: never cut.
    out += wrapped(shown(j.getName()), width, "      name: ");
    if (j.getReason().size()) out += wrapped(shown(j.getReason()), width, "      reason: ");
  }
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

}  // namespace tfmath::cli
