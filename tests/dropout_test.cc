// dropout_test.cc: dropout's draws and their properties: the share of elements it keeps, the
// scale of the kept ones, the identity at evaluation and at rate 0, masks that follow a sample
// and not its place in the batch, masks that differ across layers and epochs, and the model
// calling it with the trainer's draws.
#include "ops/dropout.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <numeric>

#include "ops/model.h"
#include "tests/layer_params.h"

namespace tfmath {
namespace {

using testing::randomTensor;

std::vector<uint32_t> iota(uint32_t from, uint32_t count) {
  std::vector<uint32_t> v(count);
  std::iota(v.begin(), v.end(), from);
  return v;
}

TEST(Dropout, KeepsOneMinusTheRateAndScalesTheKeptUp) {
  Rng rng(1);
  const int64_t n = 200, per = 500;  // 100k elements: the kept share is within 0.5% of 75%
  Dropout layer({per}, 0.25, 3);
  Tensor x = randomTensor({n, per}, rng), y;
  const auto samples = iota(0, n);
  layer.setDraws({true, 11, 0, samples.data()});
  layer.forward(x, y);
  int64_t kept = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    if (y[i] == 0.0f) continue;
    ++kept;
    EXPECT_EQ(y[i], x[i] * static_cast<float>(1.0 / 0.75)) << i;
  }
  EXPECT_NEAR(static_cast<double>(kept) / static_cast<double>(x.size()), 0.75, 0.005);
  // Backward routes dy through the same mask.
  Tensor dy = randomTensor(y.shape(), rng), dx;
  layer.backward(x, y, dy, &dx);
  for (int64_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(dx[i], y[i] == 0.0f ? 0.0f : dy[i] * static_cast<float>(1.0 / 0.75)) << i;
}

TEST(Dropout, IsTheIdentityAtEvaluationAndAtRateZero) {
  Rng rng(2);
  Tensor x = randomTensor({4, 30}, rng), y, dx;
  Dropout layer({30}, 0.5, 0);
  layer.setDraws({});  // evaluation
  layer.forward(x, y);
  EXPECT_EQ(std::vector<float>(y.data(), y.data() + y.size()),
            std::vector<float>(x.data(), x.data() + x.size()));
  Dropout none({30}, 0.0, 0);
  const auto samples = iota(0, 4);
  none.setDraws({true, 5, 0, samples.data()});
  none.forward(x, y);
  EXPECT_EQ(std::vector<float>(y.data(), y.data() + y.size()),
            std::vector<float>(x.data(), x.data() + x.size()));
}

// The mask of a sample depends on its index in the training set, not on where it sits in the
// batch: what W workers see when the batch is split among them.
TEST(Dropout, MaskFollowsTheSampleNotItsPlaceInTheBatch) {
  Rng rng(3);
  const int64_t per = 64;
  Tensor both = randomTensor({2, per}, rng), second({1, per}), y2, y1;
  std::copy_n(both.data() + per, per, second.data());
  Dropout layer({per}, 0.5, 1);
  const std::vector<uint32_t> pair{17, 42}, alone{42};
  layer.setDraws({true, 9, 2, pair.data()});
  layer.forward(both, y2);
  layer.setDraws({true, 9, 2, alone.data()});
  layer.forward(second, y1);
  EXPECT_EQ(std::vector<float>(y2.data() + per, y2.data() + 2 * per),
            std::vector<float>(y1.data(), y1.data() + per));
}

TEST(Dropout, MasksDifferAcrossLayersEpochsSamplesAndSeeds) {
  const int64_t per = 256;
  Tensor ones({1, per}), y;
  for (int64_t i = 0; i < per; ++i) ones[i] = 1;
  auto mask = [&](uint64_t seed, uint32_t layer, uint32_t epoch, uint32_t sample) {
    Dropout d({per}, 0.5, layer);
    d.setDraws({true, seed, epoch, &sample});
    d.forward(ones, y);
    return std::vector<float>(y.data(), y.data() + per);
  };
  const auto base = mask(1, 0, 0, 0);
  EXPECT_EQ(mask(1, 0, 0, 0), base);
  EXPECT_NE(mask(2, 0, 0, 0), base);
  EXPECT_NE(mask(1, 1, 0, 0), base);
  EXPECT_NE(mask(1, 0, 1, 0), base);
  EXPECT_NE(mask(1, 0, 0, 1), base);
}

// Built from a job's model, dropout draws with the model's draws and takes the job layer's index.
TEST(Dropout, TheModelPassesItsDrawsAndEvaluatesWithout) {
  capnp::MallocMessageBuilder message;
  auto layers = message.initRoot<proto::Job>().initModel(2);
  layers[0].initDropout().setRate(0.5);
  layers[1].initDropout().setRate(0.5);
  Model model(layers.asReader(), {128});
  Tensor x({1, 128}), dy({1, 128});
  for (int64_t i = 0; i < 128; ++i) x[i] = 1;
  const uint32_t sample = 7;
  const Tensor& out = model.forward(x, {true, 4, 0, &sample});
  // Two independent masks at 0.5: about a quarter survive, each scaled by 2·2.
  int64_t kept = 0;
  for (int64_t i = 0; i < 128; ++i) {
    if (out[i] != 0) {
      EXPECT_EQ(out[i], 4.0f);
      ++kept;
    }
  }
  EXPECT_GT(kept, 10);
  EXPECT_LT(kept, 60);
  const Tensor& evaluated = model.forward(x);
  for (int64_t i = 0; i < 128; ++i) EXPECT_EQ(evaluated[i], 1.0f);
}

}  // namespace
}  // namespace tfmath
