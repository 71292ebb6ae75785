// training_test.cc: single-process training end to end: the linreg claim, reproducibility, exact
// resume, a Fashion-MNIST subset, and the batch split the cluster will use.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>

#include "jobs/data_check.h"
#include "jobs/job_error.h"
#include "jobs/job_file.h"
#include "jobs/params_file.h"
#include "tests/test_util.h"
#include "train/cpu_backend.h"
#include "train/memory_estimate.h"
#include "train/trainer.h"

namespace tfmath {
namespace {

using testing::TempDir;

class Quiet : public TrainingObserver {};

// Trains `job` to its end in one process; returns the final parameters.
FloatBuffer train(proto::Job::Reader job) {
  const Data data = validateJob(job);
  LocalCommunicator local;
  Trainer trainer(job, data, local);
  Quiet quiet;
  trainer.run(quiet);
  return trainer.parameters();
}

// Trains `job` by hand, without the trainer's staging ahead: each epoch's permutation, batch by
// batch, through a CpuBackend; `update(backend, step, count)` makes each step's update of a batch
// of `count`. Returns the parameters.
FloatBuffer trainByHand(proto::Job::Reader job, const Data& data,
                        const std::function<void(CpuBackend&, uint64_t, int64_t)>& update) {
  CpuBackend backend(job, data.train.sampleShape());
  const int64_t n = data.train.size(), b = job.getBatchSize();
  uint64_t step = 0;
  Tensor x, t;
  for (uint32_t epoch = 0; epoch < job.getEpochs(); ++epoch) {
    const auto order = epochPermutation(job.getSeed(), epoch, static_cast<uint32_t>(n));
    for (int64_t first = 0; first < n; first += b) {
      const int64_t count = std::min(b, n - first);
      data.train.gather(order.data() + first, count, x, t);
      backend.zeroGradients();
      backend.stage(x, t, {true, job.getSeed(), epoch, order.data() + first});
      backend.train(nullptr);
      update(backend, ++step, count);
    }
  }
  FloatBuffer values(backend.size());
  backend.read(-1, values.data());
  return values;
}

TEST(Training, LinregRecoversWeightAndBias) {
  JobFile f = JobFile::load(std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp");
  const Data data = validateJob(f.job());
  LocalCommunicator local;
  Trainer trainer(f.job(), data, local);
  Quiet quiet;
  trainer.run(quiet);
  const auto& params = trainer.backend().params();
  const FloatBuffer values = trainer.parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].name, "layer0.w");
  EXPECT_NEAR(values[params[0].offset], 3.0, 0.1);
  EXPECT_NEAR(values[params[1].offset], 2.0, 0.1);
  // With noise σ = 0.5, the best achievable mean squared error is about σ² = 0.25.
  EXPECT_LT(trainer.evaluate().loss, 0.35);
}

TEST(Training, SameSeedSameBitsDifferentSeedDifferentBits) {
  TempDir dir;
  auto job = [&](int seed) {
    return JobFile::load(dir.write(
        "j" + std::to_string(seed) + ".capnp",
        testing::jobText(
            "seed = " + std::to_string(seed) + "," + testing::fashionData(300, 50) +
            "model = [(conv2d = (filters = 3, kernelSize = 3, padding = same, activation = relu)),"
            "(maxPool2d = (poolSize = 2)), (flatten = void), (dense = (units = 10))],"
            "loss = softmaxCrossEntropy, optimizer = (adam = ()), batchSize = 32, epochs = 1")));
  };
  JobFile a = job(1), b = job(1), c = job(2);
  const auto pa = train(a.job()), pb = train(b.job()), pc = train(c.job());
  ASSERT_EQ(pa.size(), pb.size());
  EXPECT_EQ(std::memcmp(pa.data(), pb.data(), pa.size() * sizeof(float)), 0);
  EXPECT_NE(std::memcmp(pa.data(), pc.data(), pa.size() * sizeof(float)), 0);
}

TEST(Training, ResumeIsExactBitForBit) {
  // Two epochs in one go equal one epoch, saved to a file, then resumed for the second epoch. With
  // momentum, so the optimizer slots must travel too; and 200 % 64 ≠ 0, so the last batch is
  // partial.
  TempDir dir;
  auto job = [&](int epochs) {
    return JobFile::load(dir.write(
        "j" + std::to_string(epochs) + ".capnp",
        testing::jobText(
            "seed = 7," + testing::fashionData(200, 50) +
            "model = [(flatten = void), (dense = (units = 16, activation = tanh)), (dense = (units "
            "= 10))],"
            "loss = softmaxCrossEntropy, optimizer = (sgd = (learningRate = 0.05, momentum = 0.9, "
            "nesterov = true, weightDecay = 0.001)), batchSize = 64, epochs = " +
            std::to_string(epochs))));
  };
  JobFile two = job(2), one = job(1);
  const auto straight = train(two.job());

  const Data data = validateJob(one.job());
  LocalCommunicator local;
  {
    Trainer first(one.job(), data, local);
    Quiet quiet;
    first.run(quiet);
    capnp::MallocMessageBuilder message;
    first.saveState(message.initRoot<proto::ParameterState>(), first.evaluate());
    saveParameterState(dir.path() + "/one.params", message);
  }
  ParameterStateFile saved(dir.path() + "/one.params");
  EXPECT_EQ(saved.state().getEpoch(), 1u);
  EXPECT_EQ(saved.state().getStep(), 4u);
  EXPECT_EQ(saved.state().getOptimizerSlots().size(), 2u * 2);
  Trainer resumed(two.job(), data, local);
  resumed.resume(saved.state());
  Quiet quiet;
  resumed.run(quiet);
  const FloatBuffer values = resumed.parameters();
  ASSERT_EQ(values.size(), straight.size());
  EXPECT_EQ(std::memcmp(values.data(), straight.data(), straight.size() * sizeof(float)), 0);
}

TEST(Training, TrainsOnEachEpochsPermutationInOrder) {
  // The trainer stages the next slice while the current one computes. Written out here without
  // any of that: each epoch's permutation, batch by batch, through the backend directly. Two
  // epochs of 200 samples at batch 64 (a partial last batch); the bits must agree.
  TempDir dir;
  JobFile f = JobFile::load(
      dir.write("j.capnp", testing::jobText(testing::fashionMlpJob(200, 20, 64) + "epochs = 2")));
  const Data data = validateJob(f.job());
  const FloatBuffer trained = train(f.job());

  const FloatBuffer byHand =
      trainByHand(f.job(), data, [](CpuBackend& backend, uint64_t step, int64_t count) {
        backend.update(1.0f / static_cast<float>(count), step, 1.0);
      });
  ASSERT_EQ(byHand.size(), trained.size());
  EXPECT_EQ(std::memcmp(byHand.data(), trained.data(), trained.size() * sizeof(float)), 0);
}

// The update of a job with a schedule and a clip, written out from their formulas: the factor
// 0.5^⌊(t − 1)/3⌋ and, when the mean gradient's norm ‖Σg‖/B exceeds c, the sum scaled by c/‖Σg‖
// instead of 1/B. The bits must agree with the trainer's, and the clip must have acted.
TEST(Training, ScheduleAndClipFollowTheirFormulas) {
  TempDir dir;
  const std::string fields = testing::fashionMlpJob(200, 20, 64) +
                             "epochs = 2, schedule = (stepDecay = (every = 3, factor = 0.5)),"
                             "clipGlobalNorm = 0.5";
  JobFile f = JobFile::load(dir.write("j.capnp", testing::jobText(fields)));
  JobFile unclipped = JobFile::load(dir.write(
      "u.capnp",
      testing::jobText(testing::fashionMlpJob(200, 20, 64) +
                       "epochs = 2, schedule = (stepDecay = (every = 3, factor = 0.5))")));
  const Data data = validateJob(f.job());
  const FloatBuffer trained = train(f.job());

  int clipped = 0;
  const FloatBuffer byHand =
      trainByHand(f.job(), data, [&](CpuBackend& backend, uint64_t step, int64_t count) {
        double squares = 0;
        for (float g : backend.gradients(Memory::host)) squares += static_cast<double>(g) * g;
        float scale = 1.0f / static_cast<float>(count);
        if (std::sqrt(squares) / static_cast<double>(count) > 0.5) {
          scale = static_cast<float>(0.5 / std::sqrt(squares));
          ++clipped;
        }
        backend.update(scale, step, std::pow(0.5, static_cast<double>((step - 1) / 3)));
      });
  EXPECT_GT(clipped, 0);
  ASSERT_EQ(byHand.size(), trained.size());
  EXPECT_EQ(std::memcmp(byHand.data(), trained.data(), trained.size() * sizeof(float)), 0);
  const FloatBuffer free = train(unclipped.job());
  EXPECT_NE(std::memcmp(free.data(), trained.data(), trained.size() * sizeof(float)), 0);
}

// A checkpoint in the middle of a run's last epoch with a cosine schedule, AdamW and a clip: the
// resumed run continues the schedule from the saved step and ends on the same bits as the run
// without a stop, and reports the same mean loss for that epoch.
TEST(Training, ResumeMidRunContinuesTheScheduleBitForBit) {
  TempDir dir;
  JobFile f = JobFile::load(dir.write(
      "j.capnp",
      testing::jobText(testing::fashionData(200, 50) +
                       "seed = 3, model = [(flatten = void), (dense = (units = 16, activation = "
                       "relu)), (dense = (units = 10))], loss = softmaxCrossEntropy,"
                       "optimizer = (adamW = (learningRate = 0.01, weightDecay = 0.1)),"
                       "schedule = (cosineDecay = (warmupSteps = 3, finalFraction = 0.05)),"
                       "clipGlobalNorm = 1.0, batchSize = 64, epochs = 3")));
  const Data data = validateJob(f.job());
  LocalCommunicator local;
  Quiet quiet;
  Trainer unbroken(f.job(), data, local);
  unbroken.run(quiet);
  const FloatBuffer straight = unbroken.parameters();
  capnp::MallocMessageBuilder message;
  {
    Trainer first(f.job(), data, local);
    for (int i = 0; i < 10; ++i) first.step();  // two steps into the last of 3 × 4, past warm-up
    first.saveState(message.initRoot<proto::ParameterState>(), Evaluation{});
  }
  Trainer resumed(f.job(), data, local);
  resumed.resume(message.getRoot<proto::ParameterState>().asReader());
  EXPECT_EQ(resumed.globalStep(), 10u);
  resumed.run(quiet);
  const FloatBuffer values = resumed.parameters();
  ASSERT_EQ(values.size(), straight.size());
  EXPECT_EQ(std::memcmp(values.data(), straight.data(), straight.size() * sizeof(float)), 0);
  EXPECT_EQ(resumed.trainLoss(), unbroken.trainLoss());
}

TEST(Training, ResumeRefusesAStateOfAnotherModel) {
  JobFile lin = JobFile::load(std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp");
  const Data data = validateJob(lin.job());
  LocalCommunicator local;
  Trainer trainer(lin.job(), data, local);
  capnp::MallocMessageBuilder message;
  auto state = message.initRoot<proto::ParameterState>();
  trainer.saveState(state, {});
  state.getTensors()[0].setName("layer9.w");
  Trainer other(lin.job(), data, local);
  EXPECT_THROW(other.resume(state.asReader()), JobError);
}

TEST(Training, FashionSubsetBeatsChanceByAWideMargin) {
  TempDir dir;
  JobFile f = JobFile::load(dir.write(
      "j.capnp",
      testing::jobText(
          testing::fashionData(3000, 1000) +
          "model = [(flatten = void), (dense = (units = 64, activation = relu)), (dense = (units = "
          "10))],"
          "loss = softmaxCrossEntropy, optimizer = (sgd = (learningRate = 0.1, momentum = 0.9)),"
          "batchSize = 64, epochs = 3")));
  const Data data = validateJob(f.job());
  LocalCommunicator local;
  Trainer trainer(f.job(), data, local);
  Quiet quiet;
  trainer.run(quiet);
  const Evaluation e = trainer.evaluate();
  EXPECT_TRUE(e.onTestSet);
  EXPECT_GT(e.accuracy, 0.70);  // chance is 0.10
}

TEST(Training, RankSlicesCoverTheBatchContiguously) {
  for (int64_t batch : {1, 7, 10, 128}) {
    for (int world : {1, 2, 3, 4}) {
      int64_t next = 0;
      for (int r = 0; r < world; ++r) {
        auto [lo, hi] = rankSlice(batch, r, world);
        EXPECT_EQ(lo, next);
        EXPECT_LE(hi - lo, batch / world + 1);
        EXPECT_GE(hi - lo, batch / world);
        next = hi;
      }
      EXPECT_EQ(next, batch);
    }
  }
}

TEST(Training, EpochPermutationIsAPermutationFixedBySeedAndEpoch) {
  auto a = epochPermutation(3, 0, 1000), b = epochPermutation(3, 0, 1000),
       c = epochPermutation(3, 1, 1000);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::sort(c.begin(), c.end());
  for (uint32_t i = 0; i < 1000; ++i) ASSERT_EQ(c[i], i);
}

// The estimate of an MLP on Fashion-MNIST's shapes, worked out by hand: parameters 784·32 + 32 +
// 32·10 + 10 = 25,450 floats; Adam keeps two slots per parameter; per sample the ops put out 784
// (flatten) + 32 (dense) + 32 (relu) + 10 (dense) floats besides the 784 of the input, each with
// its gradient, at a local batch of 64 / 2 = 32.
TEST(MemoryEstimate, CountsParametersSlotsActivationsAndDataOfAnMlp) {
  Data data;
  data.train.inputs.resize({4, 28, 28, 1});
  data.train.targets.resize({4, 1});
  capnp::MallocMessageBuilder b;
  auto job = b.initRoot<proto::Job>();
  auto model = job.initModel(3);
  model[0].setFlatten();
  model[1].initDense().setUnits(32);
  model[1].getDense().setActivation(proto::Activation::RELU);
  model[2].initDense().setUnits(10);
  job.initOptimizer().initAdam();
  job.setBatchSize(64);
  const MemoryEstimate e = estimateMemory(job, data, 2);
  EXPECT_EQ(e.parameters, 4.0 * 25450);
  EXPECT_EQ(e.gradients, 4.0 * 25450);
  EXPECT_EQ(e.optimizerSlots, 2 * 4.0 * 25450);
  EXPECT_EQ(e.localBatch, 32u);
  EXPECT_EQ(e.activations, 2 * 4.0 * (784 + 784 + 32 + 32 + 10) * 32);
  EXPECT_EQ(e.data, 4.0 * 4 * (784 + 1));
  EXPECT_EQ(byteSize(e.total()), "820.4 KiB");
}

}  // namespace
}  // namespace tfmath
