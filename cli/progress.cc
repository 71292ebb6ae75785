// progress.cc: progress lines for `tfmath run`.
#include "cli/progress.h"

#include <cmath>

#include "cli/report.h"

namespace tfmath {

ProgressPrinter::ProgressPrinter(std::FILE* out, bool live, uint32_t epochs)
    : out_(out), live_(live), epochs_(epochs) {}

void ProgressPrinter::onStep(const StepReport& r) {
  const auto now = std::chrono::steady_clock::now();
  const bool last = r.stepInEpoch == r.stepsPerEpoch;
  // A terminal is redrawn ten times a second; a log gets a line every 10 seconds and at epoch ends.
  const auto every = live_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(10000);
  if (last ? !live_ : now - lastPrint_ < every) return;  // a log gets the epoch line instead
  lastPrint_ = now;
  // With clipGlobalNorm set, the mean gradient's norm before clipping.
  char norm[48] = "";
  if (!std::isnan(r.gradientNorm))
    std::snprintf(norm, sizeof norm, "  grad norm %.4g", r.gradientNorm);
  std::fprintf(
      out_, "%sepoch %u/%u  step %llu/%llu  loss %.4f  lr %.4g%s  %.0f samples/s  ETA %s%s",
      live_ ? "\r\033[K" : "", r.epoch + 1, epochs_, static_cast<unsigned long long>(r.stepInEpoch),
      static_cast<unsigned long long>(r.stepsPerEpoch), r.loss, r.learningRate, norm,
      r.samplesPerSecond, cli::formatDuration(r.etaSeconds).c_str(), live_ ? "" : "\n");
  std::fflush(out_);
}

void ProgressPrinter::onEpoch(const EpochReport& e) {
  std::fprintf(out_, "%s%s\n", live_ ? "\r\033[K" : "", epochSummary(e, epochs_).c_str());
  std::fflush(out_);
}

}  // namespace tfmath
