// job_file_test.cc: job files parse as written, and every kind of bad job gets one clear message
// naming the file position or the field, before any training starts.
#include "jobs/job_file.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "jobs/data_check.h"
#include "jobs/job_check.h"
#include "jobs/job_error.h"
#include "tests/test_util.h"

namespace tfmath {
namespace {

using testing::jobText;
using testing::TempDir;

// Parses and validates; returns the JobError message, or "" if the job is fine.
std::string problemWith(const std::string& path) {
  try {
    JobFile f = JobFile::load(path);
    validateJob(f.job());
    return "";
  } catch (const JobError& e) {
    return e.what();
  }
}

std::string problemWithFields(const std::string& fields) {
  TempDir dir;
  return problemWith(dir.write("job.capnp", jobText(fields)));
}

const std::string kLinear = "data = (linear = (samples = 20, weights = [1.0], bias = 0.0)),";
const std::string kSgd = "optimizer = (sgd = (learningRate = 0.1)),";

TEST(JobFile, ExamplesParseAndValidate) {
  for (const char* name : {"linreg", "fashion_mlp", "fashion_cnn", "fashion_cnn_dropout"}) {
    EXPECT_EQ(problemWith(std::string(TFMATH_SOURCE_DIR) + "/examples/" + name + ".capnp"), "")
        << name;
  }
  JobFile f = JobFile::load(std::string(TFMATH_SOURCE_DIR) + "/examples/fashion_cnn.capnp");
  auto job = f.job();
  EXPECT_EQ(std::string(job.getName()), "fashion-cnn");
  EXPECT_EQ(job.getModel().size(), 6u);
  EXPECT_EQ(job.getModel()[2].getConv2d().getFilters(), 32u);
  EXPECT_TRUE(job.getOptimizer().isAdam());
  EXPECT_DOUBLE_EQ(job.getOptimizer().getAdam().getBeta2(), 0.999);
}

TEST(JobFile, TextFromStdinParsesAndResolvesPathsAgainstTheGivenFolder) {
  TempDir dir;
  dir.write("t.csv", "a,y\n1,2\n");
  JobFile f = JobFile::parse(jobText("data = (csv = (train = \"t.csv\", target = \"y\")),"),
                             "<stdin>", dir.path());
  EXPECT_EQ(std::string(f.job().getData().getCsv().getTrain()),
            std::filesystem::canonical(dir.path()).string() + "/t.csv");
  try {
    JobFile::parse(jobText("batchSize = \"x\","), "<stdin>", dir.path());
    FAIL() << "a type error was accepted";
  } catch (const JobError& e) {
    EXPECT_NE(std::string(e.what()).find("<stdin>:3:"), std::string::npos) << e.what();
  }
}

TEST(JobFile, SyntaxErrorGivesOneBasedLineAndColumn) {
  TempDir dir;
  // Line 3 (1-based) has the stray `%`, at column 14.
  const std::string p = dir.write("bad.capnp",
                                  "using T = import \"/tfmath/job.capnp\";\n"
                                  "const job :T.Job = (\n"
                                  "  name = \"x\" % 3,\n);\n");
  const std::string msg = problemWith(p);
  EXPECT_NE(msg.find(p + ":3:"), std::string::npos) << msg;
}

TEST(JobFile, TypeErrorNamesThePosition) {
  const std::string msg = problemWithFields("  batchSize = \"ten\",");
  EXPECT_NE(msg.find("job.capnp:3:15"), std::string::npos) << msg;
}

TEST(JobFile, UnknownFieldIsReported) {
  const std::string msg = problemWithFields("  batchsize = 10,");
  EXPECT_NE(msg.find("job.capnp:3:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("batchsize"), std::string::npos) << msg;
}

TEST(JobFile, MissingJobConstant) {
  TempDir dir;
  const std::string msg = problemWith(dir.write("j.capnp", "const x :UInt32 = 3;\n"));
  EXPECT_NE(msg.find("const job :Job"), std::string::npos) << msg;
}

TEST(JobFile, FileWithItsOwnIdStillParses) {
  TempDir dir;
  EXPECT_EQ(
      problemWith(dir.write("j.capnp", "@0xf1a2b3c4d5e6f708;\n" +
                                           jobText(kLinear + "model = [(dense = (units = 1))], " +
                                                   kSgd + " batchSize = 5, epochs = 1"))),
      "");
}

TEST(JobFile, ImportOutsideTheFolderIsRefused) {
  TempDir outer;
  outer.write("secret.capnp", "const secret :Text = \"s\";\n");
  const std::string p = outer.write(
      "jobs/j.capnp", "using S = import \"../secret.capnp\";\n" + jobText("name = S.secret,"));
  const std::string msg = problemWith(p);
  EXPECT_NE(msg.find("refused"), std::string::npos) << msg;
  EXPECT_NE(msg.find("../secret.capnp"), std::string::npos) << msg;
}

TEST(JobFile, AbsoluteImportAndEmbedOfSystemFilesAreRefused) {
  TempDir dir;
  std::string msg =
      problemWith(dir.write("a.capnp", "using S = import \"/etc/passwd\";\n" + jobText("")));
  EXPECT_NE(msg.find("refused"), std::string::npos) << msg;
  msg = problemWith(dir.write("b.capnp", jobText("name = embed \"/etc/passwd\",")));
  EXPECT_NE(msg.find("refused"), std::string::npos) << msg;
  msg = problemWith(dir.write("c.capnp", jobText("name = embed \"../../../../etc/passwd\",")));
  EXPECT_NE(msg.find("refused"), std::string::npos) << msg;
}

TEST(JobFile, SymlinkOutOfTheFolderIsRefused) {
  TempDir dir;
  std::filesystem::create_symlink("/etc/passwd", dir.path() + "/passwd");
  const std::string msg = problemWith(dir.write("j.capnp", jobText("name = embed \"passwd\",")));
  EXPECT_NE(msg.find("refused"), std::string::npos) << msg;
}

TEST(JobFile, ImportInsideTheFolderWorks) {
  TempDir dir;
  dir.write("common/model.capnp",
            "using T = import \"/tfmath/job.capnp\";\nconst mlp :List(T.Layer) = [(dense = (units "
            "= 1))];\n");
  dir.write("name.txt", "from-embed");
  const std::string p =
      dir.write("j.capnp", "using M = import \"common/model.capnp\";\n" +
                               jobText("name = embed \"name.txt\", " + kLinear +
                                       " model = M.mlp, " + kSgd + " batchSize = 5, epochs = 1"));
  EXPECT_EQ(problemWith(p), "");
  EXPECT_EQ(std::string(JobFile::load(p).job().getName()), "from-embed");
}

TEST(JobFile, RelativeDataPathsResolveAgainstTheJobFolder) {
  TempDir dir;
  dir.write("data/train.csv", "a,b,y\n1,2,3\n2,1,3\n0,0,0\n");
  const std::string p =
      dir.write("j.capnp", jobText("data = (csv = (train = \"data/train.csv\", target = \"y\")), "
                                   "model = [(dense = (units = 1))], " +
                                   kSgd + " batchSize = 2, epochs = 1"));
  JobFile f = JobFile::load(p);
  EXPECT_EQ(std::string(f.job().getData().getCsv().getTrain()),
            std::filesystem::canonical(dir.path()).string() + "/data/train.csv");
  EXPECT_EQ(problemWith(p), "");
}

struct BadJob {
  std::string fields;    // the job's fields
  std::string expected;  // a part of the message that must appear
};

// Names the case by its expected message in test listings, instead of raw bytes.
void PrintTo(const BadJob& b, std::ostream* os) { *os << b.expected; }

class BadJobs : public ::testing::TestWithParam<BadJob> {};

TEST_P(BadJobs, AreRefusedWithTheField) {
  const std::string msg = problemWithFields(GetParam().fields);
  EXPECT_NE(msg.find(GetParam().expected), std::string::npos) << "message: " << msg;
}

const std::string kDense1 = "model = [(dense = (units = 1))],";
const std::string kRun = "batchSize = 5, epochs = 1,";
const std::string kFashionSmall = testing::fashionData(50, 20);

INSTANTIATE_TEST_SUITE_P(
    Messages, BadJobs,
    ::testing::Values(
        BadJob{kLinear + kDense1 + kSgd + "batchSize = 0, epochs = 1", "batchSize: must be > 0"},
        BadJob{kLinear + kDense1 + kSgd + "batchSize = 5", "epochs: must be > 0"},
        BadJob{kLinear + kDense1 + kSgd + kRun + "workers = 0", "workers: must be > 0"},
        BadJob{kLinear + "model = [(dense = (units = 0))]," + kSgd + kRun,
               "model[0].dense.units: must be > 0"},
        BadJob{kLinear + kSgd + kRun, "model: must have at least one layer"},
        BadJob{"data = (linear = (weights = [1.0]))," + kDense1 + kSgd + kRun,
               "data.linear.samples: must be > 0"},
        BadJob{"data = (linear = (samples = 5))," + kDense1 + kSgd + kRun, "data.linear.weights"},
        BadJob{kLinear + kDense1 + "optimizer = (sgd = (learningRate = 0)), " + kRun,
               "optimizer.sgd.learningRate: must be a finite number > 0"},
        BadJob{kLinear + kDense1 + "optimizer = (sgd = (learningRate = -0.1)), " + kRun,
               "optimizer.sgd.learningRate"},
        BadJob{kLinear + kDense1 + "optimizer = (sgd = (learningRate = inf)), " + kRun,
               "optimizer.sgd.learningRate"},
        BadJob{kLinear + kDense1 + "optimizer = (sgd = (learningRate = nan)), " + kRun,
               "optimizer.sgd.learningRate"},
        BadJob{kLinear + kDense1 + "optimizer = (adam = (learningRate = 0)), " + kRun,
               "optimizer.adam.learningRate"},
        BadJob{kLinear + kDense1 + "optimizer = (adamW = (weightDecay = -0.01)), " + kRun,
               "optimizer.adamW.weightDecay: must be a finite number >= 0, not -0.010000"},
        BadJob{kLinear + kDense1 + "optimizer = (adamW = (beta2 = 1)), " + kRun,
               "optimizer.adamW.beta2: must be in [0, 1)"},
        BadJob{kLinear + kDense1 + kSgd + kRun + "clipGlobalNorm = -1",
               "clipGlobalNorm: must be a finite number >= 0 (0: no clipping), not -1.000000"},
        BadJob{kLinear + kDense1 + kSgd + kRun + "schedule = (stepDecay = (factor = 0.5))",
               "schedule.stepDecay.every: must be > 0"},
        BadJob{
            kLinear + kDense1 + kSgd + kRun + "schedule = (stepDecay = (every = 10, factor = 1.5))",
            "schedule.stepDecay.factor: must be in (0, 1], not 1.500000"},
        BadJob{
            kLinear + kDense1 + kSgd + kRun + "schedule = (cosineDecay = (finalFraction = -0.5))",
            "schedule.cosineDecay.finalFraction: must be in [0, 1], not -0.500000"},
        // kLinear holds 20 samples: 4 updates at batch 5 for one epoch.
        BadJob{kLinear + kDense1 + kSgd + kRun + "schedule = (cosineDecay = (warmupSteps = 5))",
               "schedule.cosineDecay.warmupSteps: 5 is longer than the run's 4 updates"},
        BadJob{kLinear + kDense1 + "optimizer = (sgd = (learningRate = 0.1, nesterov = true)), " +
                   kRun,
               "optimizer.sgd.nesterov: needs momentum > 0"},
        // Shapes that cannot follow one another or the data.
        BadJob{kFashionSmall + "model = [(dense = (units = 10))], loss = softmaxCrossEntropy," +
                   kSgd + kRun,
               "model[0].dense: needs a 1-D input per sample but gets [28, 28, 1]"},
        BadJob{
            kFashionSmall +
                "model = [(conv2d = (filters = 4, kernelSize = 3)), (maxPool2d = (poolSize = 2)),"
                "(conv2d = (filters = 4, kernelSize = 20)), (flatten = void), (dense = (units = "
                "10))],"
                "loss = softmaxCrossEntropy," +
                kSgd + kRun,
            "model[2].conv2d.kernelSize: kernel 20 is larger than its 13×13 input"},
        BadJob{
            kFashionSmall +
                "model = [(maxPool2d = (poolSize = 29)), (flatten = void), (dense = (units = 10))],"
                "loss = softmaxCrossEntropy," +
                kSgd + kRun,
            "model[0].maxPool2d.poolSize: window 29 pools its 28×28 input to nothing"},
        BadJob{kFashionSmall +
                   "model = [(averagePool2d = (poolSize = 30)), (flatten = void), (dense = "
                   "(units = 10))], loss = softmaxCrossEntropy," +
                   kSgd + kRun,
               "model[0].averagePool2d.poolSize: window 30 pools its 28×28 input to nothing"},
        BadJob{kFashionSmall +
                   "model = [(averagePool2d = (poolSize = 0)), (flatten = void), (dense = "
                   "(units = 10))], loss = softmaxCrossEntropy," +
                   kSgd + kRun,
               "model[0].averagePool2d.poolSize: must be > 0"},
        BadJob{kLinear +
                   "model = [(dense = (units = 4)), (dropout = (rate = 1)), (dense = "
                   "(units = 1))]," +
                   kSgd + kRun,
               "model[1].dropout.rate: must be in [0, 1), not 1.000000"},
        BadJob{
            kLinear + "model = [(dropout = (rate = -0.1)), (dense = (units = 1))]," + kSgd + kRun,
            "model[0].dropout.rate: must be in [0, 1), not -0.100000"},
        BadJob{kLinear + "model = [(globalAveragePool2d = void), (dense = (units = 1))]," + kSgd +
                   kRun,
               "model[0].globalAveragePool2d: needs an H×W×C input per sample but gets [1]"},
        BadJob{kFashionSmall +
                   "model = [(conv2d = (filters = 4, kernelSize = 0)), (flatten = void), (dense = "
                   "(units = 10))],"
                   "loss = softmaxCrossEntropy," +
                   kSgd + kRun,
               "model[0].conv2d.kernelSize: must be > 0"},
        BadJob{kLinear + "model = [(conv2d = (filters = 2, kernelSize = 1))]," + kSgd + kRun,
               "model[0].conv2d: needs an H×W×C input per sample but gets [1]"},
        BadJob{
            kFashionSmall +
                "model = [(flatten = void), (dense = (units = 5))], loss = softmaxCrossEntropy," +
                kSgd + kRun,
            "model[1]: gives [5] per sample but the labels go up to 9, so it needs at least 10 "
            "outputs"},
        BadJob{kLinear + "model = [(dense = (units = 3))]," + kSgd + kRun,
               "model[0]: gives [3] per sample but the target has 1 value(s)"},
        BadJob{kLinear + "model = [(activation = none)]," + kSgd + kRun,
               "model: has only identities (activation = none); add a layer"},
        // Free text shown on other users' terminals: printable UTF-8, bounded.
        BadJob{"name = \"x\\x1b]0;pwned\\x07\\nforged\"," + kLinear + kDense1 + kSgd + kRun,
               "name: must be printable UTF-8 without control characters"},
        BadJob{"name = \"" + std::string(300, 'n') + "\"," + kLinear + kDense1 + kSgd + kRun,
               "name: must be at most 256 bytes, not 300"},
        BadJob{"data = (csv = (train = \"t.csv\", target = \"y\\r\")), model = [(dense = (units = "
               "1))], loss = mse," +
                   kSgd + kRun,
               "data.csv.target: must be printable UTF-8 without control characters"},
        // Losses that do not fit the targets.
        BadJob{kFashionSmall + "model = [(flatten = void), (dense = (units = 10))], loss = mse," +
                   kSgd + kRun,
               "loss: mse needs continuous targets"},
        BadJob{
            kLinear + "model = [(dense = (units = 2))], loss = softmaxCrossEntropy," + kSgd + kRun,
            "loss: softmaxCrossEntropy needs class labels"},
        // Data files.
        BadJob{"data = (idx = (trainImages = \"/nonexistent/img.gz\", trainLabels = "
               "\"/nonexistent/lab.gz\"))," +
                   kDense1 + kSgd + kRun,
               "data.idx.trainImages: /nonexistent/img.gz: cannot read"},
        BadJob{"data = (idx = (trainImages = \"" + testing::kFashion +
                   "train-labels-idx1-ubyte.gz\", trainLabels = \"" + testing::kFashion +
                   "train-labels-idx1-ubyte.gz\"))," + kDense1 + kSgd + kRun,
               "not an IDX image file (idx3 or idx4 of uint8): bad magic number 0x00000801 "
               "(expected 0x00000803 or 0x00000804)"},
        BadJob{"data = (csv = (train = \"/nonexistent.csv\", target = \"y\"))," + kDense1 + kSgd +
                   kRun,
               "data.csv.train: /nonexistent.csv: cannot read"},
        BadJob{"data = (idx = (trainLabels = \"x\"))," + kDense1 + kSgd + kRun,
               "data.idx.trainImages: is required"}));

TEST(JobFile, TruncatedIdxIsRefused) {
  TempDir dir;
  // An idx3 header declaring 10 images of 4×4 but holding only 3, gzip-compressed.
  std::string bytes = {0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 4, 0, 0, 0, 4};
  bytes += std::string(3 * 16, '\x7f');
  const std::string path = dir.path() + "/img.gz";
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  const std::string labels =
      dir.write("lab", std::string{0, 0, 8, 1, 0, 0, 0, 10} + std::string(10, '\1'));
  const std::string msg = problemWith(dir.write(
      "j.capnp",
      jobText("data = (idx = (trainImages = \"img.gz\", trainLabels = \"lab\")), "
              "model = [(flatten = void), (dense = (units = 2))], loss = softmaxCrossEntropy, " +
              kSgd + kRun)));
  EXPECT_NE(msg.find("data.idx.trainImages"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated: holds fewer bytes than its header declares (48 of 160)"),
            std::string::npos)
      << msg;
}

TEST(JobFile, CsvWithTextCellIsRefused) {
  TempDir dir;
  dir.write("t.csv", "a,y\n1,2\nx,3\n");
  const std::string msg = problemWith(dir.write(
      "j.capnp",
      jobText("data = (csv = (train = \"t.csv\", target = \"y\")), " + kDense1 + kSgd + kRun)));
  EXPECT_NE(msg.find("line 3, column 1 ('a'): not a finite number: 'x'"), std::string::npos) << msg;
}

TEST(JobFile, CsvContinuousTargetWithCrossEntropyIsRefused) {
  TempDir dir;
  dir.write("t.csv", "a,y\n1,0.5\n2,1\n");
  const std::string msg = problemWith(dir.write(
      "j.capnp",
      jobText(
          "data = (csv = (train = \"t.csv\", target = \"y\")), model = [(dense = (units = 2))], "
          "loss = softmaxCrossEntropy, " +
          kSgd + kRun)));
  EXPECT_NE(msg.find("target is continuous"), std::string::npos) << msg;
}

// Values a job file cannot spell, as a raw client could send them in a binary job: an activation
// number this tfmath does not know, on its own and after a dense layer.
TEST(JobChecks, UnknownActivationsAreRefusedWithTheField) {
  capnp::MallocMessageBuilder message;
  auto job = message.initRoot<proto::Job>();
  job.setBatchSize(1);
  job.setEpochs(1);
  job.setWorkers(1);
  job.initOptimizer().initSgd().setLearningRate(0.1);
  auto layers = job.initModel(2);
  layers[0].initDense().setUnits(3);
  layers[0].getDense().setActivation(static_cast<proto::Activation>(9));
  layers[1].setActivation(static_cast<proto::Activation>(7));
  const auto problems = checkJobFields(job.asReader());
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], "model[0].dense.activation: an activation this tfmath does not know");
  EXPECT_EQ(problems[1], "model[1].activation: an activation this tfmath does not know");
  layers[0].getDense().setActivation(proto::Activation::TANH);
  layers[1].setActivation(proto::Activation::RELU);
  EXPECT_TRUE(checkJobFields(job.asReader()).empty());
}

}  // namespace
}  // namespace tfmath
