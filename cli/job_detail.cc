// job_detail.cc: one job's detail for `tfmath top`: timings per rank, a loss plot, formulas, log.
#include "cli/job_detail.h"

#include <capnp/schema.h>
#include <kj/string.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "base/printable.h"
#include "cli/report.h"
#include "net/wire.h"
#include "ops/registry.h"

namespace tfmath::cli {

namespace {

constexpr size_t kEpochLines = 5, kLogLines = 10;  // the latest; the rest is a command away

}  // namespace

std::vector<std::string> lossPlot(const std::vector<CurvePoint>& train,
                                  const std::vector<CurvePoint>& test, int width, int height) {
  width = std::max(width, 20);
  height = std::max(height, 4);
  const int labelWidth = 9, columns = width - labelWidth - 1, rows = height - 2;
  double lo = INFINITY, hi = -INFINITY, lastStep = 0;
  for (const auto* curve : {&train, &test})
    for (const auto& [step, loss] : *curve)
      if (std::isfinite(loss)) {
        lo = std::min(lo, loss), hi = std::max(hi, loss);
        lastStep = std::max(lastStep, step);
      }
  std::vector<std::string> grid(static_cast<size_t>(rows), std::string(columns, ' '));
  if (!(lo <= hi)) return {"(no losses yet)"};
  auto plot = [&](const std::vector<CurvePoint>& curve, char mark) {
    for (const auto& [step, loss] : curve) {
      if (!std::isfinite(loss)) continue;
      const int x =
          lastStep > 0 ? static_cast<int>(std::lround(step / lastStep * (columns - 1))) : 0;
      const int y =
          hi > lo ? static_cast<int>(std::lround((hi - loss) / (hi - lo) * (rows - 1))) : rows - 1;
      grid[static_cast<size_t>(std::clamp(y, 0, rows - 1))]
          [static_cast<size_t>(std::clamp(x, 0, columns - 1))] = mark;
    }
  };
  plot(train, '*');
  plot(test, 'o');
  std::vector<std::string> out;
  char label[32];
  for (int r = 0; r < rows; ++r) {
    label[0] = '\0';
    if (r == 0) std::snprintf(label, sizeof label, "%*.4g", labelWidth - 1, hi);
    if (r == rows - 1) std::snprintf(label, sizeof label, "%*.4g", labelWidth - 1, lo);
    out.push_back(std::string(label) + std::string(labelWidth - std::string(label).size(), ' ') +
                  "|" + grid[static_cast<size_t>(r)]);
  }
  out.push_back(std::string(labelWidth, ' ') + "+" + std::string(columns, '-'));
  const std::string last = format("%.0f", lastStep);
  std::string axis = "    steps 0";  // under the label column, then under the plot's first column
  axis.append(std::max(1, columns - 1 - static_cast<int>(last.size())), ' ');
  out.push_back(axis + last);
  return out;
}

std::vector<std::string> layerFormulas(proto::JobInfo::Reader job, int width) {
  std::vector<std::string> out;
  const auto model = job.getModel();
  for (uint32_t i = 0; i < model.size(); ++i) {
    const auto layer = model[i];
    Problems problems;
    checkLayerFields(layer, i, problems);
    out.push_back("  " + layerField(i, layer) + " " + kj::str(layer).cStr());
    if (!problems.empty()) {  // from a newer coordinator, say: this tfmath has no rule for it
      out.push_back("      (no formula in this tfmath's registry)");
      continue;
    }
    const auto ops = opsOf(layer);
    if (ops.empty()) out.push_back("      identity: y = x");
    for (const LayerOp* op : ops)
      for (auto& l : wrapText(op->math.name + ": " + op->math.forward, width, "      "))
        out.push_back(std::move(l));
  }
  if (model.size() == 0) return out;
  const auto lossEnum = capnp::Schema::from<proto::Loss>().asEnum().getEnumerants();
  const auto which = static_cast<uint16_t>(job.getLossRule());
  const std::string lossName =
      which < lossEnum.size() ? lossEnum[which].getProto().getName().cStr() : "?";
  out.push_back("  loss " + lossName);
  if (const OpMath* math = findOp(lossName))
    for (auto& l : wrapText(math->forward, width, "      ")) out.push_back(std::move(l));
  return out;
}

namespace {

// Each rank's latest window, by rank.
std::map<uint32_t, proto::MetricsPoint::Reader> latestWindows(
    capnp::List<proto::MetricsPoint>::Reader points) {
  std::map<uint32_t, proto::MetricsPoint::Reader> out;
  for (auto p : points)
    if (p.getKind() == proto::MetricsPoint::Kind::WINDOW) out.insert_or_assign(p.getRank(), p);
  return out;
}

}  // namespace

std::vector<std::string> jobDetailLines(const JobDetailInput& in, int width, Glyphs glyphs) {
  const auto j = in.job;
  std::vector<std::string> out;
  char line[512];
  std::snprintf(line, sizeof line, "job %s   %s   user %s   epoch %u/%u   step %llu/%llu",
                shown(j.getId()).c_str(), wire::jobStateName(j.getState()),
                shown(j.getUser()).c_str(), std::min(j.getEpoch() + 1, j.getEpochs()),
                j.getEpochs(), static_cast<unsigned long long>(j.getStep()),
                static_cast<unsigned long long>(j.getStepsTotal()));
  out.push_back(line);
  // The job's row of the list (progress, loss, trend, speed, times) and its whole name.
  out.push_back(jobHeading(width));
  for (auto& l : jobLines(j, width, in.nowMs, glyphs)) out.push_back(std::move(l));

  out.push_back("");
  out.push_back("RANKS (each rank's latest window of steps)");
  std::snprintf(line, sizeof line, "  %-4s %-18s %8s %8s %8s %6s", "RANK", "WORKER", "STEPms",
                "ALLREDms", "INPUTms", "AR%");
  out.push_back(line);
  const auto windows = latestWindows(in.points);
  std::vector<double> steps;
  for (const auto& [rank, p] : windows) steps.push_back(p.getStepSeconds());
  for (const auto& [rank, p] : windows) {
    const double step = p.getStepSeconds();
    const std::string worker = rank < j.getRanks().size() ? shown(j.getRanks()[rank]) : "-";
    std::snprintf(line, sizeof line, "  %-4u %-18s %8.2f %8.2f %8.2f %6.1f%s", rank, worker.c_str(),
                  1000 * step, 1000 * p.getAllreduceSeconds(), 1000 * p.getInputSeconds(),
                  step > 0 ? 100 * p.getAllreduceSeconds() / step : 0.0,
                  slowerThanMedian(step, steps) ? " straggler" : "");
    out.push_back(line);
  }
  if (windows.empty())
    for (auto& l :
         wrapText("(none yet" + (in.metricsProblem.empty() ? "" : ": " + in.metricsProblem) + ")",
                  width, "  "))
      out.push_back(std::move(l));

  out.push_back("");
  out.push_back("LOSS (* train, rank 0's windows; o test, each epoch's end)");
  std::vector<CurvePoint> train, test;
  for (auto p : in.points) {
    if (p.getRank() != 0) continue;
    if (p.getKind() == proto::MetricsPoint::Kind::WINDOW)
      train.emplace_back(static_cast<double>(p.getStep()), p.getTrainLoss());
    else
      test.emplace_back(static_cast<double>(p.getStep()), p.getTestLoss());
  }
  for (auto& l : lossPlot(train, test, std::min(width, 100) - 2, 12)) out.push_back("  " + l);
  // The latest epochs' evaluations (`tfmath metrics` has them all).
  std::vector<proto::MetricsPoint::Reader> epochs;
  for (auto p : in.points)
    if (p.getRank() == 0 && p.getKind() == proto::MetricsPoint::Kind::EPOCH) epochs.push_back(p);
  for (size_t i = epochs.size() > kEpochLines ? epochs.size() - kEpochLines : 0; i < epochs.size();
       ++i) {
    const auto p = epochs[i];
    std::string e = "  epoch " + std::to_string(p.getEpoch() + 1) + ": train loss " +
                    format("%.4f", p.getTrainLoss()) + ", test loss " +
                    format("%.4f", p.getTestLoss());
    if (std::isfinite(p.getTestAccuracy()))
      e += ", test accuracy " + format("%.2f%%", 100 * p.getTestAccuracy());
    out.push_back(e);
  }

  out.push_back("");
  out.push_back("LOG (its last lines; `tfmath logs " + shown(j.getId()) + "` has it all)");
  if (in.logTail)
    for (size_t i = in.logTail->size() > kLogLines ? in.logTail->size() - kLogLines : 0;
         i < in.logTail->size(); ++i)
      for (auto& l : wrapText((*in.logTail)[i], width, "  ")) out.push_back(std::move(l));
  if (!in.logProblem.empty())
    for (auto& l : wrapText("(" + in.logProblem + ")", width, "  ")) out.push_back(std::move(l));

  out.push_back("");
  out.push_back("LAYERS (forward rules from the op registry; `tfmath ops` has the gradients)");
  for (auto& l : layerFormulas(j, width)) out.push_back(std::move(l));

  return out;
}

}  // namespace tfmath::cli
