// conv_engines_test.cc: conv2d through oneDNN against the im2col + GEMM reference, element by
// element, on every shape of conv_cases.h; the same inputs give the same bits on every call,
// whatever batch size came between; and training on two threads ends where one thread does.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ops/conv2d.h"
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

}  // namespace
}  // namespace tfmath
