// metrics_recorder.h: a rank's metrics history (proto/metrics.capnp) from its training reports: a
// window point about once per `window` of step time (and at each epoch's end, so no window spans
// two epochs), and, on rank 0, an epoch point with the evaluation. Windows close on the steps' own
// measured time, so the same reports give the same points. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "proto/metrics.capnp.h"
#include "train/trainer.h"

namespace tfmath {

class MetricsRecorder : public TrainingObserver {
 public:
  using Sink = std::function<void(proto::MetricsPoint::Reader)>;
  // `wallMs`: milliseconds since 1970, for the points' timeMs.
  MetricsRecorder(uint32_t rank, Sink sink,
                  std::chrono::duration<double> window = std::chrono::seconds(1),
                  std::function<int64_t()> wallMs = nullptr);
  void onStep(const StepReport& r) override;
  void onEpoch(const EpochReport& e) override;

 private:
  void closeWindow(const StepReport& last);

  uint32_t rank_;
  Sink sink_;
  double window_;
  std::function<int64_t()> wallMs_;
  // The open window: sums over its steps.
  uint64_t lastStep_ = 0;  // the global step of the last report
  uint32_t steps_ = 0;
  double samples_ = 0, lossSum_ = 0, stepSeconds_ = 0, allreduceSeconds_ = 0, inputSeconds_ = 0;
};

}  // namespace tfmath
