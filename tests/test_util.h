// test_util.h: helpers shared by the tests: temporary folders, writing files, job text.
#pragma once

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace tfmath::testing {

// A fresh folder under the system temp dir, removed when this goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tfmath-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  // Writes `content` to NAME inside the folder; returns the full path.
  std::string write(const std::string& name, const std::string& content) const {
    const std::string p = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  std::string path_;
};

struct CommandResult {
  int exitCode;
  std::string output;  // stdout and stderr together
};

// Runs `command` through the shell, as a user would type it.
inline CommandResult shell(const std::string& command) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The tfmath binary under test: the build's, or TFMATH_TEST_BINARY (how scripts/gpu-check runs the
// tests from its bundle on another machine).
inline std::string tfmathBinary() {
  const char* moved = std::getenv("TFMATH_TEST_BINARY");
  return moved && *moved ? moved : TFMATH_BINARY;
}

// Runs the tfmath binary under test with `args`.
inline CommandResult tfmath(const std::string& args) { return shell(tfmathBinary() + " " + args); }

// Whether this test may run commands as the unprivileged `nobody` (from Debian's base system):
// only as root, which may switch users. "" when it may, else why not (for GTEST_SKIP).
inline std::string whyNotAsNobody() {
  if (::geteuid() != 0) return "runs commands as nobody, which needs root (CI runs as root)";
  if (std::system("id nobody >/dev/null 2>&1") != 0) return "this system has no user nobody";
  return "";
}

// Runs the tfmath binary under test as `nobody`, from a copy in `folder` (made 0755), since the
// build folder may be where nobody cannot enter.
inline CommandResult tfmathAsNobody(const std::string& folder, const std::string& args) {
  const std::string binary = folder + "/tfmath";
  if (!std::filesystem::exists(binary)) {
    std::filesystem::copy_file(tfmathBinary(), binary);
    ::chmod(binary.c_str(), 0755);
  }
  ::chmod(folder.c_str(), 0755);
  return shell("su nobody -s /bin/sh -c '" + binary + " " + args + "'");
}

// Debian's Fashion-MNIST, or the folder in TFMATH_FASHION_DIR (gpu-check's bundle).
inline const std::string kFashion = [] {
  const char* moved = std::getenv("TFMATH_FASHION_DIR");
  return moved && *moved ? std::string(moved) + "/"
                         : std::string("/usr/share/datasets/fashion-mnist/");
}();

// A job file's text: the schema import and `const job :T.Job = (FIELDS);`.
inline std::string jobText(const std::string& fields) {
  return "using T = import \"/tfmath/job.capnp\";\nconst job :T.Job = (\n" + fields + "\n);\n";
}

// Fashion-MNIST through the IDX source, the first `limit` training and `testLimit` test samples.
inline std::string fashionData(int limit, int testLimit) {
  return "data = (idx = (trainImages = \"" + kFashion +
         "train-images-idx3-ubyte.gz\", trainLabels = \"" + kFashion +
         "train-labels-idx1-ubyte.gz\", testImages = \"" + kFashion +
         "t10k-images-idx3-ubyte.gz\", testLabels = \"" + kFashion +
         "t10k-labels-idx1-ubyte.gz\", limit = " + std::to_string(limit) +
         ", testLimit = " + std::to_string(testLimit) + ")),";
}

// The jobs the equivalence tests train (without `epochs`): linear regression with noise and
// momentum, and a small MLP with Adam on `limit` Fashion-MNIST images at batch `batch`.
inline std::string linregJob() {
  return "seed = 5, data = (linear = (samples = 200, weights = [1.5, -2.0, 0.5], bias = 1.0, "
         "noise = 0.1)), model = [(dense = (units = 1))], loss = mse, optimizer = (sgd = "
         "(learningRate = 0.1, momentum = 0.5)), batchSize = 10,";
}
inline std::string fashionMlpJob(int limit, int testLimit, int batch) {
  return "seed = 9," + fashionData(limit, testLimit) +
         "model = [(flatten = void), (dense = (units = 32, activation = relu)), (dense = (units = "
         "10))], loss = softmaxCrossEntropy, optimizer = (adam = ()), batchSize = " +
         std::to_string(batch) + ",";
}

// A small CNN on a Fashion-MNIST subset with every training aid: average and global average
// pooling, dropout, AdamW, a cosine schedule with warm-up and a clip by the global norm; the global
// batch of 50 splits unevenly over 3 workers. Ends with a comma; add epochs.
inline std::string fashionCnnWithAidsJob() {
  return "seed = 5," + fashionData(300, 50) +
         "model = [(conv2d = (filters = 4, kernelSize = 3, padding = same, activation = relu)),"
         "(averagePool2d = (poolSize = 2)), (dropout = (rate = 0.3)),"
         "(conv2d = (filters = 6, kernelSize = 3, activation = relu)),"
         "(globalAveragePool2d = void), (dropout = (rate = 0.2)), (dense = (units = 10))],"
         "loss = softmaxCrossEntropy, optimizer = (adamW = (learningRate = 0.001)),"
         "schedule = (cosineDecay = (warmupSteps = 3, finalFraction = 0.1)),"
         "clipGlobalNorm = 0.5, batchSize = 50,";
}

// The Debian package scripts/package.sh built (build-deb/), or "" when there is none.
inline std::string builtPackage() {
  const std::string dir = std::string(TFMATH_SOURCE_DIR) + "/build-deb";
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ignored))
    if (entry.path().extension() == ".deb") return entry.path().string();
  return "";
}

}  // namespace tfmath::testing
