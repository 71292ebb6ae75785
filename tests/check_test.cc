// check_test.cc: `tfmath check` and `tfmath submit --dry-run`: output shapes and parameter counts
// worked out by hand, the forward rules with the job's shapes put in, the optimizer's update with
// its hyperparameters put in, JSON that parses, and bad jobs refused with the field named.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace tfmath {
namespace {

using nlohmann::json;
using testing::TempDir;

// An IDX file: the magic number of uint8 data of that many dimensions, the sizes, then bytes.
void writeIdx(const std::string& path, const std::vector<uint32_t>& dims) {
  std::ofstream out(path, std::ios::binary);
  const char header[4] = {0, 0, 0x08, static_cast<char>(dims.size())};
  out.write(header, 4);
  uint64_t total = 1;
  for (uint32_t d : dims) {
    const char be[4] = {static_cast<char>(d >> 24), static_cast<char>(d >> 16),
                        static_cast<char>(d >> 8), static_cast<char>(d)};
    out.write(be, 4);
    total *= d;
  }
  for (uint64_t i = 0; i < total; ++i) out.put(static_cast<char>(i % 10));
}

// Ten 32×32×3 images (idx4, channels last) with labels, and a job on them.
std::string cifarShapedJob(const TempDir& dir, const std::string& model) {
  writeIdx(dir.path() + "/images.idx", {10, 32, 32, 3});
  writeIdx(dir.path() + "/labels.idx", {10});
  return testing::jobText("name = \"rgb\", data = (idx = (trainImages = \"" + dir.path() +
                          "/images.idx\", trainLabels = \"" + dir.path() +
                          "/labels.idx\")), model = " + model +
                          ", loss = softmaxCrossEntropy, optimizer = (sgd = (learningRate = 0.1, "
                          "momentum = 0.9)), batchSize = 4, epochs = 1,");
}

json checkJson(const std::string& job) {
  const auto r = testing::shell(std::string(TFMATH_BINARY) + " check " + job + " --json 2>&1");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  return json::parse(r.output);
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Check, AValidConvOnA32x32x3InputGives30x30x16) {
  TempDir dir;
  const std::string job = dir.write(
      "rgb.capnp", cifarShapedJob(dir,
                                  "[(conv2d = (filters = 16, kernelSize = 3, padding = valid)), "
                                  "(flatten = void), (dense = (units = 10))]"));
  const json c = checkJson(job);
  ASSERT_EQ(c["ops"].size(), 3u) << c.dump(2);
  // (32 − 3)/1 + 1 = 30 on each side; 3·3·3 weights per filter and a bias: 16·28 = 448.
  EXPECT_EQ(c["ops"][0]["output"], json({30, 30, 16}));
  EXPECT_EQ(c["ops"][0]["parameters"], 448);
  EXPECT_EQ(c["ops"][1]["output"], json({14400}));
  EXPECT_EQ(c["ops"][2]["parameters"], 14400 * 10 + 10);
  EXPECT_EQ(c["parameters"], 448 + 144010);
  EXPECT_EQ(c["data"]["sample_shape"], json({32, 32, 3}));
  const std::string conv = c["ops"][0]["rule"];
  for (const std::string part :
       {R"(X\in\mathbb{R}^{4\times 32\times 32\times 3})",
        R"(K\in\mathbb{R}^{3\times 3\times 3\times 16})", R"(b\in\mathbb{R}^{16})",
        R"(Y_{n,i,j,f} = b_f)", R"(Y\in\mathbb{R}^{4\times 30\times 30\times 16})"})
    EXPECT_TRUE(has(conv, part)) << part << "\n" << conv;
  // Glorot uniform for a kernel with no relu after it: a = √(6/(27 + 144)) = 0.187317.
  EXPECT_EQ(c["ops"][0]["params"][0]["init"],
            R"(K\sim\mathcal{U}(-a,a),\ a=\sqrt{6/(27+144)}=0.187317)");
  EXPECT_EQ(c["ops"][0]["params"][1]["init"], "b = 0");
  // SGD's update with η = 0.1, μ = 0.9 and λ = 0 put in: no symbol is left.
  const std::string update = c["optimizer"]["rule"];
  for (const std::string part : {"0 w_{t-1}", "v_t = 0.9 v_{t-1} + g_t", R"(w_{t-1} - 0.1 \begin)"})
    EXPECT_TRUE(has(update, part)) << part << "\n" << update;
  for (const std::string symbol : {R"(\eta)", R"(\mu)", R"(\lambda)"})
    EXPECT_FALSE(has(update, symbol)) << symbol << "\n" << update;

  const auto r = testing::tfmath("check " + job);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(has(r.output, "rgb: valid\n")) << r.output;
  EXPECT_TRUE(has(r.output, "data: idx, 10 training samples of 32×32×3, no test set\n"))
      << r.output;
  EXPECT_TRUE(has(r.output, "model[0].conv2d        conv2d       30×30×16                  448\n"))
      << r.output;
}

TEST(Check, EveryExampleChecksWithItsShapesWorkedOutByHand) {
  const std::string examples = std::string(TFMATH_SOURCE_DIR) + "/examples/";
  // linreg: y = 3x + 2, one weight and one bias.
  json c = checkJson(examples + "linreg.capnp");
  EXPECT_EQ(c["parameters"], 2);
  EXPECT_EQ(
      c["ops"][0]["rule"],
      R"(X\in\mathbb{R}^{10\times 1},\; W\in\mathbb{R}^{1\times 1},\; b\in\mathbb{R}^{1}:\quad Y = XW + b,\quad Y\in\mathbb{R}^{10\times 1})");
  // fashion_mlp: 784 → 256 → 128 → 10.
  c = checkJson(examples + "fashion_mlp.capnp");
  EXPECT_EQ(c["parameters"], (784 * 256 + 256) + (256 * 128 + 128) + (128 * 10 + 10));
  std::vector<std::string> ops, outputs;
  for (const auto& op : c["ops"]) ops.push_back(op["op"]), outputs.push_back(op["output"].dump());
  EXPECT_EQ(ops, (std::vector<std::string>{"flatten", "dense", "relu", "dense", "relu", "dense"}));
  EXPECT_EQ(outputs,
            (std::vector<std::string>{"[784]", "[256]", "[256]", "[128]", "[128]", "[10]"}));
  EXPECT_EQ(
      c["ops"][1]["rule"],
      R"(X\in\mathbb{R}^{128\times 784},\; W\in\mathbb{R}^{784\times 256},\; b\in\mathbb{R}^{256}:\quad Y = XW + b,\quad Y\in\mathbb{R}^{128\times 256})");
  EXPECT_EQ(c["ops"][2]["rule"],
            R"(y = \max(0, x)\ \text{element-wise on}\ \mathbb{R}^{128\times 256})");
  // He normal before a relu: σ = √(2/784) = 0.0505076.
  EXPECT_EQ(c["ops"][1]["params"][0]["init"],
            R"(W\sim\mathcal{N}(0,\sigma^2),\ \sigma=\sqrt{2/784}=0.0505076)");
  // fashion_cnn: same-padded convolutions, each pool halves the side: 28 → 14 → 7.
  c = checkJson(examples + "fashion_cnn.capnp");
  outputs.clear();
  for (const auto& op : c["ops"]) outputs.push_back(op["output"].dump());
  EXPECT_EQ(outputs,
            (std::vector<std::string>{"[28,28,16]", "[28,28,16]", "[14,14,16]", "[14,14,32]",
                                      "[14,14,32]", "[7,7,32]", "[1568]", "[10]"}));
  EXPECT_EQ(c["parameters"], (9 * 16 + 16) + (9 * 16 * 32 + 32) + (1568 * 10 + 10));
  // Adam's update with its defaults put in; ε = 1e-8 reads 10^{-8}.
  const std::string adam = c["optimizer"]["rule"];
  for (const std::string part : {"m_t = 0.9 m_{t-1} + (1-0.9) g_t", "(1-0.999) g_t^2", "+ 10^{-8}",
                                 R"(w_{t-1} - 0.001 \frac)"})
    EXPECT_TRUE(has(adam, part)) << part << "\n" << adam;
}

TEST(Check, ABadJobIsRefusedWithTheFieldNamed) {
  TempDir dir;
  // A 40×40 kernel does not fit a 32×32 input without padding.
  auto r = testing::tfmath(
      "check " + dir.write("big.capnp", cifarShapedJob(dir,
                                                       "[(conv2d = (filters = 4, kernelSize = "
                                                       "40)), (flatten = void), (dense = "
                                                       "(units = 10))]")));
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_TRUE(has(r.output, "tfmath check: model[0].conv2d")) << r.output;
  // Test images of another shape than the training images.
  writeIdx(dir.path() + "/small.idx", {4, 28, 28});
  writeIdx(dir.path() + "/small-labels.idx", {4});
  std::string job = cifarShapedJob(dir, "[(flatten = void), (dense = (units = 10))]");
  job.insert(job.find("))"), ", testImages = \"" + dir.path() + "/small.idx\", testLabels = \"" +
                                 dir.path() + "/small-labels.idx\"");
  r = testing::tfmath("check " + dir.write("mixed.capnp", job));
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_TRUE(has(r.output,
                  "data.idx.testImages: its images are [28, 28, 1] but the training "
                  "images are [32, 32, 3]"))
      << r.output;
  r = testing::tfmath("check " + dir.path() + "/missing.capnp");
  EXPECT_EQ(r.exitCode, 2) << r.output;
  r = testing::tfmath("check " + std::string(TFMATH_SOURCE_DIR) +
                      "/examples/linreg.capnp --set batchSize=0");
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_TRUE(has(r.output, "batchSize")) << r.output;
}

// --dry-run checks and prints, and never reaches for a coordinator: none is running here.
TEST(Check, SubmitDryRunPrintsTheCheckAndSubmitsNothing) {
  const std::string linreg = std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp";
  const std::string nowhere = " --coordinator ipc:///nonexistent/coordinator.sock";
  auto r = testing::tfmath("submit " + linreg + " --dry-run" + nowhere);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(has(r.output, "linreg: valid\n")) << r.output;
  EXPECT_TRUE(has(r.output, "nothing submitted (--dry-run)")) << r.output;
  r = testing::tfmath("submit " + linreg + " --dry-run --sweep batchSize=5,20" + nowhere);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(has(r.output, "linreg[batchSize=5]: valid\n")) << r.output;
  EXPECT_TRUE(has(r.output, R"(X\in\mathbb{R}^{20\times 1})")) << r.output;
  r = testing::tfmath("submit " + linreg + " --dry-run --sweep batchSize=5,0" + nowhere);
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_TRUE(has(r.output, "--sweep batchSize=0: batchSize")) << r.output;
}

}  // namespace
}  // namespace tfmath
