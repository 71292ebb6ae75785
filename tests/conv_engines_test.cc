// conv_engines_test.cc: conv2d through oneDNN against the im2col + GEMM reference, element by
// element, on every shape of conv_cases.h; the same inputs give the same bits on every call,
// whatever batch size came between; training on two threads ends where one thread does; the
// element-wise passes give the same bits on any thread count; and the default thread count.
#include <capnp/message.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <cmath>

#include "ops/activation.h"
#include "ops/conv2d.h"
#include "ops/model.h"
#include "ops/pool.h"
#include "ops/threads.h"
#include "tests/cluster_fixture.h"
#include "tests/conv_cases.h"
#include "tests/layer_params.h"

namespace tfmath {
namespace {

using testing::ConvCase;
using testing::Params;
using testing::randomTensor;

// The largest |a − b| over the largest |b| (at least 1): float32 sums in another order differ by a
// few units of rounding of the largest term.
double relativeGap(const float* a, const float* b, int64_t n) {
  double worst = 0, scale = 1;
  for (int64_t i = 0; i < n; ++i) {
    worst = std::max(worst, std::abs(double(a[i]) - b[i]));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return worst / scale;
}

// One forward and backward of a fresh layer on `engine`: y, dx, dKernel, dBias.
struct Pass {
  Tensor y, dx;
  std::vector<float> dKernel, dBias;
};
Pass run(const ConvCase& k, ConvEngine engine, const Tensor& x, uint64_t seed) {
  Conv2d layer({k.h, k.w, k.c}, k.filters, k.kernel, k.stride, k.same, engine);
  Rng rng(seed);
  Params p(layer, rng);
  Pass out;
  layer.forward(x, out.y);
  Tensor dy = randomTensor(out.y.shape(), rng);
  layer.backward(x, out.y, dy, &out.dx);
  out.dKernel = p.grads[0];
  out.dBias = p.grads[1];
  return out;
}

class ConvEngines : public ::testing::TestWithParam<ConvCase> {
 protected:
  void SetUp() override {
    if (fastestConvEngine() != ConvEngine::onednn) GTEST_SKIP() << "built without oneDNN";
  }
};

TEST_P(ConvEngines, OneDnnMatchesTheIm2colReference) {
  const ConvCase k = GetParam();
  Rng rng(4);
  const Tensor x = randomTensor({3, k.h, k.w, k.c}, rng);
  const Pass fast = run(k, ConvEngine::onednn, x, 9), reference = run(k, ConvEngine::im2col, x, 9);
  ASSERT_EQ(fast.y.shape(), reference.y.shape());
  EXPECT_LE(relativeGap(fast.y.data(), reference.y.data(), fast.y.size()), 1e-5);
  EXPECT_LE(relativeGap(fast.dx.data(), reference.dx.data(), fast.dx.size()), 1e-5);
  EXPECT_LE(relativeGap(fast.dKernel.data(), reference.dKernel.data(),
                        static_cast<int64_t>(fast.dKernel.size())),
            1e-5);
  EXPECT_LE(relativeGap(fast.dBias.data(), reference.dBias.data(), k.filters), 1e-5);
}

// relu as oneDNN's post-op gives the bits of the convolution followed by relu's own forward: the
// model fuses them in training and runs them apart while a gradient check holds relu's branches.
TEST_P(ConvEngines, ReluAsAPostOpGivesTheSameBitsAsTheTwoForwards) {
  const ConvCase k = GetParam();
  Conv2d layer({k.h, k.w, k.c}, k.filters, k.kernel, k.stride, k.same, ConvEngine::onednn);
  ASSERT_TRUE(layer.fusesNext("relu"));
  EXPECT_FALSE(layer.fusesNext("tanh"));
  Rng rng(5);
  Params p(layer, rng);
  const Tensor x = randomTensor({3, k.h, k.w, k.c}, rng);
  Tensor fused, plain, relued;
  layer.forwardFused(x, fused);
  layer.forward(x, plain);
  auto relu = reluOp().cpu({proto::Layer::Reader(), layer.outputShape()});
  relu->forward(plain, relued);
  ASSERT_EQ(fused.shape(), relued.shape());
  EXPECT_EQ(std::vector<float>(fused.data(), fused.data() + fused.size()),
            std::vector<float>(relued.data(), relued.data() + relued.size()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, ConvEngines, ::testing::ValuesIn(testing::kConvCases));

// Repeated calls on one layer give the same bits, with another batch size in between; gradients
// accumulate (+=) as the im2col path's do.
TEST(ConvEngines, TheSameInputsGiveTheSameBitsAndGradientsAccumulate) {
  if (fastestConvEngine() != ConvEngine::onednn) GTEST_SKIP() << "built without oneDNN";
  const ConvCase k{12, 12, 3, 8, 3, 1, true};
  Conv2d layer({k.h, k.w, k.c}, k.filters, k.kernel, k.stride, k.same, ConvEngine::onednn);
  Rng rng(6);
  Params p(layer, rng);
  const Tensor x = randomTensor({4, k.h, k.w, k.c}, rng), other = randomTensor({1, 12, 12, 3}, rng);
  Tensor y1, y2, yOther, dx1, dx2, dxOther;
  layer.forward(x, y1);
  const Tensor dy = randomTensor(y1.shape(), rng);
  layer.backward(x, y1, dy, &dx1);
  const std::vector<float> once = p.grads[0];
  layer.forward(other, yOther);  // a partial batch in between
  layer.backward(other, yOther, randomTensor(yOther.shape(), rng), &dxOther);
  const std::vector<float> beforeSecond = p.grads[0];
  layer.forward(x, y2);
  layer.backward(x, y2, dy, &dx2);
  EXPECT_TRUE(std::equal(y1.data(), y1.data() + y1.size(), y2.data()));
  EXPECT_TRUE(std::equal(dx1.data(), dx1.data() + dx1.size(), dx2.data()));
  for (size_t i = 0; i < once.size(); ++i)  // the second pass added `once` again
    EXPECT_NEAR(p.grads[0][i] - beforeSecond[i], once[i], 1e-5 * (1 + std::abs(beforeSecond[i])))
        << i;
}

// Max pooling through oneDNN against the reference window search, bit for bit, on inputs full of
// ties (values from {-1, 0, 1}): both must take the first maximum in row-major window order, so
// that backward routes each gradient to the same element. Disjoint and non-dividing windows, a
// batch size after another; overlapping windows, which stay on the reference, too.
TEST(PoolEngines, OneDnnMatchesTheReferenceTiesIncluded) {
  if (fastestPoolEngine() != PoolEngine::onednn) GTEST_SKIP() << "built without oneDNN";
  struct Case {
    int64_t n, h, w, c, pool, stride;
  };
  for (const Case& k : {Case{4, 8, 8, 3, 2, 2}, Case{3, 9, 7, 5, 3, 2}, Case{2, 5, 5, 16, 2, 2},
                        Case{64, 28, 28, 16, 2, 2}, Case{5, 6, 6, 2, 3, 1}}) {
    MaxPool2d fast({k.h, k.w, k.c}, k.pool, k.stride, PoolEngine::onednn);
    MaxPool2d reference({k.h, k.w, k.c}, k.pool, k.stride, PoolEngine::reference);
    Rng rng(13);
    for (int64_t n : {k.n, int64_t{1}}) {
      Tensor x = testing::randomTensor({n, k.h, k.w, k.c}, rng), yFast, yRef, dxFast, dxRef;
      for (int64_t i = 0; i < x.size(); ++i) x[i] = std::round(x[i]);
      fast.forward(x, yFast);
      reference.forward(x, yRef);
      const Tensor dy = testing::randomTensor(yRef.shape(), rng);
      fast.backward(x, yFast, dy, &dxFast);
      reference.backward(x, yRef, dy, &dxRef);
      const std::string what = std::to_string(n) + "x" + std::to_string(k.h) + "x" +
                               std::to_string(k.w) + "x" + std::to_string(k.c) + " pool " +
                               std::to_string(k.pool) + " stride " + std::to_string(k.stride);
      ASSERT_EQ(yFast.shape(), yRef.shape()) << what;
      EXPECT_EQ(std::vector<float>(yFast.data(), yFast.data() + yFast.size()),
                std::vector<float>(yRef.data(), yRef.data() + yRef.size()))
          << what;
      EXPECT_EQ(std::vector<float>(dxFast.data(), dxFast.data() + dxFast.size()),
                std::vector<float>(dxRef.data(), dxRef.data() + dxRef.size()))
          << what;
    }
  }
}

// `tfmath run --threads N`: two threads end where one does, up to the order of float sums (the
// GEMMs and convolutions split their sums between threads); a thread count below 1 is refused.
TEST(Threads, TwoThreadsTrainTheCnnAsOneDoes) {
  testing::TempDir dir;
  const std::string job = std::string(TFMATH_SOURCE_DIR) +
                          "/examples/fashion_cnn.capnp --set data.idx.limit=512 --set "
                          "data.idx.testLimit=64 --set epochs=1";
  for (const std::string threads : {"1", "2"}) {
    const auto r = testing::tfmath("run " + job + " --threads " + threads + " --save " +
                                   dir.path() + "/t" + threads + ".params");
    ASSERT_EQ(r.exitCode, 0) << r.output;
  }
  const double distance =
      testing::relativeDistance(dir.path() + "/t1.params", dir.path() + "/t2.params");
  EXPECT_LE(distance, 1e-5);
  const auto r = testing::tfmath("run " + job + " --threads 0");
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find("--threads"), std::string::npos) << r.output;
}

// Without --threads a tfmath computes with OMP_NUM_THREADS threads when it holds a count, else
// with the CPUs its affinity mask allows; `tfmath run` says how many.
TEST(Threads, TheDefaultIsOmpNumThreadsElseTheCpusThisProcessMayUse) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  ASSERT_EQ(sched_getaffinity(0, sizeof cpus, &cpus), 0);
  const int allowed = CPU_COUNT(&cpus);
  const char* before = std::getenv("OMP_NUM_THREADS");
  const std::string saved = before ? before : "";
  setenv("OMP_NUM_THREADS", "3", 1);
  EXPECT_EQ(defaultComputeThreads(), 3);
  for (const char* ignored : {"0", "x", "2x", "-4", ""}) {
    setenv("OMP_NUM_THREADS", ignored, 1);
    EXPECT_EQ(defaultComputeThreads(), allowed) << "'" << ignored << "'";
  }
  unsetenv("OMP_NUM_THREADS");
  EXPECT_EQ(defaultComputeThreads(), allowed);
  if (before) setenv("OMP_NUM_THREADS", saved.c_str(), 1);
  testing::TempDir dir;
  const auto r =
      testing::tfmath("run " + std::string(TFMATH_SOURCE_DIR) +
                      "/examples/linreg.capnp --set epochs=1 --save " + dir.path() + "/l.params");
  EXPECT_NE(r.output.find("on cpu with " + std::to_string(defaultComputeThreads()) + " thread(s)"),
            std::string::npos)
      << r.output;
}

// The element-wise passes split their samples or elements over the threads, each chunk written as
// one thread writes it: the same bits for 1, 2 and 3 threads, forward and backward, layer by layer.
TEST(Threads, ElementWisePassesGiveTheSameBitsOnAnyCount) {
  capnp::MallocMessageBuilder message;
  auto layers = message.initRoot<proto::Job>().initModel(5);
  layers[0].setActivation(proto::Activation::RELU);
  layers[1].initMaxPool2d().setPoolSize(2);
  layers[2].initDropout().setRate(0.3);
  layers[3].initAveragePool2d().setPoolSize(2);
  layers[4].setActivation(proto::Activation::TANH);
  Rng rng(12);
  const int64_t n = 37;  // chunks of unequal size
  const Tensor x = testing::randomTensor({n, 14, 14, 2}, rng);
  std::vector<uint32_t> samples(n);
  for (int64_t s = 0; s < n; ++s) samples[static_cast<size_t>(s)] = static_cast<uint32_t>(3 * s);
  std::vector<float> first;
  for (int threads : {1, 2, 3}) {
    setComputeThreads(threads);
    Model model(layers.asReader(), {14, 14, 2});
    std::vector<Tensor> outs(model.layers().size()), grads(model.layers().size());
    std::vector<float> bits;
    const Tensor* in = &x;
    for (size_t i = 0; i < model.layers().size(); ++i) {
      model.layers()[i]->setDraws({true, 8, 1, samples.data()});
      model.layers()[i]->forward(*in, outs[i]);
      bits.insert(bits.end(), outs[i].data(), outs[i].data() + outs[i].size());
      in = &outs[i];
    }
    for (size_t i = model.layers().size(); i-- > 0;) {
      Tensor dy = outs[i];
      for (int64_t e = 0; e < dy.size(); ++e) dy[e] = 0.01f * static_cast<float>(e % 17) - 0.08f;
      model.layers()[i]->backward(i ? outs[i - 1] : x, outs[i], dy, &grads[i]);
      bits.insert(bits.end(), grads[i].data(), grads[i].data() + grads[i].size());
    }
    if (threads == 1)
      first = bits;
    else
      EXPECT_EQ(bits, first) << threads << " threads";
  }
  setComputeThreads(1);
}

}  // namespace
}  // namespace tfmath
