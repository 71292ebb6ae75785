// closed_form_test.cc: ops and update rules against answers worked out by hand.
#include <capnp/message.h>
#include <gtest/gtest.h>

#include <cmath>

#include "ops/conv2d.h"
#include "ops/dense.h"
#include "ops/loss.h"
#include "ops/optimizer.h"
#include "ops/pool.h"
#include "ops/schedule.h"

namespace tfmath {
namespace {

TEST(ClosedForm, ConvValidShape) {
  // 16 filters of 3×3, valid padding, on 1×32×32×3: 32 − 3 + 1 = 30 on each side.
  Conv2d conv({32, 32, 3}, 16, 3, 1, false);
  std::vector<float> w(3 * 3 * 3 * 16, 0.01f), b(16, 0.0f), gw(w.size()), gb(b.size());
  conv.bindParams({{"w", {3, 3, 3, 16}, w.data(), gw.data()}, {"b", {16}, b.data(), gb.data()}});
  Tensor x({1, 32, 32, 3}), y;
  x.setZero();
  conv.forward(x, y);
  EXPECT_EQ(y.shape(), (Shape{1, 30, 30, 16}));
}

TEST(ClosedForm, ConvSamePaddingValues) {
  // A 3×3 all-ones kernel over a 3×3 all-ones image with same padding counts each pixel's
  // neighbours inside the image: 4 at corners, 6 on edges, 9 in the middle.
  Conv2d conv({3, 3, 1}, 1, 3, 1, true);
  std::vector<float> w(9, 1.0f), b(1, 0.0f), gw(9), gb(1);
  conv.bindParams({{"w", {3, 3, 1, 1}, w.data(), gw.data()}, {"b", {1}, b.data(), gb.data()}});
  Tensor x({1, 3, 3, 1}), y;
  for (int i = 0; i < 9; ++i) x[i] = 1.0f;
  conv.forward(x, y);
  const float expected[9] = {4, 6, 4, 6, 9, 6, 4, 6, 4};
  for (int i = 0; i < 9; ++i) EXPECT_FLOAT_EQ(y[i], expected[i]) << i;
}

TEST(ClosedForm, DenseValue) {
  // [1 2] · [[1 0] [1 −1]] + [0.5 0] = [3.5 −2]
  Dense dense({2}, 2);
  std::vector<float> w{1, 0, 1, -1}, b{0.5f, 0}, gw(4), gb(2);
  dense.bindParams({{"w", {2, 2}, w.data(), gw.data()}, {"b", {2}, b.data(), gb.data()}});
  Tensor x({1, 2}), y;
  x[0] = 1;
  x[1] = 2;
  dense.forward(x, y);
  EXPECT_FLOAT_EQ(y[0], 3.5f);
  EXPECT_FLOAT_EQ(y[1], -2.0f);
}

TEST(ClosedForm, MaxPoolDropsPartialWindows) {
  // 5×5 with 2×2 windows: floor((5 − 2)/2) + 1 = 2 per side; the last row and column are dropped.
  MaxPool2d pool({5, 5, 1}, 2, 2);
  Tensor x({1, 5, 5, 1}), y;
  for (int i = 0; i < 25; ++i) x[i] = static_cast<float>(i);
  pool.forward(x, y);
  EXPECT_EQ(y.shape(), (Shape{1, 2, 2, 1}));
  EXPECT_FLOAT_EQ(y[0], 6);   // max of 0 1 5 6
  EXPECT_FLOAT_EQ(y[3], 18);  // max of 12 13 17 18
}

TEST(ClosedForm, SoftmaxCrossEntropyStaysFiniteForHugeLogits) {
  Tensor logits({2, 3}), labels({2, 1}), grad;
  const float z[6] = {1e4f, -1e4f, 0, -1e4f, 1e4f, 1e4f};
  for (int i = 0; i < 6; ++i) logits[i] = z[i];
  labels[0] = 0;  // right and confident: ℓ = 0
  labels[1] = 0;  // wrong: ℓ = log(e^{0} + 2e^{0}) + 1e4 − (−1e4) = 2e4 + log 2
  LossSums s = softmaxCrossEntropy(logits, labels, &grad);
  ASSERT_TRUE(std::isfinite(s.loss));
  EXPECT_NEAR(s.loss, 2e4 + std::log(2.0), 1e-2);
  EXPECT_EQ(s.correct, 1);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(std::isfinite(grad[i])) << i;
  EXPECT_NEAR(grad[3], -1.0f, 1e-6);  // softmax 0 minus the one-hot 1
  EXPECT_NEAR(grad[4], 0.5f, 1e-6);
}

TEST(ClosedForm, MseValue) {
  Tensor pred({1, 2}), target({1, 2}), grad;
  pred[0] = 3;
  pred[1] = 1;
  target[0] = 1;
  target[1] = 1;
  // ℓ = ((3−1)² + 0²)/2 = 2; ∂ℓ/∂ŷ = 2(ŷ − t)/2 = [2, 0]
  EXPECT_DOUBLE_EQ(mse(pred, target, &grad).loss, 2.0);
  EXPECT_FLOAT_EQ(grad[0], 2.0f);
  EXPECT_FLOAT_EQ(grad[1], 0.0f);
}

// f(w) = ½·a·(w − c)², so g = a·(w − c).
float quadraticGrad(float w, float a, float c) { return a * (w - c); }

TEST(ClosedForm, SgdStepOnQuadratic) {
  // w = 5, a = 2, c = 1: g = 8; w' = 5 − 0.1·8 = 4.2.
  auto sgd = makeSgd({0.1, 0, 0, false}, 1);
  float w = 5, g = quadraticGrad(w, 2, 1);
  sgd->update(&w, &g, 1, 1.0);
  EXPECT_FLOAT_EQ(w, 4.2f);
}

TEST(ClosedForm, SgdMomentumAndNesterovTwoSteps) {
  // Momentum 0.9: v1 = 8, w1 = 4.2; g2 = 2·3.2 = 6.4, v2 = 7.2 + 6.4 = 13.6, w2 = 4.2 − 1.36
  // = 2.84.
  auto sgd = makeSgd({0.1, 0.9, 0, false}, 1);
  float w = 5, g = quadraticGrad(w, 2, 1);
  sgd->update(&w, &g, 1, 1.0);
  EXPECT_FLOAT_EQ(w, 4.2f);
  g = quadraticGrad(w, 2, 1);
  sgd->update(&w, &g, 2, 1.0);
  EXPECT_NEAR(w, 2.84f, 1e-5);
  // Nesterov: v1 = 8, w1 = 5 − 0.1·(8 + 0.9·8) = 3.48.
  auto nesterov = makeSgd({0.1, 0.9, 0, true}, 1);
  float wn = 5, gn = quadraticGrad(wn, 2, 1);
  nesterov->update(&wn, &gn, 1, 1.0);
  EXPECT_NEAR(wn, 3.48f, 1e-5);
}

TEST(ClosedForm, SgdWeightDecay) {
  // g = 0, λ = 0.5: w' = w − η·λ·w = 2 − 0.1·1 = 1.9.
  auto sgd = makeSgd({0.1, 0, 0.5, false}, 1);
  float w = 2, g = 0;
  sgd->update(&w, &g, 1, 1.0);
  EXPECT_FLOAT_EQ(w, 1.9f);
}

TEST(ClosedForm, AdamFirstStepIsSignedLearningRate) {
  // At t = 1, m̂ = g and v̂ = g², so w' = w − η·g/(|g| + ε).
  auto adam = makeAdam({0.01, 0.9, 0.999, 1e-8}, 2);
  float w[2] = {1, 1}, g[2] = {4, -0.5f};
  adam->update(w, g, 1, 1.0);
  EXPECT_NEAR(w[0], 0.99f, 1e-6);
  EXPECT_NEAR(w[1], 1.01f, 1e-6);
}

TEST(ClosedForm, AdamWDecaysTheWeightsApartFromTheGradient) {
  // η = 0.01, λ = 0.1. With g = 4 at t = 1, m̂/√v̂ = 1: w' = 1 − 0.01·(1 + 0.1·1) = 0.989. With
  // g = 0 the moments stay 0 and only the decay acts: w' = 1 − 0.01·0.1 = 0.999 (Adam with an L2
  // term in the gradient would instead take a full signed step, to 0.99).
  auto adamW = makeAdam({0.01, 0.9, 0.999, 1e-8, 0.1}, 2);
  float w[2] = {1, 1}, g[2] = {4, 0};
  adamW->update(w, g, 1, 1.0);
  EXPECT_NEAR(w[0], 0.989f, 1e-6);
  EXPECT_NEAR(w[1], 0.999f, 1e-6);
}

TEST(ClosedForm, RateFactorScalesTheStep) {
  // The SGD step of SgdStepOnQuadratic at half the rate: w' = 5 − 0.05·8 = 4.6.
  auto sgd = makeSgd({0.1, 0, 0, false}, 1);
  float w = 5, g = quadraticGrad(w, 2, 1);
  sgd->update(&w, &g, 1, 0.5);
  EXPECT_FLOAT_EQ(w, 4.6f);
}

TEST(ClosedForm, Schedules) {
  capnp::MallocMessageBuilder message;
  auto schedule = message.initRoot<proto::Schedule>();
  EXPECT_EQ(scheduleFactor(schedule, 7, 10), 1.0);  // constant by default
  auto step = schedule.initStepDecay();
  step.setEvery(3);
  step.setFactor(0.5);
  // Updates 1-3 at 1, 4-6 at 0.5, 7 at 0.25.
  const double decayed[] = {1, 1, 1, 0.5, 0.5, 0.5, 0.25};
  for (uint64_t t = 1; t <= 7; ++t)
    EXPECT_DOUBLE_EQ(scheduleFactor(schedule, t, 7), decayed[t - 1]);
  auto cosine = schedule.initCosineDecay();
  cosine.setWarmupSteps(2);
  cosine.setFinalFraction(0.1);
  // T = 6: warm-up 0.5, 1; then 0.1 + 0.9·(1 + cos(π·(t − 2)/4))/2: t = 3 gives
  // 0.1 + 0.45·(1 + √2/2), t = 4 gives 0.55, t = 6 gives 0.1.
  EXPECT_DOUBLE_EQ(scheduleFactor(schedule, 1, 6), 0.5);
  EXPECT_DOUBLE_EQ(scheduleFactor(schedule, 2, 6), 1.0);
  EXPECT_NEAR(scheduleFactor(schedule, 3, 6), 0.1 + 0.45 * (1 + std::sqrt(0.5)), 1e-15);
  EXPECT_NEAR(scheduleFactor(schedule, 4, 6), 0.55, 1e-15);
  EXPECT_NEAR(scheduleFactor(schedule, 6, 6), 0.1, 1e-15);
  cosine.setWarmupSteps(0);  // no warm-up: starts just below 1
  EXPECT_NEAR(scheduleFactor(schedule, 1, 4), 0.1 + 0.45 * (1 + std::sqrt(0.5)), 1e-15);
}

}  // namespace
}  // namespace tfmath
