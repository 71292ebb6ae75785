// cli_test.cc: the `tfmath` binary as a user runs it: exit codes, messages on stderr, the saved
// parameter file, and docs/ops.md kept in step with the op registry.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "base/durable_file.h"
#include "jobs/params_file.h"
#include "ops/registry.h"
#include "tests/cluster_fixture.h"
#include "tests/test_util.h"

namespace tfmath {
namespace {

using testing::TempDir;

TEST(Cli, OpsMarkdownIsTheCommittedDoc) {
  const std::string committed = readWholeFile(std::string(TFMATH_SOURCE_DIR) + "/docs/ops.md");
  EXPECT_EQ(committed, opsMarkdown())
      << "docs/ops.md is stale: run `tfmath ops --markdown > docs/ops.md`";
  EXPECT_EQ(testing::tfmath("ops --markdown").output, opsMarkdown());
}

TEST(Cli, EveryOpNamesItsCpuAndGpuImplementation) {
  // One registry, two devices: each entry points at an ops/ file and a kernels/ pair
  // whose header declares it by name. The GPU files are in the tree whether or not CUDA is built.
  // A schedule is a factor the host computes for both devices: it names no kernel.
  const std::string root = std::string(TFMATH_SOURCE_DIR) + "/";
  for (const OpMath* op : opRegistry()) {
    EXPECT_TRUE(op->cpu.starts_with("ops/") && op->cpu.ends_with(".cc")) << op->name;
    if (op->kind == "schedule") {
      EXPECT_EQ(op->gpu, "") << op->name;
      continue;
    }
    EXPECT_TRUE(op->gpu.starts_with("kernels/") && op->gpu.ends_with(".cu")) << op->name;
    EXPECT_TRUE(std::filesystem::exists(root + op->cpu)) << op->name << ": " << op->cpu;
    EXPECT_TRUE(std::filesystem::exists(root + op->gpu)) << op->name << ": " << op->gpu;
    const std::string header = root + op->gpu + "h";  // .cu -> .cuh
    ASSERT_TRUE(std::filesystem::exists(header)) << op->name << ": " << header;
    std::string text = readWholeFile(header), name = op->name;
    for (auto* s : {&text, &name})
      for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_NE(text.find(name), std::string::npos) << header << " does not mention " << op->name;
  }
}

TEST(Cli, RunLinregPrintsLearnedValuesAndSavesParameters) {
  TempDir dir;
  const testing::CommandResult r =
      testing::tfmath("run " + std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp --save " +
                      dir.path() + "/out.params");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("epoch 10/10: train loss"), std::string::npos) << r.output;
  // Each epoch line ends with that epoch's own speed.
  EXPECT_TRUE(std::regex_search(r.output, std::regex("epoch 10/10: [^\n]* [0-9]+ samples/s\n")))
      << r.output;
  EXPECT_NE(r.output.find("learned: w = "), std::string::npos) << r.output;
  ParameterStateFile state(dir.path() + "/out.params");
  EXPECT_EQ(state.state().getStep(), 100u);
  EXPECT_EQ(std::string(state.state().getJob().getName()), "linreg");
  // The progress line (a log gets the first step's) shows the step's learning rate, and with a clip
  // the gradient's norm; a clip far above that norm changes no bit.
  EXPECT_TRUE(std::regex_search(r.output, std::regex("step 1/10  loss [0-9.]+  lr 0.1  ")))
      << r.output;
  const testing::CommandResult clipped = testing::tfmath(
      "run " + std::string(TFMATH_SOURCE_DIR) +
      "/examples/linreg.capnp --set clipGlobalNorm=1e6 --save " + dir.path() + "/clipped.params");
  ASSERT_EQ(clipped.exitCode, 0) << clipped.output;
  EXPECT_TRUE(std::regex_search(clipped.output, std::regex("lr 0.1  grad norm [0-9.e+-]+  ")))
      << clipped.output;
  EXPECT_EQ(testing::relativeDistance(dir.path() + "/clipped.params", dir.path() + "/out.params"),
            0.0);
}

TEST(Cli, BadJobExitsTwoWithTheFieldAndTrainsNothing) {
  TempDir dir;
  const std::string job = dir.write(
      "bad.capnp",
      testing::jobText(
          "data = (linear = (samples = 20, weights = [1.0])), model = [(dense = (units = 1))],"
          "optimizer = (sgd = (learningRate = 0.1)), batchSize = 0, epochs = 1"));
  const testing::CommandResult r =
      testing::tfmath("run " + job + " --save " + dir.path() + "/x.params");
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.output.find("batchSize: must be > 0"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("epoch"), std::string::npos) << r.output;
  EXPECT_FALSE(std::ifstream(dir.path() + "/x.params").good());
}

TEST(Cli, MissingJobFileAndCorruptResumeFileAreClear) {
  TempDir dir;
  testing::CommandResult r = testing::tfmath("run " + dir.path() + "/nope.capnp");
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.output.find("nope.capnp: cannot open the job file"), std::string::npos) << r.output;
  const std::string junk = dir.write("junk.params", "this is not a capnp message!!!!!");
  r = testing::tfmath("run " + std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp --resume " +
                      junk);
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.output.find("not a tfmath parameter-state file"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace tfmath
