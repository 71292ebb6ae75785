// job_override_test.cc: `--set PATH=VALUE` changes exactly the field it names, typed by the schema;
// every bad path or value is refused with the path and the type expected, and changes nothing.
#include "jobs/job_override.h"

#include <gtest/gtest.h>
#include <kj/string.h>

#include "jobs/job_error.h"
#include "jobs/job_file.h"
#include "tests/cluster_fixture.h"

namespace tfmath {
namespace {

using testing::Cluster;
using testing::TempDir;

// A linreg job and a small MLP job, parsed from job files.
struct Jobs {
  TempDir dir;
  JobFile linreg = JobFile::load(dir.write(
      "linreg.capnp", testing::jobText(testing::linregJob() + "epochs = 3, workers = 1")));
  JobFile mlp = JobFile::load(
      dir.write("mlp.capnp", testing::jobText(testing::fashionMlpJob(100, 10, 10) + "epochs = 1")));
};

std::string refusal(JobFile& job, const std::string& assignment) {
  const std::string before = kj::str(job.job()).cStr();
  try {
    applyOverride(job.builder(), parseOverride(assignment));
  } catch (const JobError& e) {
    EXPECT_EQ(std::string(kj::str(job.job()).cStr()), before) << "a refused --set changed the job";
    return e.what();
  }
  return "";
}

TEST(JobOverride, SetsTheNamedFieldAsItsTypeSays) {
  Jobs j;
  applyOverride(j.linreg.builder(), parseOverride("optimizer.sgd.learningRate=0.01"));
  applyOverride(j.linreg.builder(), parseOverride("batchSize=256"));
  applyOverride(j.linreg.builder(), parseOverride("loss=softmaxCrossEntropy"));
  applyOverride(j.linreg.builder(), parseOverride("optimizer.sgd.nesterov=true"));
  applyOverride(j.linreg.builder(), parseOverride("data.linear.weights=[1.5, -2, 0.25]"));
  applyOverride(j.linreg.builder(), parseOverride("name=a=b"));  // the first '=' splits
  const auto job = j.linreg.job();
  EXPECT_EQ(job.getOptimizer().getSgd().getLearningRate(), 0.01);
  EXPECT_EQ(job.getBatchSize(), 256u);
  EXPECT_EQ(job.getLoss(), proto::Loss::SOFTMAX_CROSS_ENTROPY);
  EXPECT_TRUE(job.getOptimizer().getSgd().getNesterov());
  ASSERT_EQ(job.getData().getLinear().getWeights().size(), 3u);
  EXPECT_EQ(job.getData().getLinear().getWeights()[1], -2.0);
  EXPECT_EQ(std::string(job.getName().cStr()), "a=b");
  EXPECT_EQ(job.getOptimizer().getSgd().getMomentum(), 0.5);  // untouched

  applyOverride(j.mlp.builder(), parseOverride("model[1].dense.units=512"));
  applyOverride(j.mlp.builder(), parseOverride("model[1].dense.activation=tanh"));
  EXPECT_EQ(j.mlp.job().getModel()[1].getDense().getUnits(), 512u);
  EXPECT_EQ(j.mlp.job().getModel()[1].getDense().getActivation(), proto::Activation::TANH);
  EXPECT_EQ(j.mlp.job().getModel()[2].getDense().getUnits(), 10u);  // the other layer untouched
}

TEST(JobOverride, BadPathsAndValuesNameThePathAndTheType) {
  Jobs j;
  EXPECT_EQ(refusal(j.linreg, "batchSize"),
            "--set batchSize: expected PATH=VALUE, e.g. batchSize=256");
  EXPECT_EQ(refusal(j.linreg, "=3"), "--set =3: expected PATH=VALUE, e.g. batchSize=256");
  EXPECT_EQ(refusal(j.linreg, "batchsize=3")
                .rfind("--set batchsize=3: no field batchsize in Job; it "
                       "has: name, seed, data, model, loss",
                       0),
            0u)
      << refusal(j.linreg, "batchsize=3");
  EXPECT_EQ(refusal(j.linreg, "batchSize=abc"),
            "--set batchSize=abc: batchSize expects a whole number from 0 to 4294967295 (UInt32)");
  EXPECT_EQ(refusal(j.linreg, "batchSize=-1"),
            "--set batchSize=-1: batchSize expects a whole number from 0 to 4294967295 (UInt32)");
  EXPECT_EQ(refusal(j.linreg, "batchSize=4294967296"),
            "--set batchSize=4294967296: batchSize expects a whole number from 0 to 4294967295 "
            "(UInt32)");
  EXPECT_EQ(refusal(j.linreg, "batchSize=2.5"),
            "--set batchSize=2.5: batchSize expects a whole number from 0 to 4294967295 (UInt32)");
  EXPECT_EQ(refusal(j.linreg, "optimizer.sgd.learningRate=fast"),
            "--set optimizer.sgd.learningRate=fast: optimizer.sgd.learningRate expects a number "
            "(Float64)");
  EXPECT_EQ(refusal(j.linreg, "optimizer.sgd.learningRate=nan"),
            "--set optimizer.sgd.learningRate=nan: optimizer.sgd.learningRate expects a number "
            "(Float64)");
  EXPECT_EQ(
      refusal(j.linreg, "optimizer.sgd.nesterov=yes"),
      "--set optimizer.sgd.nesterov=yes: optimizer.sgd.nesterov expects true or false (Bool)");
  EXPECT_EQ(refusal(j.linreg, "loss=huber"),
            "--set loss=huber: loss expects one of mse, softmaxCrossEntropy (Loss)");
  EXPECT_EQ(refusal(j.linreg, "optimizer.adam.learningRate=0.1"),
            "--set optimizer.adam.learningRate=0.1: optimizer.adam: the job chose sgd here, not "
            "adam; --set changes the fields of what the job chose");
  EXPECT_EQ(
      refusal(j.linreg, "optimizer=3")
          .rfind("--set optimizer=3: optimizer is a struct Optimizer; name one of its fields: sgd, "
                 "adam",
                 0),
      0u)
      << refusal(j.linreg, "optimizer=3");
  EXPECT_EQ(refusal(j.linreg, "batchSize.x=3"),
            "--set batchSize.x=3: batchSize is a whole number from 0 to 4294967295 (UInt32), "
            "which has no fields");
  EXPECT_EQ(refusal(j.mlp, "model[3].dense.units=5"),
            "--set model[3].dense.units=5: model[3]: the job's model has 3 element(s)");
  EXPECT_EQ(refusal(j.mlp, "model[0].dense.units=5"),
            "--set model[0].dense.units=5: model[0].dense: the job chose flatten here, not dense; "
            "--set changes the fields of what the job chose");
  EXPECT_EQ(refusal(j.mlp, "model[x].dense.units=5"),
            "--set model[x].dense.units=5: 'model[x]' is not NAME[INDEX] with a whole number for "
            "INDEX");
  EXPECT_EQ(refusal(j.mlp, "batchSize[0]=5").rfind("--set batchSize[0]=5: batchSize is a whole", 0),
            0u);
  EXPECT_EQ(refusal(j.linreg, "data.linear.weights=1.5"),
            "--set data.linear.weights=1.5: data.linear.weights expects a list [a,b,...] of a "
            "number (Float64)");
  EXPECT_EQ(refusal(j.linreg, "data.linear.weights=[1, x]"),
            "--set data.linear.weights=[1, x]: data.linear.weights: 'x' is not a number (Float64)");
  EXPECT_EQ(refusal(j.linreg, "data.linear.weights=[1e400]"),
            "--set data.linear.weights=[1e400]: data.linear.weights: '1e400' is not a number "
            "(Float64)");
  EXPECT_EQ(refusal(j.linreg, "a..b=1"),
            "--set a..b=1: '' is not a field name (letters, digits, _)");
}

// The commands: `tfmath run` trains the changed job; `tfmath submit` sends nothing when a --set is
// bad, and sends the changed job when all are good.
TEST(JobOverride, RunAndSubmitTakeSet) {
  TempDir dir;
  const std::string job =
      dir.write("linreg.capnp", testing::jobText(testing::linregJob() + "epochs = 3, workers = 1"));
  auto r = testing::tfmath("run " + job + " --save " + dir.path() +
                           "/out.params --set epochs=1 --set batchSize=20 --set batchSize=25");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("batch 25, 1 epochs"), std::string::npos) << r.output;

  Cluster c(1);
  r = c.run("submit " + job + " --set epochs=2 --set loss=huber");
  EXPECT_EQ(r.exitCode, 2) << r.output;  // a bad job, as a bad job file
  EXPECT_NE(r.output.find("--set loss=huber: loss expects one of mse, softmaxCrossEntropy (Loss)"),
            std::string::npos)
      << r.output;
  r = c.run("status --json");
  EXPECT_EQ(nlohmann::json::parse(r.output)["jobs"].size(), 0u) << r.output;  // nothing submitted
  const std::string id = testing::submit(c, job + " --set epochs=2 --set name=changed");
  const auto done = testing::waitForState(c, id, "COMPLETED");
  EXPECT_EQ(done["epochs"], 2) << done.dump();
  EXPECT_EQ(done["name"], "changed") << done.dump();
}

}  // namespace
}  // namespace tfmath
