// gradient_buckets_test.cc: the buckets a device communicator sums during backward
// (train/gradient_buckets.h): a case worked out by hand, and the calls a real model's backward
// makes (Backend::announceFinal), whose buckets must tile the gradient buffer exactly.
#include "train/gradient_buckets.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "jobs/data_check.h"
#include "jobs/job_file.h"
#include "tests/test_util.h"
#include "train/cpu_backend.h"

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

// The offsets backward reports for `backend`'s model.
std::vector<size_t> reportedOffsets(CpuBackend& backend) {
  Recorder recorder;
  backend.announceFinal(recorder);
  return recorder.offsets;
}

// The buckets those reports start in a buffer of `size` floats, and the rest allreduceSum sums.
struct Split {
  std::vector<FloatRange> buckets;
  FloatRange rest;
};
Split split(const std::vector<size_t>& offsets, size_t size, size_t bucketFloats) {
  GradientBuckets buckets(bucketFloats);
  Split result;
  for (size_t offset : offsets) {
    const FloatRange b = buckets.finalFrom(size, offset);
    if (!b.empty()) result.buckets.push_back(b);
  }
  result.rest = buckets.rest(size);
  return result;
}

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
  const std::vector<size_t> offsets = reportedOffsets(backend);
  // One call per parameter, from the last, at its offset.
  const auto& params = backend.params();
  ASSERT_EQ(offsets.size(), params.size());
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_EQ(offsets[i], params[params.size() - 1 - i].offset);

  for (size_t bucketFloats : {size_t{1}, size_t{100}, size_t{5000}, backend.size() + 1}) {
    const Split s = split(offsets, backend.size(), bucketFloats);
    // From the end of the buffer down, each bucket ends where the one before began, and the rest
    // ends where the last began: every float is summed exactly once.
    size_t end = backend.size();
    for (const FloatRange& b : s.buckets) {
      EXPECT_EQ(b.end, end) << "bucket size " << bucketFloats;
      EXPECT_GE(b.size(), bucketFloats);
      end = b.begin;
    }
    EXPECT_EQ(s.rest.begin, 0u);
    EXPECT_EQ(s.rest.end, end);
    // Buckets of one float: one per parameter, and no rest.
    if (bucketFloats == 1) {
      EXPECT_EQ(s.buckets.size(), params.size());
      EXPECT_TRUE(s.rest.empty());
    }
    if (bucketFloats > backend.size()) {
      EXPECT_TRUE(s.buckets.empty());
    }
  }
}

// The buckets docs/gpu.md gives for the example models at the default size.
Split exampleSplit(const std::string& example) {
  JobFile f = JobFile::load(std::string(TFMATH_SOURCE_DIR) + "/examples/" + example);
  CpuBackend backend(f.job(), validateJob(f.job()).train.sampleShape());
  return split(reportedOffsets(backend), backend.size(), kBucketBytes / sizeof(float));
}

TEST(GradientBuckets, TheExampleModelsAsDocumented) {
  // fashion_mlp: 784·256+256 = 200,960 in the first layer; 235,146 in all.
  const Split mlp = exampleSplit("fashion_mlp.capnp");
  ASSERT_EQ(mlp.buckets.size(), 2u);
  EXPECT_EQ(mlp.buckets[0].begin, 200960u);
  EXPECT_EQ(mlp.buckets[0].end, 235146u);
  EXPECT_EQ(mlp.buckets[1].begin, 0u);
  EXPECT_TRUE(mlp.rest.empty());
  // fashion_cnn: 9·16+16 = 160 in the first convolution; 20,490 in all.
  const Split cnn = exampleSplit("fashion_cnn.capnp");
  ASSERT_EQ(cnn.buckets.size(), 1u);
  EXPECT_EQ(cnn.buckets[0].begin, 160u);
  EXPECT_EQ(cnn.buckets[0].end, 20490u);
  EXPECT_EQ(cnn.rest.end, 160u);
}

}  // namespace
}  // namespace tfmath
