// progress.h: how `tfmath run` shows training: a live line on a terminal, plain lines otherwise.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "train/trainer.h"

namespace tfmath {

class ProgressPrinter : public TrainingObserver {
 public:
  // Writes to `out`; `live` redraws one line in place (for a terminal).
  ProgressPrinter(std::FILE* out, bool live, uint32_t epochs);
  void onStep(const StepReport& r) override;
  void onEpoch(const EpochReport& e) override;

 private:
  std::FILE* out_;
  bool live_;
  uint32_t epochs_;
  std::chrono::steady_clock::time_point lastPrint_{};
};

}  // namespace tfmath
