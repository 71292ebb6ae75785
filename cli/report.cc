// report.cc: learned values and JSON.
#include "cli/report.h"

#include <capnp/schema.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/printable.h"
#include "net/wire.h"

namespace tfmath::cli {

std::string dimsText(const Shape& shape) {
  std::string s;
  for (int64_t d : shape) s.append(s.empty() ? "" : "×").append(std::to_string(d));
  return s;
}

std::string dataSourceName(proto::DataSource::Reader data) {
  const auto fields = capnp::Schema::from<proto::DataSource>().getUnionFields();
  const auto which = static_cast<uint16_t>(data.which());
  return which < fields.size() ? fields[which].getProto().getName().cStr() : "?";
}

std::string learnedValues(proto::ParameterState::Reader state, size_t limit) {
  size_t total = 0;
  std::string prefix;
  bool oneLayer = true;
  for (auto t : state.getTensors()) {
    total += t.getData().size() / sizeof(float);
    const std::string name = t.getName();
    const std::string layer = name.substr(0, name.find('.') + 1);
    if (!prefix.empty() && layer != prefix) oneLayer = false;
    prefix = layer;
  }
  if (total > limit) return "";
  std::string out;
  for (auto t : state.getTensors()) {
    const std::string name = t.getName();
    std::vector<float> v(t.getData().size() / sizeof(float));
    std::memcpy(v.data(), t.getData().begin(), v.size() * sizeof(float));
    out += (out.empty() ? "" : "  ") + (oneLayer ? name.substr(prefix.size()) : name) + " = ";
    if (v.size() > 1) out += "[";
    char text[32];
    for (size_t i = 0; i < v.size(); ++i) {
      std::snprintf(text, sizeof text, "%s%.4f", i ? ", " : "", v[i]);
      out += text;
    }
    if (v.size() > 1) out += "]";
  }
  return out;
}

std::string formatDuration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}

std::string jobSummary(proto::JobInfo::Reader info, int64_t nowMs) {
  const int64_t end = info.getFinishedMs() ? info.getFinishedMs() : nowMs;
  const double elapsed = info.getStartedMs() ? (end - info.getStartedMs()) / 1e3 : 0;
  std::string out = "job " + escapeForTerminal(info.getId().cStr()) + " " +
                    wire::jobStateName(info.getState()) + " in " + formatDuration(elapsed);
  char text[64];
  std::snprintf(text, sizeof text, ": epoch %u/%u", std::min(info.getEpoch() + 1, info.getEpochs()),
                info.getEpochs());
  out += text;
  if (info.getStep() > 0) {
    std::snprintf(text, sizeof text, ", loss %.4f", info.getLoss());
    out += text;
  }
  if (std::isfinite(info.getTestLoss())) {
    std::snprintf(text, sizeof text, ", test loss %.4f", info.getTestLoss());
    out += text;
  }
  if (std::isfinite(info.getTestAccuracy())) {
    std::snprintf(text, sizeof text, ", test accuracy %.2f%%", 100 * info.getTestAccuracy());
    out += text;
  }
  if (info.getSamplesPerSecond() > 0) {
    std::snprintf(text, sizeof text, ", %.0f samples/s", info.getSamplesPerSecond());
    out += text;
  }
  if (info.getReason().size()) out += " (" + escapeForTerminal(info.getReason().cStr()) + ")";
  return out;
}

int exitStatusFor(const std::vector<proto::JobState>& ended) {
  auto any = [&](proto::JobState s) {
    return std::find(ended.begin(), ended.end(), s) != ended.end();
  };
  if (any(proto::JobState::FAILED)) return 1;
  if (any(proto::JobState::CANCELLED)) return kExitCancelled;
  return 0;
}

std::string shown(capnp::Text::Reader text) {
  return escapeForTerminal({text.begin(), text.size()});
}
std::string shown(const std::string& text) { return escapeForTerminal(text); }

std::string format(const char* pattern, double v) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, v);
  return text;
}

nlohmann::json jsonNumber(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

nlohmann::json toJson(proto::JobInfo::Reader i) {
  nlohmann::json ranks = nlohmann::json::array();
  for (auto r : i.getRanks()) ranks.push_back(std::string(r.cStr()));
  nlohmann::json losses = nlohmann::json::array();
  for (float l : i.getRecentLosses()) losses.push_back(jsonNumber(l));
  nlohmann::json failures = nlohmann::json::array();
  for (auto f : i.getFailures()) failures.push_back(std::string(f.cStr()));
  return {{"id", i.getId().cStr()},
          {"user", i.getUser().cStr()},
          {"name", i.getName().cStr()},
          {"state", wire::jobStateName(i.getState())},
          {"reason", i.getReason().cStr()},
          {"workers", i.getWorkers()},
          {"epoch", i.getEpoch()},
          {"epochs", i.getEpochs()},
          {"step", i.getStep()},
          {"steps_total", i.getStepsTotal()},
          {"loss", jsonNumber(i.getLoss())},
          {"test_loss", jsonNumber(i.getTestLoss())},
          {"test_accuracy", jsonNumber(i.getTestAccuracy())},
          {"samples_per_s", jsonNumber(i.getSamplesPerSecond())},
          {"submitted_ms", i.getSubmittedMs()},
          {"started_ms", i.getStartedMs()},
          {"finished_ms", i.getFinishedMs()},
          {"ranks", ranks},
          {"recent_losses", losses},
          {"attempt", i.getAttempt()},
          {"steps_lost", i.getStepsLost()},
          {"checkpoint_step", i.getCheckpointStep()},
          {"failures", failures}};
}

nlohmann::json toJson(proto::WorkerInfo::Reader w) {
  return {{"id", w.getId().cStr()},
          {"host", w.getHost().cStr()},
          {"device", w.getDevice().cStr()},
          {"state", w.getBusy() ? "busy" : "idle"},
          {"job", w.getJobId().cStr()},
          {"rank", w.getRank()},
          {"heartbeat_age_ms", w.getHeartbeatAgeMs()},
          {"cores", w.getCores()},
          {"memory_bytes", w.getMemoryBytes()},
          {"cpu_percent", w.hasLoad() ? jsonNumber(w.getLoad().getCpuPercent()) : nlohmann::json()},
          {"rss_bytes", w.hasLoad() ? nlohmann::json(w.getLoad().getRssBytes()) : nlohmann::json()},
          {"step_s", w.getStepSeconds()},
          {"allreduce_s", w.getAllreduceSeconds()},
          {"gpu", w.getGpu().getName().size()
                      ? nlohmann::json{{"name", w.getGpu().getName().cStr()},
                                       {"memory_total_bytes", w.getGpu().getMemoryTotalBytes()},
                                       {"memory_used_bytes", w.getGpu().getMemoryUsedBytes()},
                                       {"utilization_percent", w.getGpu().getUtilizationPercent()}}
                      : nlohmann::json()}};
}

nlohmann::json metricsJson(proto::Metrics::Reader m) {
  return {{"train_loss", jsonNumber(m.getTrainLoss())},
          {"test_loss", jsonNumber(m.getTestLoss())},
          {"test_accuracy", jsonNumber(m.getTestAccuracy())},
          {"samples_per_s", jsonNumber(m.getSamplesPerSecond())}};
}

}  // namespace tfmath::cli
