// numerics_test.cc: the bug check (base/assert.h) reports in a release build, and every thread
// that trains flushes denormal floats to zero (ops/denormals.h).
#include <gtest/gtest.h>

#include <thread>

#include "base/assert.h"
#include "jobs/data_check.h"
#include "jobs/job_file.h"
#include "ops/denormals.h"
#include "tests/test_util.h"
#include "train/trainer.h"

namespace tfmath {
namespace {

TEST(Assert, ReportsFileLineConditionAndValuesInEveryBuild) {
  const int have = 3, want = 4;
  try {
    TFMATH_ASSERT(have == want, have, want);
    FAIL() << "TFMATH_ASSERT did not fire";
  } catch (const AssertionFailure& e) {
    const std::string text = e.what();
    EXPECT_NE(text.find("numerics_test.cc:"), std::string::npos) << text;
    EXPECT_NE(text.find("have == want failed"), std::string::npos) << text;
    EXPECT_NE(text.find("[have, want = 3, 4]"), std::string::npos) << text;
  }
  EXPECT_NO_THROW(TFMATH_ASSERT(have + 1 == want, have));
  EXPECT_THROW(TFMATH_ASSERT(false), AssertionFailure);
}

// 1e-30 × 1e-10 = 1e-40 lies below the smallest normal float (~1.18e-38): a denormal, or 0 when
// the thread flushes. volatile keeps the compiler from folding it.
float tinyProduct() {
  volatile float a = 1e-30f, b = 1e-10f;
  return a * b;
}

TEST(Denormals, AThreadThatTrainsFlushesThemAndAnotherDoesNot) {
  bool before = true, after = false;
  float productBefore = 0, productAfter = 1;
  std::thread([&] {
    before = denormalsFlushToZero();
    productBefore = tinyProduct();
    JobFile f = JobFile::load(std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp");
    const Data data = validateJob(f.job());
    LocalCommunicator local;
    Trainer trainer(f.job(), data, local);
    trainer.step();
    after = denormalsFlushToZero();
    productAfter = tinyProduct();
  }).join();
  EXPECT_FALSE(before) << "a new thread starts with the default floating-point mode";
  EXPECT_GT(productBefore, 0.0f) << "without flushing, 1e-40 is a denormal";
  EXPECT_TRUE(after);
  EXPECT_EQ(productAfter, 0.0f);
  float elsewhere = 0;
  std::thread([&] { elsewhere = tinyProduct(); }).join();
  EXPECT_GT(elsewhere, 0.0f) << "the setting is per thread";
}

}  // namespace
}  // namespace tfmath
