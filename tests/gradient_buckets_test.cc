// gradient_buckets_test.cc: the buckets a device communicator sums during backward
// (worker/gradient_buckets.h): a case worked out by hand, and the calls a real model's backward
// makes (Backend::announceFinal), whose buckets must tile the gradient buffer exactly.
#include "gradient_buckets.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cpu_backend.h"
#include "job_check.h"
#include "job_file.h"
#include "test_util.h"

namespace tfmath {
namespace {

TEST(GradientBuckets, AWorkedCase) {
  // 100 floats, buckets of at least 30; backward makes offsets 90, 70, 40, 10, 0 final.
  GradientBuckets buckets(30);
  for (int step = 0; step < 2; ++step) {  // the same on the next step: rest() starts over
    EXPECT_TRUE(buckets.finalFrom(100, 90).empty());  // 10 floats: too few
    const FloatRange a = buckets.finalFrom(100, 70);  // 30: a bucket
    EXPECT_EQ(a.begin, 70u);
    EXPECT_EQ(a.end, 100u);
    EXPECT_TRUE(buckets.finalFrom(100, 70).empty());  // the same offset again: nothing new
    const FloatRange b = buckets.finalFrom(100, 40);
    EXPECT_EQ(b.begin, 40u);
    EXPECT_EQ(b.end, 70u);
    const FloatRange c = buckets.finalFrom(100, 10);
    EXPECT_EQ(c.begin, 10u);
    EXPECT_EQ(c.end, 40u);
    EXPECT_TRUE(buckets.finalFrom(100, 0).empty());  // 10 left: summed with the rest
    const FloatRange rest = buckets.rest(100);
    EXPECT_EQ(rest.begin, 0u);
    EXPECT_EQ(rest.end, 10u);
  }
  // No bucket filled: the rest is everything.
  GradientBuckets big(1000);
  EXPECT_TRUE(big.finalFrom(100, 0).empty());
  EXPECT_EQ(big.rest(100).size(), 100u);
}

// Records the offsets backward reports.
class Recorder : public Communicator {
 public:
  int rank() const override { return 0; }
  int worldSize() const override { return 2; }
  void gradientsFinalFrom(std::span<float>, size_t offset) override { offsets.push_back(offset); }
  void allreduceSum(std::span<float>, std::span<double>) override {}
  std::vector<size_t> offsets;
};

TEST(GradientBuckets, TileARealModelsGradients) {
  testing::TempDir dir;
  JobFile f = JobFile::load(dir.write(
      "cnn.capnp",
      testing::jobText(
          testing::fashionData(100, 10) +
          "model = [(conv2d = (filters = 8, kernelSize = 3, padding = same, activation = relu)),"
          "(maxPool2d = (poolSize = 2)), (flatten = void), (dense = (units = 64, activation = "
          "relu)), (dense = (units = 10))], loss = softmaxCrossEntropy, optimizer = (adam = ()),"
          "batchSize = 32, epochs = 1")));
  const Data data = validateJob(f.job());
  CpuBackend backend(f.job(), data.train.sampleShape());
  Recorder recorder;
  backend.announceFinal(recorder);
  // One call per parameter, from the last, at its offset.
  const auto& params = backend.params();
  ASSERT_EQ(recorder.offsets.size(), params.size());
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_EQ(recorder.offsets[i], params[params.size() - 1 - i].offset);

  for (size_t bucketFloats : {size_t{1}, size_t{100}, size_t{5000}, backend.size() + 1}) {
    GradientBuckets buckets(bucketFloats);
    std::vector<FloatRange> started;
    for (size_t offset : recorder.offsets) {
      const FloatRange b = buckets.finalFrom(backend.size(), offset);
      if (!b.empty()) started.push_back(b);
    }
    // From the end of the buffer down, each bucket ends where the one before began, and the rest
    // ends where the last began: every float is summed exactly once.
    size_t end = backend.size();
    for (const FloatRange& b : started) {
      EXPECT_EQ(b.end, end) << "bucket size " << bucketFloats;
      EXPECT_GE(b.size(), bucketFloats);
      end = b.begin;
    }
    const FloatRange rest = buckets.rest(backend.size());
    EXPECT_EQ(rest.begin, 0u);
    EXPECT_EQ(rest.end, end);
    // Buckets of one float: one per parameter, and no rest.
    if (bucketFloats == 1) {
      EXPECT_EQ(started.size(), params.size());
      EXPECT_TRUE(rest.empty());
    }
    if (bucketFloats > backend.size()) {
      EXPECT_TRUE(started.empty());
    }
  }
}

// The buckets docs/gpu.md gives for the example models at the default size.
std::vector<FloatRange> exampleBuckets(const std::string& example, FloatRange& rest) {
  JobFile f = JobFile::load(std::string(TFMATH_SOURCE_DIR) + "/examples/" + example);
  CpuBackend backend(f.job(), validateJob(f.job()).train.sampleShape());
  Recorder recorder;
  backend.announceFinal(recorder);
  GradientBuckets buckets(kBucketBytes / sizeof(float));
  std::vector<FloatRange> started;
  for (size_t offset : recorder.offsets) {
    const FloatRange b = buckets.finalFrom(backend.size(), offset);
    if (!b.empty()) started.push_back(b);
  }
  rest = buckets.rest(backend.size());
  return started;
}

TEST(GradientBuckets, TheExampleModelsAsDocumented) {
  FloatRange rest;
  // fashion_mlp: 784·256+256 = 200,960 in the first layer; 235,146 in all.
  std::vector<FloatRange> mlp = exampleBuckets("fashion_mlp.capnp", rest);
  ASSERT_EQ(mlp.size(), 2u);
  EXPECT_EQ(mlp[0].begin, 200960u);
  EXPECT_EQ(mlp[0].end, 235146u);
  EXPECT_EQ(mlp[1].begin, 0u);
  EXPECT_TRUE(rest.empty());
  // fashion_cnn: 9·16+16 = 160 in the first convolution; 20,490 in all.
  std::vector<FloatRange> cnn = exampleBuckets("fashion_cnn.capnp", rest);
  ASSERT_EQ(cnn.size(), 1u);
  EXPECT_EQ(cnn[0].begin, 160u);
  EXPECT_EQ(cnn[0].end, 20490u);
  EXPECT_EQ(rest.end, 160u);
}

}  // namespace
}  // namespace tfmath
