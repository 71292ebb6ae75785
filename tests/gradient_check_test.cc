// gradient_check_test.cc: every op's backward against central finite differences of its forward, on
// random shapes and the edge cases: batch 1, stride > 1, same padding with odd and even sizes, and
// pooling windows that do not divide the input.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "ops/activation.h"
#include "ops/average_pool.h"
#include "ops/conv2d.h"
#include "ops/dense.h"
#include "ops/dropout.h"
#include "ops/flatten.h"
#include "ops/loss.h"
#include "ops/pool.h"
#include "ops/registry.h"
#include "ops/rng.h"
#include "tests/layer_params.h"

namespace tfmath {
namespace {

using testing::Params;
using testing::randomTensor;

// f(x, θ) = Σ r ⊙ layer(x) for a fixed random r, so ∂f/∂y = r. Compares the analytic ∂f/∂x and
// ∂f/∂θ with (f(v + h) − f(v − h)) / 2h, computed in float32 with h = 1e-2 (the ops are float32).
void checkLayer(Layer& layer, Tensor x, uint64_t seed, double tolerance = 2e-2) {
  Rng rng(seed);
  Params params(layer, rng);
  Tensor y, dx;
  layer.forward(x, y);
  Tensor r = randomTensor(y.shape(), rng);
  auto f = [&]() {
    Tensor out;
    layer.forward(x, out);
    double s = 0;
    for (int64_t i = 0; i < out.size(); ++i) s += static_cast<double>(out[i]) * r[i];
    return s;
  };
  layer.forward(x, y);
  layer.backward(x, y, r, &dx);
  ASSERT_EQ(dx.shape(), x.shape());
  const float h = 1e-2f;
  auto compare = [&](float* v, float analytic, const std::string& what) {
    const float saved = *v;
    *v = saved + h;
    const double up = f();
    *v = saved - h;
    const double down = f();
    *v = saved;
    const double numeric = (up - down) / (2 * h);
    EXPECT_NEAR(analytic, numeric, tolerance * std::max(1.0, std::abs(numeric))) << what;
  };
  for (int64_t i = 0; i < x.size(); ++i)
    compare(&x[i], dx[i], std::string(layer.op()) + " dX[" + std::to_string(i) + "]");
  for (size_t p = 0; p < params.views.size(); ++p)
    for (int64_t i = 0; i < params.views[p].size(); ++i)
      compare(&params.values[p][i], params.grads[p][i],
              std::string(layer.op()) + " dθ" + std::to_string(p) + "[" + std::to_string(i) + "]");
}

TEST(GradientCheck, Dense) {
  Rng rng(1);
  for (int64_t n : {1, 3}) {
    Dense layer({5}, 4);
    checkLayer(layer, randomTensor({n, 5}, rng), 10 + n);
  }
}

TEST(GradientCheck, DenseAccumulatesParameterGradients) {
  Rng rng(2);
  Dense layer({3}, 2);
  Params params(layer, rng);
  Tensor x = randomTensor({2, 3}, rng), y, dy = randomTensor({2, 2}, rng);
  layer.forward(x, y);
  layer.backward(x, y, dy, nullptr);
  const std::vector<float> once = params.grads[0];
  layer.backward(x, y, dy, nullptr);
  for (size_t i = 0; i < once.size(); ++i) EXPECT_FLOAT_EQ(params.grads[0][i], 2 * once[i]);
}

struct ConvCase {
  int64_t n, h, w, c, filters, kernel, stride;
  bool same;
};

void PrintTo(const ConvCase& k, std::ostream* os) {
  *os << k.n << "x" << k.h << "x" << k.w << "x" << k.c << " f" << k.filters << " k" << k.kernel
      << " s" << k.stride << (k.same ? " same" : " valid");
}

class ConvGradient : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvGradient, MatchesFiniteDifferences) {
  const ConvCase k = GetParam();
  Rng rng(3);
  Conv2d layer({k.h, k.w, k.c}, k.filters, k.kernel, k.stride, k.same);
  checkLayer(layer, randomTensor({k.n, k.h, k.w, k.c}, rng), 30);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ConvGradient,
    ::testing::Values(ConvCase{1, 5, 5, 2, 3, 3, 1, false},   // batch 1, valid
                      ConvCase{2, 6, 5, 1, 2, 3, 2, false},   // stride 2, odd width
                      ConvCase{1, 5, 5, 2, 2, 3, 1, true},    // same, odd size
                      ConvCase{2, 6, 6, 1, 2, 3, 2, true},    // same, even size, stride 2
                      ConvCase{1, 4, 4, 1, 2, 2, 1, true},    // same with an even kernel
                      ConvCase{1, 7, 6, 2, 1, 4, 3, true}));  // same, uneven padding

struct PoolCase {
  int64_t n, h, w, c, pool, stride;
};

void PrintTo(const PoolCase& k, std::ostream* os) {
  *os << k.n << "x" << k.h << "x" << k.w << "x" << k.c << " pool" << k.pool << " s" << k.stride;
}

class PoolGradient : public ::testing::TestWithParam<PoolCase> {};

TEST_P(PoolGradient, MatchesFiniteDifferences) {
  const PoolCase k = GetParam();
  // Distinct values 0.1 apart, shuffled, so a ±h nudge never changes which element is the maximum.
  Tensor x({k.n, k.h, k.w, k.c});
  Rng rng(4);
  std::vector<uint32_t> order = epochPermutation(5, 0, static_cast<uint32_t>(x.size()));
  for (int64_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>(order[i]);
  MaxPool2d layer({k.h, k.w, k.c}, k.pool, k.stride);
  checkLayer(layer, x, 40);
}

INSTANTIATE_TEST_SUITE_P(Shapes, PoolGradient,
                         ::testing::Values(PoolCase{1, 4, 4, 1, 2, 2},    // divides, batch 1
                                           PoolCase{2, 5, 5, 2, 2, 2},    // does not divide
                                           PoolCase{1, 7, 6, 1, 3, 2},    // overlapping windows
                                           PoolCase{1, 5, 7, 3, 3, 3}));  // 3×3 into 5×7

class AveragePoolGradient : public ::testing::TestWithParam<PoolCase> {};

TEST_P(AveragePoolGradient, MatchesFiniteDifferences) {
  const PoolCase k = GetParam();
  Rng rng(6);
  AveragePool2d layer({k.h, k.w, k.c}, k.pool, k.stride);
  checkLayer(layer, randomTensor({k.n, k.h, k.w, k.c}, rng), 41);
}

INSTANTIATE_TEST_SUITE_P(Shapes, AveragePoolGradient,
                         ::testing::Values(PoolCase{1, 4, 4, 1, 2, 2},    // divides, batch 1
                                           PoolCase{2, 5, 5, 2, 2, 2},    // does not divide
                                           PoolCase{1, 7, 6, 1, 3, 2},    // overlapping windows
                                           PoolCase{1, 5, 7, 3, 3, 3}));  // 3×3 into 5×7

// Closed form: a 2×2 mean of 1..4 is 2.5; with overlapping windows (3×3 every 1 over 4×4) the
// centre elements sit in all four windows and the corners in one, so dX = dY·count/9.
TEST(AveragePool, MeansAndCountsInClosedForm) {
  AveragePool2d pool({2, 2, 1}, 2, 2);
  Tensor x({1, 2, 2, 1}), y, dx;
  for (int i = 0; i < 4; ++i) x[i] = static_cast<float>(i + 1);
  pool.forward(x, y);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 1, 1}));
  EXPECT_FLOAT_EQ(y[0], 2.5f);

  AveragePool2d overlapping({4, 4, 1}, 3, 1);
  Tensor x4({1, 4, 4, 1}), y4, dy4({1, 2, 2, 1});
  x4.setZero();
  overlapping.forward(x4, y4);
  for (int i = 0; i < 4; ++i) dy4[i] = 9.0f;
  overlapping.backward(x4, y4, dy4, &dx);
  const float counts[16] = {1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1};
  for (int i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(dx[i], counts[i]) << i;
}

TEST(GradientCheck, GlobalAveragePool) {
  Rng rng(7);
  for (int64_t n : {1, 3}) {
    GlobalAveragePool2d layer({3, 4, 2});
    checkLayer(layer, randomTensor({n, 3, 4, 2}, rng), 42 + n);
  }
  GlobalAveragePool2d pool({2, 1, 2});
  Tensor x({1, 2, 1, 2}), y;
  for (int i = 0; i < 4; ++i) x[i] = static_cast<float>(i);  // channel 0: 0, 2; channel 1: 1, 3
  pool.forward(x, y);
  ASSERT_EQ(y.shape(), (Shape{1, 2}));
  EXPECT_FLOAT_EQ(y[0], 1.0f);
  EXPECT_FLOAT_EQ(y[1], 2.0f);
}

TEST(GradientCheck, DropoutWithItsMaskHeld) {
  Rng rng(8);
  for (int64_t n : {1, 4}) {
    Dropout layer({3, 5}, 0.4, 2);
    const std::vector<uint32_t> samples{9, 3, 27, 1};
    layer.setDraws({true, 6, 1, samples.data()});  // the same mask at every forward
    checkLayer(layer, randomTensor({n, 3, 5}, rng), 60 + n);
  }
}

TEST(GradientCheck, Flatten) {
  Rng rng(5);
  Flatten layer({2, 3, 2});
  checkLayer(layer, randomTensor({2, 2, 3, 2}, rng), 50);
}

TEST(GradientCheck, EveryActivationInTheRegistry) {
  Rng rng(6);
  int activations = 0;
  const Shape perSample{4};
  for (const LayerOp* op : layerOps()) {
    if (op->schemaCase != proto::Layer::ACTIVATION) continue;
    ++activations;
    Tensor x = randomTensor({3, 4}, rng);
    for (int64_t i = 0; i < x.size(); ++i)  // keep relu's kink out of reach of the ±h nudge
      if (std::abs(x[i]) < 0.05f) x[i] = 0.3f;
    std::unique_ptr<Layer> layer = op->cpu({proto::Layer::Reader(), perSample});
    EXPECT_EQ(layer->op(), op->math.name);
    checkLayer(*layer, x, 60);
  }
  EXPECT_EQ(activations, 3);  // relu, sigmoid, tanh
}

// The plain forward of `layer` on x, then its forward with the branches of that pass held, at x2.
Tensor heldForward(Layer& layer, const Tensor& x, const Tensor& x2) {
  Tensor y, held;
  layer.forward(x, y);
  layer.holdBranches(y);
  layer.forward(x2, held);
  layer.releaseBranches();
  return held;
}

// Held branches: relu keeps each element's side of 0 and max pooling each window's arg-max, even
// where the input has crossed the kink; released, the plain forward returns. Smooth ops ignore it.
TEST(GradientCheck, HeldBranchesFollowTheFirstForward) {
  const Shape perSample{4};
  std::unique_ptr<Layer> relu = reluOp().cpu({proto::Layer::Reader(), perSample});
  Tensor x({1, 4});
  for (int64_t i = 0; i < 4; ++i) x[i] = 0.5f - 0.3f * static_cast<float>(i);  // .5 .2 −.1 −.4
  Tensor crossed = x;
  crossed[1] = -0.2f;  // was positive: stays the identity
  crossed[2] = 0.1f;   // was negative: stays 0
  const Tensor held = heldForward(*relu, x, crossed);
  EXPECT_FLOAT_EQ(held[0], 0.5f);
  EXPECT_FLOAT_EQ(held[1], -0.2f);
  EXPECT_FLOAT_EQ(held[2], 0.0f);
  EXPECT_FLOAT_EQ(held[3], 0.0f);
  Tensor plain;
  relu->forward(crossed, plain);  // released
  EXPECT_FLOAT_EQ(plain[1], 0.0f);
  EXPECT_FLOAT_EQ(plain[2], 0.1f);

  std::unique_ptr<Layer> sigmoid = sigmoidOp().cpu({proto::Layer::Reader(), perSample});
  const Tensor smooth = heldForward(*sigmoid, x, crossed);
  EXPECT_FLOAT_EQ(smooth[2], 1.0f / (1.0f + std::exp(-0.1f)));

  MaxPool2d pool({2, 2, 1}, 2, 2);  // one window of four
  Tensor window({1, 2, 2, 1});
  for (int64_t i = 0; i < 4; ++i) window[i] = static_cast<float>(i);  // maximum 3, at 3
  Tensor moved = window;
  moved[0] = 6.0f;  // now the largest, but the held arg-max stays at 3
  moved[3] = 2.5f;
  EXPECT_FLOAT_EQ(heldForward(pool, window, moved)[0], 2.5f);
  pool.forward(moved, plain);
  EXPECT_FLOAT_EQ(plain[0], 6.0f);
}

// Loss gradients: ∂(Σℓ)/∂pred against finite differences of the summed loss.
void checkLoss(const std::function<LossSums(const Tensor&, Tensor*)>& loss, Tensor pred) {
  Tensor grad;
  loss(pred, &grad);
  const float h = 1e-2f;
  for (int64_t i = 0; i < pred.size(); ++i) {
    const float saved = pred[i];
    pred[i] = saved + h;
    const double up = loss(pred, nullptr).loss;
    pred[i] = saved - h;
    const double down = loss(pred, nullptr).loss;
    pred[i] = saved;
    EXPECT_NEAR(grad[i], (up - down) / (2 * h), 1e-2) << "element " << i;
  }
}

TEST(GradientCheck, MeanSquaredError) {
  Rng rng(7);
  for (int64_t n : {1, 4}) {
    Tensor target = randomTensor({n, 3}, rng);
    checkLoss([&](const Tensor& p, Tensor* g) { return mse(p, target, g); },
              randomTensor({n, 3}, rng));
  }
}

TEST(GradientCheck, SoftmaxCrossEntropy) {
  Rng rng(8);
  for (int64_t n : {1, 4}) {
    Tensor labels({n, 1});
    for (int64_t i = 0; i < n; ++i) labels[i] = static_cast<float>(rng.below(5));
    Tensor logits = randomTensor({n, 5}, rng);
    for (int64_t i = 0; i < logits.size(); ++i) logits[i] *= 3;
    checkLoss([&](const Tensor& p, Tensor* g) { return softmaxCrossEntropy(p, labels, g); },
              logits);
  }
}

}  // namespace
}  // namespace tfmath
