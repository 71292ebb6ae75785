// batch_test.cc: what batch scripts rely on: `tfmath wait`'s exit statuses (0 COMPLETED, 1 FAILED,
// 3 CANCELLED, 124 timed out, 2 usage), `submit --wait` following the same table with a summary
// line, and `--parsable` printing the id alone; against a real cluster.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli/report.h"
#include "tests/cluster_fixture.h"

namespace tfmath {
namespace {

using testing::Cluster;
using testing::TempDir;

// A linear regression of 25,000 steps an epoch, for 1,000 epochs: it runs until cancelled (one
// worker takes a few µs a step). `extra` adds fields.
std::string slowJob(int workers, const std::string& extra = "") {
  return testing::jobText(
      "data = (linear = (samples = 100000, weights = [3.0], bias = 2.0)), model = [(dense = "
      "(units = 1))], loss = mse, optimizer = (sgd = (learningRate = 0.01)), batchSize = 4, "
      "epochs = 1000, " +
      extra + "workers = " + std::to_string(workers));
}

// A small MLP on `limit` Fashion-MNIST images, trained by SGD at 0.1 for one epoch.
std::string sgdMlpJob(int limit, int testLimit, int workers) {
  return testing::jobText(
      "name = \"mlp\", seed = 3," + testing::fashionData(limit, testLimit) +
      "model = [(flatten = void), (dense = (units = 32, activation = relu)), (dense = (units = "
      "10))], loss = softmaxCrossEntropy, optimizer = (sgd = (learningRate = 0.1)), batchSize = "
      "64, "
      "epochs = 1, workers = " +
      std::to_string(workers));
}

// Runs a script of examples/batch as a user would: tfmath on the PATH, the cluster's address in
// TFMATH_COORDINATOR.
testing::CommandResult runExample(const Cluster& c, const std::string& script,
                                  const std::string& args) {
  const std::string bin = std::filesystem::path(testing::tfmathBinary()).parent_path().string();
  return testing::shell("PATH=" + bin + ":$PATH TFMATH_COORDINATOR=" + c.clientEndpoint() +
                        " bash " + TFMATH_SOURCE_DIR + "/examples/batch/" + script + " " + args);
}

TEST(Wait, OneStatusForHowTheJobsEnded) {
  using S = proto::JobState;
  EXPECT_EQ(cli::exitStatusFor({}), 0);
  EXPECT_EQ(cli::exitStatusFor({S::COMPLETED, S::COMPLETED}), 0);
  EXPECT_EQ(cli::exitStatusFor({S::COMPLETED, S::CANCELLED}), 3);
  EXPECT_EQ(cli::exitStatusFor({S::CANCELLED, S::FAILED, S::COMPLETED}), 1);
}

TEST(Wait, ExitStatusSaysHowTheJobsEndedOnACluster) {
  Cluster c(2);
  TempDir dir;
  const std::string quick =
      dir.write("quick.capnp", testing::jobText(testing::linregJob() + "epochs = 2, workers = 1"));
  const std::string slow = dir.write("slow.capnp", slowJob(1));

  // submit --wait: the id, then how it ended; --parsable: the id alone.
  // stdout alone (shell() adds 2>&1 after the braces).
  auto r = testing::shell("{ " + testing::tfmathBinary() + " submit " + quick +
                          " --wait --coordinator " + c.clientEndpoint() + " 2>/dev/null; }");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  const std::string done = r.output.substr(0, r.output.find('\n'));
  EXPECT_EQ(r.output.find("job " + done + " COMPLETED in ", done.size()), done.size() + 1)
      << r.output;
  EXPECT_NE(r.output.find(": epoch 2/2, loss "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(", test loss "), std::string::npos) << r.output;
  r = c.run("submit " + quick + " --wait");  // stderr too: its lines all have figures
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(r.output.find(" 0 samples/s"), std::string::npos) << r.output;
  r = testing::shell("{ " + testing::tfmathBinary() + " submit " + quick +
                     " --wait --parsable --coordinator " + c.clientEndpoint() + " 2>/dev/null; }");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(r.output, std::to_string(std::stoi(done) + 2) + "\n");
  // --wait --json: the id, then the record, each a JSON line.
  r = testing::shell("{ " + testing::tfmathBinary() + " submit " + quick +
                     " --wait --json --coordinator " + c.clientEndpoint() + " 2>/dev/null; }");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  const auto newline = r.output.find('\n');
  EXPECT_EQ(nlohmann::json::parse(r.output.substr(0, newline))["id"],
            std::to_string(std::stoi(done) + 3));
  EXPECT_EQ(nlohmann::json::parse(r.output.substr(newline + 1))["state"], "COMPLETED") << r.output;

  // wait on a COMPLETED job: 0, a line, or JSON records.
  r = c.run("wait " + done);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(r.output.rfind("job " + done + " COMPLETED in ", 0), 0u) << r.output;
  r = c.run("wait " + done + " --json");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  auto json = nlohmann::json::parse(r.output);
  EXPECT_EQ(json["jobs"][0]["state"], "COMPLETED");
  EXPECT_TRUE(json["jobs"][0]["test_loss"].is_number()) << r.output;

  // A running job: the timeout comes first (124); --any returns on the ended one.
  const std::string running = testing::submit(c, slow);
  testing::waitForState(c, running, "RUNNING");
  r = c.run("wait " + running + " --timeout 1");
  EXPECT_EQ(r.exitCode, 124) << r.output;
  EXPECT_NE(r.output.find("timed out after 1s; 0 of 1 job(s) ended"), std::string::npos)
      << r.output;
  r = c.run("wait " + running + " " + done + " --any");
  EXPECT_EQ(r.exitCode, 0) << r.output;

  // CANCELLED: 3, also among COMPLETED ones.
  EXPECT_EQ(c.run("cancel " + running).exitCode, 0);
  r = c.run("wait " + running);
  EXPECT_EQ(r.exitCode, 3) << r.output;
  EXPECT_NE(r.output.find("job " + running + " CANCELLED"), std::string::npos) << r.output;
  EXPECT_EQ(c.run("wait " + done + " " + running).exitCode, 3);

  // Usage errors: 2.
  r = c.run("wait 999");
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find("no job 999"), std::string::npos) << r.output;
  EXPECT_EQ(c.run("wait").exitCode, 2);
  EXPECT_EQ(c.run("wait " + done + " --timeout -1").exitCode, 2);

  // FAILED: 1, whatever else ended. (A lost worker fails a job that may not be requeued.)
  const std::string lost =
      testing::submit(c, dir.write("two.capnp", slowJob(2, "maxRestarts = 0, ")));
  testing::waitForState(c, lost, "RUNNING");
  c.killWorker(1);
  r = c.run("wait " + lost + " --timeout 60");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("job " + lost + " FAILED"), std::string::npos) << r.output;
  EXPECT_EQ(c.run("wait " + done + " " + running + " " + lost).exitCode, 1);
}

// A learning rate of 1e200 sends the parameters past float's range in the first update, so the
// loss of step 2 is inf (or nan, where inf meets -inf): the job stops there, on every rank.
TEST(Divergence, ALossThatIsNotFiniteFailsTheJobAtOnce) {
  TempDir dir;
  const std::string job = dir.write(
      "linreg.capnp", testing::jobText(testing::linregJob() + "epochs = 50, workers = 2"));
  auto stoppedAtStep2 = [](const std::string& text) {
    return text.find("loss is inf at step 2") != std::string::npos ||
           text.find("loss is nan at step 2") != std::string::npos;
  };
  auto r = testing::tfmath("run " + job + " --save " + dir.path() +
                           "/out.params --set optimizer.sgd.learningRate=1e200");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(stoppedAtStep2(r.output)) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/out.params"));

  Cluster c(2);
  const std::string id = testing::submit(c, job + " --set optimizer.sgd.learningRate=1e200");
  r = c.run("wait " + id + " --timeout 60");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(stoppedAtStep2(r.output)) << r.output;
  const auto info = testing::waitForState(c, id, "FAILED", 1);
  EXPECT_TRUE(stoppedAtStep2(info["reason"].get<std::string>())) << info.dump();
}

// A sweep: one job per combination, as an array N_0, N_1, ... named after its values; at most
// --max-running of them at once; one table of them all, best first.
TEST(Sweep, MakesAnArrayOfJobsAndOneTableOfThem) {
  Cluster c(2);
  TempDir dir;
  const std::string quick = dir.write(
      "quick.capnp",
      testing::jobText("name = \"lin\", " + testing::linregJob() + "epochs = 3, workers = 1"));
  auto r = c.run("submit " + quick +
                 " --sweep optimizer.sgd.learningRate=0.1,0.01 --sweep batchSize=10,20 --parsable");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string array = r.output.substr(0, r.output.find('_'));
  EXPECT_EQ(r.output, array + "_0\n" + array + "_1\n" + array + "_2\n" + array + "_3\n");
  r = c.run("wait " + array);  // the array's id: all its jobs
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("job " + array + "_3 COMPLETED"), std::string::npos) << r.output;
  auto status = nlohmann::json::parse(c.run("status --json").output)["jobs"];
  ASSERT_EQ(status.size(), 4u);
  // The first axis varies slowest.
  EXPECT_EQ(status[1]["name"], "lin[optimizer.sgd.learningRate=0.1,batchSize=20]");
  EXPECT_EQ(status[2]["name"], "lin[optimizer.sgd.learningRate=0.01,batchSize=10]");

  // The table, sorted by test loss, lowest first; and by the largest index first.
  r = c.run("result " + array + " --json");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  auto jobs = nlohmann::json::parse(r.output)["jobs"];
  ASSERT_EQ(jobs.size(), 4u) << r.output;
  for (size_t i = 1; i < jobs.size(); ++i)
    EXPECT_LE(jobs[i - 1]["test_loss"].get<double>(), jobs[i]["test_loss"].get<double>())
        << r.output;
  EXPECT_EQ(jobs[0]["overrides"].get<std::string>().find("optimizer.sgd.learningRate="), 0u);
  r = c.run("result " + array + " --sort -id");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_LT(r.output.find(array + "_3 "), r.output.find(array + "_0 ")) << r.output;
  EXPECT_NE(r.output.find("optimizer.sgd.learningRate=0.01 batchSize=20"), std::string::npos)
      << r.output;
  r = c.run("result " + array + " --sort speed");
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find("--sort speed: expected one of test_loss,"), std::string::npos);

  // --max-running 1: the second waits for the first, saying why.
  const std::string slow = dir.write("slow.capnp", slowJob(1));
  r = c.run("submit " + slow + " --sweep seed=1,2 --max-running 1 --parsable");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string limited = r.output.substr(0, r.output.find('_'));
  testing::waitForState(c, limited + "_0", "RUNNING");
  EXPECT_EQ(testing::waitForState(c, limited + "_1", "PENDING", 3)["reason"], "JobArrayTaskLimit");
  EXPECT_EQ(c.run("cancel " + limited + "_0").exitCode, 0);
  testing::waitForState(c, limited + "_1", "RUNNING");
  EXPECT_EQ(c.run("cancel " + limited + "_1").exitCode, 0);

  // Bad sweeps are named, and submit nothing.
  const auto before = nlohmann::json::parse(c.run("status --json").output)["jobs"].size();
  const std::pair<std::string, std::string> bad[] = {
      {"--sweep batchSize=", "--sweep batchSize=: the list of values is empty"},
      {"--sweep batchSize=10,,20", "--sweep batchSize=10,,20: value 2 is empty"},
      {"--sweep batchSize", "--sweep batchSize: expected PATH=V1,V2,..."},
      {"--sweep 'data.linear.weights=[1,2],[3,4'",
       "--sweep data.linear.weights=[1,2],[3,4: a '[' without its ']'"},
      {"--sweep nosuch=1,2", "--sweep nosuch=1: no field nosuch in Job"},
      {"--sweep batchSize=10,x", "--sweep batchSize=x: batchSize expects a whole number"},
      {"--sweep batchSize=0,10", "--sweep batchSize=0: batchSize: must be > 0"},
      {"--sweep seed=1,2,3,4,5,6,7,8,9,10 --sweep batchSize=1,2,3,4,5,6,7,8,9,10 --sweep "
       "epochs=1,2,3,4,5,6,7,8,9,10,11",
       "--sweep: the sweep makes over 1000 jobs"}};
  for (const auto& [args, message] : bad) {
    r = c.run("submit " + quick + " " + args);
    EXPECT_EQ(r.exitCode, 2) << args << ": " << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << args << ": " << r.output;
  }
  EXPECT_EQ(c.run("submit " + quick + " --max-running 2").exitCode, 2);
  EXPECT_EQ(c.run("submit " + quick + " --sweep seed=1,2 --wait").exitCode, 2);
  EXPECT_EQ(nlohmann::json::parse(c.run("status --json").output)["jobs"].size(), before);
}

// examples/batch/lr_sweep.sh as a user runs it: a rate of 1e30 diverges (FAILED, exit status 1),
// and the best line is a COMPLETED job of a sane rate.
TEST(Examples, LrSweepWaitsAndPrintsTheBest) {
  Cluster c(2);
  TempDir dir;
  const std::string job = dir.write("mlp.capnp", sgdMlpJob(2000, 500, 1));
  auto r = runExample(c, "lr_sweep.sh", job + " 1e30,0.1,0.01 1");
  EXPECT_EQ(r.exitCode, 1) << r.output;  // the diverged rate FAILED
  EXPECT_NE(r.output.find("FAILED"), std::string::npos) << r.output;
  const auto best = r.output.find("best: ");
  ASSERT_NE(best, std::string::npos) << r.output;
  const std::string line = r.output.substr(best, r.output.find('\n', best) - best);
  EXPECT_NE(line.find("COMPLETED"), std::string::npos) << r.output;
  EXPECT_EQ(line.find("learningRate=1e30"), std::string::npos) << r.output;
}

// Fine-tuning: with a learning rate of 1e-12, a job started from another's parameters ends with
// those very parameters (to the 4 decimals printed); a model of other shapes is refused, naming the
// tensor.
TEST(InitFrom, StartsFromAnotherTrainingsParameters) {
  TempDir dir;
  const std::string job =
      dir.write("linreg.capnp", testing::jobText(testing::linregJob() + "epochs = 3, workers = 1"));
  auto learned = [](const std::string& output) {
    const auto at = output.find("learned: ");
    return at == std::string::npos ? std::string("(none)")
                                   : output.substr(at, output.find('\n', at) - at);
  };
  auto r = testing::tfmath("run " + job + " --save " + dir.path() + "/base.params");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string base = learned(r.output);
  r = testing::tfmath("run " + job + " --save " + dir.path() + "/tuned.params --init-from " +
                      dir.path() + "/base.params --set optimizer.sgd.learningRate=1e-12");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(learned(r.output), base) << r.output;
  r = testing::tfmath("run " + job + " --init-from " + dir.path() +
                      "/base.params --set data.linear.weights=[1.5]");
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(
      r.output.find("init-from: tensor layer0.w [3, 1] does not fit this job's layer0.w [1, 1]"),
      std::string::npos)
      << r.output;
  EXPECT_EQ(testing::tfmath("run " + job + " --init-from a --resume b").exitCode, 2);

  // On a cluster: from a job id, once that job COMPLETED.
  Cluster c(1);
  const std::string first = testing::submit(c, job);
  const std::string tuned =
      testing::submit(c, job + " --init-from " + first + " --set optimizer.sgd.learningRate=1e-12");
  EXPECT_EQ(c.run("wait " + first + " " + tuned).exitCode, 0);
  EXPECT_EQ(learned(c.run("result " + tuned).output), learned(c.run("result " + first).output));
  // From a job that FAILED: never runs.
  const std::string diverged = testing::submit(c, job + " --set optimizer.sgd.learningRate=1e200");
  const std::string orphan = testing::submit(c, job + " --init-from " + diverged);
  EXPECT_EQ(testing::waitForState(c, orphan, "CANCELLED")["reason"], "DependencyNeverSatisfied");
  // Other shapes: the job fails at its start, naming the tensor.
  const std::string other =
      testing::submit(c, job + " --init-from " + first + " --set data.linear.weights=[1.5]");
  const auto failed = testing::waitForState(c, other, "FAILED");
  EXPECT_NE(failed["reason"].get<std::string>().find(
                "init-from: tensor layer0.w [3, 1] does not fit this job's layer0.w [1, 1]"),
            std::string::npos)
      << failed.dump();
  r = c.run("submit " + job + " --init-from 999");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("init-from: no job 999"), std::string::npos) << r.output;
  // From a parameter file of the user's, sent with the job.
  const std::string fromFile =
      testing::submit(c, job + " --init-from " + dir.path() +
                             "/base.params --set optimizer.sgd.learningRate=1e-12");
  EXPECT_EQ(c.run("wait " + fromFile).exitCode, 0);
  EXPECT_EQ(learned(c.run("result " + fromFile).output), base);
  // From a job whose stored parameters are gone (an admin cleaned the state directory): never runs,
  // and says why.
  for (const char* name : {"/checkpoint.params", "/checkpoint.prev.params"})
    std::filesystem::remove(c.dir().path() + "/jobs/" + first + name);
  const std::string gone = testing::submit(c, job + " --init-from " + first);
  const auto cancelled = testing::waitForState(c, gone, "CANCELLED");
  EXPECT_EQ(cancelled["reason"].get<std::string>().rfind("init-from: ", 0), 0u) << cancelled.dump();
}

// Parameters sent with a job count toward --max-job-bytes: an MLP's 25,450 parameters (about
// 100 KB) are refused by a coordinator that takes 50 KB, and the error says what to do instead.
TEST(InitFrom, ParametersSentAlongCountTowardTheJobsSize) {
  TempDir dir;
  const std::string job = dir.write("mlp.capnp", sgdMlpJob(500, 100, 1));
  ASSERT_EQ(testing::tfmath("run " + job + " --save " + dir.path() + "/mlp.params").exitCode, 0);
  Cluster c(1, {"--max-job-bytes", "50000"});
  auto r = c.run("submit " + job + " --init-from " + dir.path() + "/mlp.params");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("bytes, over this coordinator's limit of 50000 (--max-job-bytes); start "
                          "from a job id instead"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(nlohmann::json::parse(c.run("status --json").output)["jobs"].size(), 0u);
}

// examples/batch/finetune.sh: the second job waits for the first and starts from its parameters.
TEST(Examples, FinetuneTrainsThenFineTunes) {
  Cluster c(2);
  TempDir dir;
  const std::string job = dir.write("mlp.capnp", sgdMlpJob(2000, 500, 2));
  auto r = runExample(c, "finetune.sh", job + " 2 0.01");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("trains 1, then fine-tunes it as 2"), std::string::npos) << r.output;
  auto status = nlohmann::json::parse(c.run("status --json").output)["jobs"];
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status[1]["name"], "fine-tuned");
  // Fine-tuning starts where the first ended: its one epoch's loss is below the first's first
  // epoch, which started from random parameters.
  auto first = nlohmann::json::parse(c.run("metrics 1 --json").output);
  auto second = nlohmann::json::parse(c.run("metrics 2 --json").output);
  double firstEpoch = NAN, tunedEpoch = NAN;
  for (const auto& p : first)
    if (p["kind"] == "epoch" && p["epoch"] == 0) firstEpoch = p["train_loss"];
  for (const auto& p : second)
    if (p["kind"] == "epoch" && p["epoch"] == 0) tunedEpoch = p["train_loss"];
  EXPECT_LT(tunedEpoch, firstEpoch) << first.dump() << second.dump();
}

// Slurm's dependencies, on a cluster of one worker kept busy by a long job.
TEST(Dependency, JobsWaitForOthersAndEndWhenTheyCanNeverRun) {
  Cluster c(1);
  TempDir dir;
  const std::string quick =
      dir.write("quick.capnp", testing::jobText(testing::linregJob() + "epochs = 2, workers = 1"));
  const std::string slow = dir.write("slow.capnp", slowJob(1));
  auto after = [&](const std::string& dependency) {
    return testing::submit(c, quick + " --dependency " + dependency);
  };
  const std::string a = testing::submit(c, slow);
  testing::waitForState(c, a, "RUNNING");
  const std::string ok = after("afterok:" + a), notOk = after("afternotok:" + a),
                    any = after("afterany:" + a);
  const std::string plain = testing::submit(c, quick);  // no dependency: not held back by them
  for (const auto& id : {ok, notOk, any})
    EXPECT_EQ(testing::waitForState(c, id, "PENDING", 5)["reason"], "Dependency");
  EXPECT_EQ(testing::waitForState(c, plain, "PENDING", 5)["reason"], "needs 1 worker(s), 0 idle");

  // A ends CANCELLED: afterok can never run; afternotok and afterany run.
  EXPECT_EQ(c.run("cancel " + a).exitCode, 0);
  EXPECT_EQ(testing::waitForState(c, ok, "CANCELLED")["reason"], "DependencyNeverSatisfied");
  testing::waitForState(c, notOk, "COMPLETED");
  testing::waitForState(c, any, "COMPLETED");
  testing::waitForState(c, plain, "COMPLETED");

  // On jobs already ended: at once, either way; and down a chain.
  testing::waitForState(c, after("afterok:" + notOk + ":" + any), "COMPLETED");
  EXPECT_EQ(testing::waitForState(c, after("afternotok:" + notOk), "CANCELLED")["reason"],
            "DependencyNeverSatisfied");
  const std::string held = testing::submit(c, slow);
  testing::waitForState(c, held, "RUNNING");
  const std::string first = after("afterok:" + held), second = after("afterok:" + first);
  EXPECT_EQ(testing::waitForState(c, second, "PENDING", 5)["reason"], "Dependency");
  EXPECT_EQ(c.run("cancel " + held).exitCode, 0);
  EXPECT_EQ(testing::waitForState(c, first, "CANCELLED")["reason"], "DependencyNeverSatisfied");
  EXPECT_EQ(testing::waitForState(c, second, "CANCELLED")["reason"], "DependencyNeverSatisfied");

  // Bad dependencies: named, and nothing submitted.
  const auto jobsBefore = nlohmann::json::parse(c.run("status --json").output)["jobs"].size();
  auto r = c.run("submit " + quick + " --dependency afterok:999");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("dependency: no job 999"), std::string::npos) << r.output;
  for (const std::string bad : {"before:1", "afterok", "afterok:", "afterok::1", "1"}) {
    r = c.run("submit " + quick + " --dependency " + bad);
    EXPECT_EQ(r.exitCode, 2) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("--dependency " + bad + ": expected afterok, afterany or afternotok"),
              std::string::npos)
        << r.output;
  }
  EXPECT_EQ(nlohmann::json::parse(c.run("status --json").output)["jobs"].size(), jobsBefore);
}

// A user may not make a job wait on another user's job.
TEST(Dependency, OnAnotherUsersJobIsRefused) {
  if (const std::string why = testing::whyNotAsNobody(); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  const std::string socket = testing::nogroupSocket(dir);
  Cluster c(1, {"--client-endpoint", "ipc://" + socket, "--client-socket-group", "nogroup"});
  const std::string job =
      dir.write("quick.capnp", testing::jobText(testing::linregJob() + "epochs = 2, workers = 1"));
  ::chmod(job.c_str(), 0644);
  const std::string roots = testing::submit(c, job);
  auto r = testing::tfmathAsNobody(dir.path(), "submit " + job + " --dependency afterok:" + roots +
                                                   " --coordinator ipc://" + socket);
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("dependency: job " + roots +
                          " belongs to root; only its owner or an admin may depend on it (you "
                          "are nobody)"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace tfmath
