// trainer.h: data-parallel training of one job, the same code for `tfmath run` (one rank) and for
// every cluster rank. One step is: gather this rank's slice of the global batch, forward, loss,
// backward (summed gradients), the communicator's allreduce, divide by the global batch, update.
// The next slice is gathered and staged while the device computes this one.
// Not thread-safe.
#pragma once

#include <atomic>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "jobs/dataset.h"
#include "ops/loss.h"
#include "ops/rng.h"
#include "proto/params.capnp.h"
#include "train/backend.h"
#include "train/communicator.h"

namespace tfmath {

// Rank `rank`'s contiguous share [begin, end) of a global batch of `batch` samples over `world`
// ranks. The first batch % world ranks take one sample more.
std::pair<int64_t, int64_t> rankSlice(int64_t batch, int rank, int world);

// Copies a saved tensor into `values` after checking that it is the job's parameter `name` of
// `shape`; else throws JobError starting with `context` ("resume", "init-from", ...).
void readTensor(proto::Tensor::Reader in, const std::string& name, const Shape& shape,
                float* values, const std::string& context);

struct StepReport {
  uint32_t epoch = 0;        // 0-based
  uint64_t stepInEpoch = 0;  // 1-based: steps done in this epoch
  uint64_t stepsPerEpoch = 0;
  uint64_t globalStep = 0;      // steps done since the start of training
  double loss = 0;              // this step's mean loss over the global batch
  double samplesPerSecond = 0;  // global samples per second of training so far in this run
  double etaSeconds = 0;        // time left for the remaining epochs at that rate
  int64_t samples = 0;          // the step's global batch
  // This rank's wall time for the step, and the parts of it in the allreduce and in gathering and
  // staging input.
  double stepSeconds = 0, allreduceSeconds = 0, inputSeconds = 0;
  // The learning rate of this step's update: the optimizer's times the schedule's factor.
  double learningRate = 0;
  // With clipGlobalNorm set, the global norm of the batch-mean gradient before clipping; NaN
  // otherwise.
  double gradientNorm = NAN;
};

struct Evaluation {
  double loss = NAN;       // mean loss
  double accuracy = NAN;   // fraction correct; NaN for regression
  bool onTestSet = false;  // false: measured on the training set (the job has no test set)
};

struct EpochReport {
  uint32_t epoch = 0;      // 0-based
  double trainLoss = NAN;  // mean over this epoch's samples
  Evaluation eval;
  double samplesPerSecond = 0;  // this epoch's global training samples per second of its steps
  double learningRate = 0;  // the rate of the epoch's last update when a schedule varies it; else 0
};

// "epoch 3/10: train loss 0.4100  test loss 0.4400  test accuracy 84.20%  61234 samples/s": how
// `tfmath run` and a job's log show an epoch. Accuracy appears for classification only, and the
// learning rate ("  lr 0.0005") with a schedule that varies it. Each epoch's own speed shows
// whether training keeps its first epoch's pace.
std::string epochSummary(const EpochReport& e, uint32_t epochs);

class TrainingObserver {
 public:
  virtual ~TrainingObserver() = default;
  virtual void onStep(const StepReport&) {}
  virtual void onEpoch(const EpochReport&) {}
};

// Several observers as one, called in order.
class Observers : public TrainingObserver {
 public:
  explicit Observers(std::vector<TrainingObserver*> all) : all_(std::move(all)) {}
  void onStep(const StepReport& r) override {
    for (auto* o : all_) o->onStep(r);
  }
  void onEpoch(const EpochReport& e) override {
    for (auto* o : all_) o->onEpoch(e);
  }

 private:
  std::vector<TrainingObserver*> all_;
};

class Trainer {
 public:
  // `job` and `data` must be validated (validateJob) and outlive the trainer. Initial parameters
  // depend only on the job's seed, so every rank starts from the same ones.
  // `device`: "cpu" or "gpu:N" (see backend.h).
  Trainer(proto::Job::Reader job, const Data& data, Communicator& comm,
          const std::string& device = "cpu");

  // Continues from a saved state. Throws JobError if its tensors do not fit this job's model.
  void resume(proto::ParameterState::Reader state);
  // Starts from another training's parameters (fine-tuning): the tensors only; step, epoch and the
  // optimizer's state stay fresh. Throws JobError naming the first tensor that does not fit.
  void initFrom(proto::ParameterState::Reader state);

  // Trains until the job's last epoch, reporting to `observer`. Evaluates after each epoch on
  // rank 0 (other ranks report NaN).
  void run(TrainingObserver& observer);

  // One optimizer step; returns its report. run() is a loop of these plus evaluations.
  StepReport step();
  bool finished() const { return stopped_ || epoch_ >= job_.getEpochs(); }

  // Asks every rank to stop. Safe from any thread. The request travels in the next step's
  // allreduce, so all ranks stop after the same step and none is left waiting in a collective.
  void requestStop() { stopRequested_ = true; }
  // True once the ranks agreed to stop early.
  bool stopped() const { return stopped_; }

  // The model's loss (and accuracy) over the test set, or the training set when there is none.
  Evaluation evaluate();

  // Fills a parameter-state message with everything needed to resume.
  void saveState(proto::ParameterState::Builder state, const Evaluation& eval) const;

  Backend& backend() { return *backend_; }
  // A host copy of the parameters, in the flat layout of backend().params().
  FloatBuffer parameters() const {
    FloatBuffer values(backend_->size());
    backend_->read(-1, values.data());
    return values;
  }
  uint64_t globalStep() const { return globalStep_; }
  uint32_t epoch() const { return epoch_; }
  uint64_t stepsPerEpoch() const { return stepsPerEpoch_; }
  // The updates of the whole run: epochs × steps per epoch (a schedule's T).
  uint64_t totalSteps() const { return stepsPerEpoch_ * job_.getEpochs(); }
  double trainLoss() const { return lastEpochLoss_; }
  // The evaluation run() made after the last epoch it trained; loss NaN if it made none.
  const Evaluation& lastEvaluation() const { return lastEval_; }
  double samplesPerSecond() const;

 private:
  // The state's parameter tensors, each checked against this job's model by name and shape (the
  // messages start with `context`), in one buffer laid out as the backend's.
  FloatBuffer parametersOf(proto::ParameterState::Reader state, const std::string& context) const;
  void startEpoch();
  // Gathers this rank's slice of step `stepInEpoch` of the current epoch and stages it on the
  // backend (unless the slice is empty).
  void stageStep(uint64_t stepInEpoch);

  proto::Job::Reader job_;
  const Data& data_;
  Communicator& comm_;
  std::unique_ptr<Backend> backend_;
  Rng rng_;  // for stochastic ops; saved with the state
  std::atomic<bool> stopRequested_{false};
  bool stopped_ = false;

  uint32_t epoch_ = 0;        // current epoch, 0-based
  uint64_t stepInEpoch_ = 0;  // steps done in the current epoch
  uint64_t stepsPerEpoch_ = 0;
  uint64_t globalStep_ = 0;
  std::vector<uint32_t> order_;  // this epoch's sample order
  double epochLossSum_ = 0, lastEpochLoss_ = NAN;
  Evaluation lastEval_;
  int64_t epochSamples_ = 0;
  double epochSeconds_ = 0, lastEpochRate_ = 0;  // this epoch's step time; the last epoch's speed
  double lastLearningRate_ = 0;                  // the last update's

  double trainSeconds_ = 0;
  int64_t trainedSamples_ = 0;
  Tensor x_, t_;                   // the staged slice, reused
  int64_t stagedStep_ = -1;        // the step in this epoch whose slice is staged; −1: none
  std::set<int64_t> summedSizes_;  // global batch sizes that have completed a step
};

}  // namespace tfmath
