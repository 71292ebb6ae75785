// metrics_recorder.cc: windows of steps, and epochs, as metrics points.
#include "train/metrics_recorder.h"

#include <capnp/message.h>

#include <cmath>

namespace tfmath {

namespace {

int64_t systemWallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

MetricsRecorder::MetricsRecorder(uint32_t rank, Sink sink, std::chrono::duration<double> window,
                                 std::function<int64_t()> wallMs)
    : rank_(rank),
      sink_(std::move(sink)),
      window_(window.count()),
      wallMs_(wallMs ? std::move(wallMs) : systemWallMs) {}

void MetricsRecorder::onStep(const StepReport& r) {
  lastStep_ = r.globalStep;
  ++steps_;
  samples_ += static_cast<double>(r.samples);
  lossSum_ += r.loss * static_cast<double>(r.samples);
  stepSeconds_ += r.stepSeconds;
  allreduceSeconds_ += r.allreduceSeconds;
  inputSeconds_ += r.inputSeconds;
  if (stepSeconds_ >= window_ || r.stepInEpoch == r.stepsPerEpoch) closeWindow(r);
}

void MetricsRecorder::closeWindow(const StepReport& last) {
  capnp::MallocMessageBuilder message;
  auto p = message.initRoot<proto::MetricsPoint>();
  p.setKind(proto::MetricsPoint::Kind::WINDOW);
  p.setRank(rank_);
  p.setEpoch(last.epoch);
  p.setStep(last.globalStep);
  p.setSteps(steps_);
  p.setTimeMs(wallMs_());
  p.setTrainLoss(samples_ > 0 ? lossSum_ / samples_ : NAN);
  p.setSamplesPerSecond(stepSeconds_ > 0 ? samples_ / stepSeconds_ : 0);
  p.setStepSeconds(stepSeconds_ / steps_);
  p.setAllreduceSeconds(allreduceSeconds_ / steps_);
  p.setInputSeconds(inputSeconds_ / steps_);
  p.setTestLoss(NAN);
  p.setTestAccuracy(NAN);
  sink_(p.asReader());
  steps_ = 0;
  samples_ = lossSum_ = stepSeconds_ = allreduceSeconds_ = inputSeconds_ = 0;
}

void MetricsRecorder::onEpoch(const EpochReport& e) {
  if (rank_ != 0) return;  // the evaluation runs on rank 0; the epoch's other figures are global
  capnp::MallocMessageBuilder message;
  auto p = message.initRoot<proto::MetricsPoint>();
  p.setKind(proto::MetricsPoint::Kind::EPOCH);
  p.setRank(rank_);
  p.setEpoch(e.epoch);
  p.setStep(lastStep_);
  p.setTimeMs(wallMs_());
  p.setTrainLoss(e.trainLoss);
  p.setSamplesPerSecond(e.samplesPerSecond);
  p.setTestLoss(e.eval.loss);
  p.setTestAccuracy(e.eval.accuracy);
  sink_(p.asReader());
}

}  // namespace tfmath
