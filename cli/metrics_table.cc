// metrics_table.cc: a metrics history printed as a table, JSON or CSV.
#include "cli/metrics_table.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/report.h"

namespace tfmath::cli {

namespace {

const char* kindName(proto::MetricsPoint::Kind k) {
  return k == proto::MetricsPoint::Kind::EPOCH ? "epoch" : "window";
}

// A number for CSV: NaN becomes an empty cell.
std::string cell(double v) {
  if (std::isnan(v)) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

}  // namespace

void printMetrics(proto::MetricsSeries::Reader series, MetricsFormat format) {
  const bool json = format == MetricsFormat::json, csv = format == MetricsFormat::csv;
  auto points = series.getPoints();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (auto p : points)
      out.push_back({{"kind", kindName(p.getKind())},
                     {"rank", p.getRank()},
                     {"epoch", p.getEpoch()},
                     {"step", p.getStep()},
                     {"steps", p.getSteps()},
                     {"time_ms", p.getTimeMs()},
                     {"train_loss", jsonNumber(p.getTrainLoss())},
                     {"samples_per_s", jsonNumber(p.getSamplesPerSecond())},
                     {"step_s", jsonNumber(p.getStepSeconds())},
                     {"allreduce_s", jsonNumber(p.getAllreduceSeconds())},
                     {"input_s", jsonNumber(p.getInputSeconds())},
                     {"test_loss", jsonNumber(p.getTestLoss())},
                     {"test_accuracy", jsonNumber(p.getTestAccuracy())}});
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  if (csv) {
    std::printf(
        "kind,rank,epoch,step,steps,time_ms,train_loss,samples_per_s,step_s,allreduce_s,input_s,"
        "test_loss,test_accuracy\n");
    for (auto p : points)
      std::printf("%s,%u,%u,%llu,%u,%lld,%s,%s,%s,%s,%s,%s,%s\n", kindName(p.getKind()),
                  p.getRank(), p.getEpoch(), static_cast<unsigned long long>(p.getStep()),
                  p.getSteps(), static_cast<long long>(p.getTimeMs()),
                  cell(p.getTrainLoss()).c_str(), cell(p.getSamplesPerSecond()).c_str(),
                  cell(p.getStepSeconds()).c_str(), cell(p.getAllreduceSeconds()).c_str(),
                  cell(p.getInputSeconds()).c_str(), cell(p.getTestLoss()).c_str(),
                  cell(p.getTestAccuracy()).c_str());
    return;
  }
  std::printf("%-6s %4s %5s %8s %10s %10s %9s %11s %7s %9s %8s\n", "KIND", "RANK", "EPOCH", "STEP",
              "LOSS", "SAMPLES/S", "STEP MS", "ALLREDUCE %", "INPUT %", "TEST LOSS", "ACCURACY");
  // "" where the point has no such figure (NaN, or a column of the other kind).
  auto fixed = [](bool shown, double v, int decimals, const char* unit = "") {
    if (!shown || std::isnan(v)) return std::string();
    char text[32];
    std::snprintf(text, sizeof text, "%.*f%s", decimals, v, unit);
    return std::string(text);
  };
  for (auto p : points) {
    const bool window = p.getKind() == proto::MetricsPoint::Kind::WINDOW;
    const double step = p.getStepSeconds();
    std::printf("%-6s %4u %5u %8llu %10.4f %10.0f %9s %11s %7s %9s %8s\n", kindName(p.getKind()),
                p.getRank(), p.getEpoch() + 1, static_cast<unsigned long long>(p.getStep()),
                p.getTrainLoss(), p.getSamplesPerSecond(), fixed(window, 1000 * step, 3).c_str(),
                fixed(window && step > 0, 100 * p.getAllreduceSeconds() / step, 1).c_str(),
                fixed(window && step > 0, 100 * p.getInputSeconds() / step, 1).c_str(),
                fixed(!window, p.getTestLoss(), 4).c_str(),
                fixed(!window, 100 * p.getTestAccuracy(), 2, "%").c_str());
  }
}

}  // namespace tfmath::cli
