// trainer.cc: the training step, evaluation, and saving and restoring parameter state.
#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "base/assert.h"
#include "jobs/job_error.h"
#include "ops/denormals.h"
#include "ops/loss.h"
#include "ops/optimizer.h"
#include "ops/schedule.h"

namespace tfmath {

namespace {

void writeTensor(proto::Tensor::Builder out, const std::string& name, const Shape& shape,
                 const float* values) {
  out.setName(name);
  auto dims = out.initShape(static_cast<unsigned>(shape.size()));
  for (size_t i = 0; i < shape.size(); ++i)
    dims.set(static_cast<unsigned>(i), static_cast<uint32_t>(shape[i]));
  const size_t bytes = static_cast<size_t>(numel(shape)) * sizeof(float);
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
                "params.capnp stores little-endian floats");
  std::memcpy(out.initData(bytes).begin(), values, bytes);
}

}  // namespace

void readTensor(proto::Tensor::Reader in, const std::string& name, const Shape& shape,
                float* values, const std::string& context) {
  Shape got;
  for (uint32_t d : in.getShape()) got.push_back(d);
  if (in.getName() != name || got != shape ||
      in.getData().size() != static_cast<size_t>(numel(shape)) * sizeof(float))
    throw JobError(context + ": tensor " + std::string(in.getName().cStr()) + " " +
                   shapeString(got) + " does not fit this job's " + name + " " +
                   shapeString(shape));
  std::memcpy(values, in.getData().begin(), in.getData().size());
}

std::string epochSummary(const EpochReport& e, uint32_t epochs) {
  const char* set = e.eval.onTestSet ? "test" : "train-set";
  char text[256];
  int n = std::snprintf(text, sizeof text, "epoch %u/%u: train loss %.4f  %s loss %.4f",
                        e.epoch + 1, epochs, e.trainLoss, set, e.eval.loss);
  if (!std::isnan(e.eval.accuracy))
    n += std::snprintf(text + n, sizeof text - n, "  %s accuracy %.2f%%", set,
                       100.0 * e.eval.accuracy);
  if (e.samplesPerSecond > 0)
    n += std::snprintf(text + n, sizeof text - n, "  %.0f samples/s", e.samplesPerSecond);
  if (e.learningRate > 0) std::snprintf(text + n, sizeof text - n, "  lr %.4g", e.learningRate);
  return text;
}

std::pair<int64_t, int64_t> rankSlice(int64_t batch, int rank, int world) {
  const int64_t base = batch / world, extra = batch % world;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

Trainer::Trainer(proto::Job::Reader job, const Data& data, Communicator& comm,
                 const std::string& device)
    : job_(job),
      data_(data),
      comm_(comm),
      backend_(makeBackend(job, data.train.sampleShape(), device)),
      rng_(Rng::derive(job.getSeed(), 2)) {
  const uint64_t n = static_cast<uint64_t>(data.train.size()), b = job.getBatchSize();
  stepsPerEpoch_ = (n + b - 1) / b;
  // Rank 0's slice of a full batch is the largest any rank gets.
  const auto [lo, hi] =
      rankSlice(std::min<int64_t>(static_cast<int64_t>(b), data.train.size()), 0, comm.worldSize());
  backend_->reserve(hi - lo, data.train.targets.size() / std::max<int64_t>(1, data.train.size()));
  startEpoch();
}

void Trainer::startEpoch() {
  order_ = epochPermutation(job_.getSeed(), epoch_, static_cast<uint32_t>(data_.train.size()));
  epochLossSum_ = 0;
  epochSamples_ = 0;
  epochSeconds_ = 0;
  stagedStep_ = -1;
}

FloatBuffer Trainer::parametersOf(proto::ParameterState::Reader state,
                                  const std::string& context) const {
  const auto& params = backend_->params();
  if (state.getTensors().size() != params.size())
    throw JobError(context + ": the state holds " + std::to_string(state.getTensors().size()) +
                   " tensors but this job's model has " + std::to_string(params.size()));
  FloatBuffer host(backend_->size());
  for (size_t i = 0; i < params.size(); ++i)
    readTensor(state.getTensors()[static_cast<unsigned>(i)], params[i].name, params[i].shape,
               host.data() + params[i].offset, context);
  return host;
}

void Trainer::resume(proto::ParameterState::Reader state) {
  const auto& params = backend_->params();
  FloatBuffer host = parametersOf(state, "resume");
  const auto names = backend_->slotNames();
  if (state.getOptimizerSlots().size() != names.size() * params.size())
    throw JobError("resume: the state's optimizer slots do not fit this job's optimizer");
  backend_->write(-1, host.data());
  unsigned k = 0;
  for (size_t s = 0; s < names.size(); ++s) {
    for (const ParamInfo& p : params)
      readTensor(state.getOptimizerSlots()[k++], p.name + "/" + names[s], p.shape,
                 host.data() + p.offset, "resume");
    backend_->write(static_cast<int>(s), host.data());
  }
  globalStep_ = state.getStep();
  epoch_ = state.getEpoch();
  stepInEpoch_ = globalStep_ - static_cast<uint64_t>(epoch_) * stepsPerEpoch_;
  if (stepInEpoch_ > stepsPerEpoch_)
    throw JobError("resume: step " + std::to_string(globalStep_) + " and epoch " +
                   std::to_string(epoch_) + " do not fit this job's " +
                   std::to_string(stepsPerEpoch_) + " steps per epoch");
  rng_ = Rng(state.getRngState());
  lastEpochLoss_ = state.getMetrics().getTrainLoss();
  startEpoch();
  // Mid-epoch, every step so far took a full global batch (only an epoch's last may be short).
  epochLossSum_ = state.getEpochLossSum();
  epochSamples_ = static_cast<int64_t>(stepInEpoch_) * job_.getBatchSize();
}

void Trainer::initFrom(proto::ParameterState::Reader state) {
  backend_->write(-1, parametersOf(state, "init-from").data());
}

void Trainer::stageStep(uint64_t stepInEpoch) {
  const int64_t n = data_.train.size(), b = job_.getBatchSize();
  const int64_t first = static_cast<int64_t>(stepInEpoch) * b;
  const auto [lo, hi] = rankSlice(std::min(b, n - first), comm_.rank(), comm_.worldSize());
  stagedStep_ = static_cast<int64_t>(stepInEpoch);
  if (hi <= lo) return;  // more ranks than samples: nothing for this one
  const uint32_t* samples = order_.data() + first + lo;
  data_.train.gather(samples, hi - lo, x_, t_);
  backend_->stage(x_, t_, {true, job_.getSeed(), epoch_, samples});
}

StepReport Trainer::step() {
  flushDenormalsToZero();  // this thread computes: no slow denormal path (ops/denormals.h)
  using Clock = std::chrono::steady_clock;
  auto since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  const auto start = Clock::now();
  const int64_t n = data_.train.size(), b = job_.getBatchSize();
  const int64_t first = static_cast<int64_t>(stepInEpoch_) * b;
  const int64_t global = std::min(b, n - first);
  const auto [lo, hi] = rankSlice(global, comm_.rank(), comm_.worldSize());
  // Where the sum happens: a world of one needs none, so the gradients stay where they are.
  const Memory where = comm_.worldSize() == 1     ? backend_->memory()
                       : comm_.sumsDeviceMemory() ? Memory::device
                                                  : Memory::host;
  if (where == Memory::device && backend_->memory() != Memory::device)
    throw JobError("the " + backend_->device() + " backend has no gradients in device memory, " +
                   "where this communicator sums them");

  // Buckets start during backward only at a global batch size summed before: a kernel's first
  // launch may wait for the whole device, which must not happen with a bucket in flight. The same
  // answer on every rank, so every rank starts the same collectives.
  const bool summing = comm_.worldSize() > 1;  // a world of one has nothing to sum
  Communicator* overlap =
      summing && where == Memory::device && summedSizes_.count(global) ? &comm_ : nullptr;

  // Summed over ranks by the allreduce: the batch's loss, and how many ranks asked to stop.
  double stats[2] = {0, 0};
  double inputSeconds = 0, allreduceSeconds = 0, gradientNorm = NAN;
  try {
    // This step's slice was staged by the step before, unless it starts an epoch (or a resume).
    auto t = Clock::now();
    if (stagedStep_ != static_cast<int64_t>(stepInEpoch_)) stageStep(stepInEpoch_);
    inputSeconds += since(t);
    backend_->zeroGradients();
    if (hi > lo)
      backend_->train(overlap);
    else if (overlap)
      backend_->announceFinal(*overlap);
    // Prefetch: gather the next slice of this epoch and send it up while the device computes.
    t = Clock::now();
    if (stepInEpoch_ + 1 < stepsPerEpoch_) stageStep(stepInEpoch_ + 1);
    inputSeconds += since(t);
    stats[0] = hi > lo ? backend_->trainedLoss().loss : 0;
    stats[1] = stopRequested_ ? 1.0 : 0.0;
    const std::span<float> grads = backend_->gradients(where);
    TFMATH_ASSERT(grads.size() == backend_->size(), grads.size(), backend_->size());
    t = Clock::now();
    if (summing) comm_.allreduceSum(grads, stats);
    allreduceSeconds = since(t);
    // A diverged job stops here, on every rank at once (the loss is the sum over ranks), before
    // the update: a sweep always has points whose rate is too high (Keras's TerminateOnNaN).
    if (!std::isfinite(stats[0]))
      throw std::runtime_error(std::string("loss is ") + (std::isnan(stats[0]) ? "nan" : "inf") +
                               " at step " + std::to_string(globalStep_ + 1));
    summedSizes_.insert(global);
    // The mean gradient is the sum / global; clipping its norm to c scales the sum by c / ‖sum‖.
    float scale = 1.0f / static_cast<float>(global);
    if (const double clip = job_.getClipGlobalNorm(); clip > 0) {
      const double sumNorm = std::sqrt(backend_->gradientSumOfSquares());
      gradientNorm = sumNorm / static_cast<double>(global);
      if (gradientNorm > clip) scale = static_cast<float>(clip / sumNorm);
    }
    ++globalStep_;
    const double factor = scheduleFactor(job_.getSchedule(), globalStep_, totalSteps());
    lastLearningRate_ = learningRateOf(job_.getOptimizer()) * factor;
    backend_->update(scale, globalStep_, factor);
  } catch (...) {
    comm_.abortCollectives();  // buckets may be in flight: freeing the backend must not wait
    throw;
  }

  stopped_ = stats[1] > 0;
  epochLossSum_ += stats[0];
  epochSamples_ += global;
  trainedSamples_ += global;
  const double seconds = since(start);
  trainSeconds_ += seconds;
  epochSeconds_ += seconds;

  StepReport r{
      epoch_, ++stepInEpoch_, stepsPerEpoch_, globalStep_, stats[0] / global, samplesPerSecond(),
      0};
  const double remaining = static_cast<double>(job_.getEpochs() - epoch_) * static_cast<double>(n) -
                           static_cast<double>(first + global);
  r.etaSeconds = r.samplesPerSecond > 0 ? remaining / r.samplesPerSecond : 0;
  r.samples = global;
  r.stepSeconds = seconds;
  r.allreduceSeconds = allreduceSeconds;
  r.inputSeconds = inputSeconds;
  r.learningRate = lastLearningRate_;
  r.gradientNorm = gradientNorm;
  if (stepInEpoch_ == stepsPerEpoch_) {
    lastEpochLoss_ = epochLossSum_ / static_cast<double>(epochSamples_);
    lastEpochRate_ = epochSeconds_ > 0 ? static_cast<double>(epochSamples_) / epochSeconds_ : 0;
    ++epoch_;
    stepInEpoch_ = 0;
    stagedStep_ = -1;
    if (!finished()) startEpoch();
  }
  return r;
}

double Trainer::samplesPerSecond() const {
  return trainSeconds_ > 0 ? static_cast<double>(trainedSamples_) / trainSeconds_ : 0;
}

Evaluation Trainer::evaluate() {
  flushDenormalsToZero();
  Evaluation e;
  e.onTestSet = data_.test.has_value();
  const Dataset& set = e.onTestSet ? *data_.test : data_.train;
  const int64_t n = set.size(), chunk = 1024;
  std::vector<uint32_t> all(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) all[static_cast<size_t>(i)] = static_cast<uint32_t>(i);
  double loss = 0;
  int64_t correct = 0;
  Tensor x, t;
  for (int64_t at = 0; at < n; at += chunk) {
    set.gather(all.data() + at, std::min(chunk, n - at), x, t);
    LossSums s = backend_->evaluate(x, t);
    loss += s.loss;
    correct += s.correct;
  }
  e.loss = loss / static_cast<double>(n);
  if (job_.getLoss() == proto::Loss::SOFTMAX_CROSS_ENTROPY)
    e.accuracy = static_cast<double>(correct) / static_cast<double>(n);
  return e;
}

void Trainer::run(TrainingObserver& observer) {
  while (!finished()) {
    const uint32_t epoch = epoch_;
    StepReport r = step();
    observer.onStep(r);
    if (epoch_ != epoch) {
      EpochReport e{epoch,
                    lastEpochLoss_,
                    {},
                    lastEpochRate_,
                    job_.getSchedule().isConstant() ? 0 : lastLearningRate_};
      if (comm_.rank() == 0) e.eval = lastEval_ = evaluate();
      observer.onEpoch(e);
    }
  }
}

void Trainer::saveState(proto::ParameterState::Builder state, const Evaluation& eval) const {
  state.setFormatVersion(proto::PARAMETER_STATE_VERSION);
  state.setJob(job_);
  state.setStep(globalStep_);
  state.setEpoch(epoch_);
  const auto& params = backend_->params();
  FloatBuffer host(backend_->size());
  backend_->read(-1, host.data());
  auto tensors = state.initTensors(static_cast<unsigned>(params.size()));
  for (size_t i = 0; i < params.size(); ++i)
    writeTensor(tensors[static_cast<unsigned>(i)], params[i].name, params[i].shape,
                host.data() + params[i].offset);
  const auto names = backend_->slotNames();
  auto slots = state.initOptimizerSlots(static_cast<unsigned>(names.size() * params.size()));
  unsigned k = 0;
  for (size_t s = 0; s < names.size(); ++s) {
    backend_->read(static_cast<int>(s), host.data());
    for (const ParamInfo& p : params)
      writeTensor(slots[k++], p.name + "/" + names[s], p.shape, host.data() + p.offset);
  }
  state.setRngState(rng_.state());
  state.setEpochLossSum(epochLossSum_);
  auto m = state.initMetrics();
  m.setTrainLoss(lastEpochLoss_);
  m.setTestLoss(eval.loss);
  m.setTestAccuracy(eval.accuracy);
  m.setSamplesPerSecond(samplesPerSecond());
}

}  // namespace tfmath
