// metrics_test.cc: the metrics history: windows cut from a rank's step reports, files that stay
// bounded without losing their sums, and `tfmath run` writing what it prints.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <vector>

#include "base/durable_file.h"
#include "jobs/job_error.h"
#include "jobs/metrics_file.h"
#include "tests/cluster_fixture.h"
#include "tests/test_util.h"
#include "train/metrics_recorder.h"

namespace tfmath {
namespace {

using testing::TempDir;

// Copies of the points a recorder emits.
struct Collected {
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> messages;
  MetricsRecorder::Sink sink() {
    return [this](proto::MetricsPoint::Reader p) {
      messages.push_back(std::make_unique<capnp::MallocMessageBuilder>());
      messages.back()->setRoot(p);
    };
  }
  proto::MetricsPoint::Reader operator[](size_t i) const {
    return messages.at(i)->getRoot<proto::MetricsPoint>().asReader();
  }
};

// Ten steps of 0.25 s and 8 samples with losses 1..10 on rank 0, then the epoch: windows close once
// a second of step time is in (after steps 4 and 8) and at the epoch's end (steps 9-10).
TEST(Metrics, WindowsCloseOnStepTimeAndAtTheEpochsEnd) {
  Collected out;
  MetricsRecorder recorder(0, out.sink(), std::chrono::seconds(1), [] { return int64_t{42}; });
  for (int i = 1; i <= 10; ++i) {
    StepReport r;
    r.epoch = 0;
    r.stepInEpoch = i;
    r.stepsPerEpoch = 10;
    r.globalStep = i;
    r.loss = i;
    r.samples = 8;
    r.stepSeconds = 0.25;
    r.allreduceSeconds = 0.05;
    r.inputSeconds = 0.01;
    recorder.onStep(r);
  }
  recorder.onEpoch(EpochReport{0, 5.5, Evaluation{0.7, 0.9, true}, 32});
  ASSERT_EQ(out.messages.size(), 4u);
  const uint32_t steps[] = {4, 4, 2};
  const double losses[] = {2.5, 6.5, 9.5};  // the mean of each window's losses
  for (int w = 0; w < 3; ++w) {
    EXPECT_EQ(out[w].getKind(), proto::MetricsPoint::Kind::WINDOW);
    EXPECT_EQ(out[w].getRank(), 0u);
    EXPECT_EQ(out[w].getSteps(), steps[w]);
    EXPECT_DOUBLE_EQ(out[w].getTrainLoss(), losses[w]);
    EXPECT_DOUBLE_EQ(out[w].getSamplesPerSecond(), 32.0);  // 8 samples / 0.25 s
    EXPECT_DOUBLE_EQ(out[w].getStepSeconds(), 0.25);
    EXPECT_DOUBLE_EQ(out[w].getAllreduceSeconds(), 0.05);
    EXPECT_DOUBLE_EQ(out[w].getInputSeconds(), 0.01);
    EXPECT_EQ(out[w].getTimeMs(), 42);
  }
  EXPECT_EQ(out[2].getStep(), 10u);
  EXPECT_EQ(out[3].getKind(), proto::MetricsPoint::Kind::EPOCH);
  EXPECT_EQ(out[3].getStep(), 10u);
  EXPECT_DOUBLE_EQ(out[3].getTestLoss(), 0.7);
  EXPECT_DOUBLE_EQ(out[3].getTestAccuracy(), 0.9);
  // Another rank has no evaluation: it reports windows only.
  Collected other;
  MetricsRecorder(2, other.sink()).onEpoch(EpochReport{0, 5.5, Evaluation{}, 32});
  EXPECT_TRUE(other.messages.empty());
}

// 2,000 windows of two interleaved ranks into a file that keeps at most 50: the file compacts each
// rank's windows, and what they add up to (steps, samples, the loss over all samples, the step
// time) is what went in, rank by rank.
TEST(Metrics, AFileStaysBoundedAndKeepsItsSums) {
  TempDir dir;
  const std::string path = dir.path() + "/run.metrics";
  MetricsFileWriter writer(path, false, MetricsFileWriter::Sync::everyPoint, 50);
  double samples = 0, lossSum = 0, seconds = 0;
  for (int i = 0; i < 2000; ++i) {
    capnp::MallocMessageBuilder m;
    auto p = m.initRoot<proto::MetricsPoint>();
    p.setKind(proto::MetricsPoint::Kind::WINDOW);
    p.setRank(i % 2);
    p.setEpoch(i / 400);
    p.setStep(3 * (i + 1));
    p.setSteps(3);
    p.setStepSeconds(0.01 * (1 + i % 7));
    p.setSamplesPerSecond(640.0 / (1 + i % 5));
    p.setTrainLoss(1.0 / (1 + i));
    const double s = p.getSamplesPerSecond() * p.getStepSeconds() * 3;
    samples += s;
    lossSum += p.getTrainLoss() * s;
    seconds += p.getStepSeconds() * 3;
    writer.append(p.asReader());
    if (i % 400 == 399) {
      capnp::MallocMessageBuilder e;
      auto q = e.initRoot<proto::MetricsPoint>();
      q.setKind(proto::MetricsPoint::Kind::EPOCH);
      q.setEpoch(i / 400);
      writer.append(q.asReader());
    }
  }
  auto series = readMetricsFile(path);
  auto points = series->getRoot<proto::MetricsSeries>().asReader().getPoints();
  size_t windows = 0, epochs = 0;
  uint64_t steps = 0, rankSteps[2] = {0, 0};
  double gotSamples = 0, gotLossSum = 0, gotSeconds = 0;
  for (auto p : points) {
    if (p.getKind() == proto::MetricsPoint::Kind::EPOCH) {
      EXPECT_EQ(p.getEpoch(), epochs++);
      continue;
    }
    ++windows;
    steps += p.getSteps();
    rankSteps[p.getRank()] += p.getSteps();
    const double s = p.getSamplesPerSecond() * p.getStepSeconds() * p.getSteps();
    gotSamples += s;
    gotLossSum += p.getTrainLoss() * s;
    gotSeconds += p.getStepSeconds() * p.getSteps();
  }
  EXPECT_LE(windows, 50u);
  EXPECT_GE(windows, 25u);
  EXPECT_EQ(epochs, 5u);
  EXPECT_EQ(steps, 6000u);
  EXPECT_EQ(rankSteps[0], 3000u);
  EXPECT_EQ(rankSteps[1], 3000u);
  EXPECT_NEAR(gotSamples / samples, 1, 1e-9);
  EXPECT_NEAR(gotLossSum / lossSum, 1, 1e-9);
  EXPECT_NEAR(gotSeconds / seconds, 1, 1e-9);
  EXPECT_EQ(points[points.size() - 1].getKind(), proto::MetricsPoint::Kind::EPOCH);
}

TEST(Metrics, AFileThatIsNotMetricsIsRefusedByName) {
  TempDir dir;
  const std::string odd = dir.write("odd.metrics", "12345");
  EXPECT_THROW(readMetricsFile(odd), JobError);
  // A point cut short, as a crash mid-write would leave it.
  const std::string path = dir.path() + "/cut.metrics";
  {
    MetricsFileWriter writer(path, false);
    capnp::MallocMessageBuilder m;
    m.initRoot<proto::MetricsPoint>().setSteps(1);
    writer.append(m.getRoot<proto::MetricsPoint>().asReader());
  }
  const std::string bytes = readWholeFile(path);
  const std::string cut = dir.write("cut2.metrics", bytes.substr(0, bytes.size() - 8));
  try {
    readMetricsFile(cut);
    ADD_FAILURE() << "read a cut file";
  } catch (const JobError& e) {
    EXPECT_NE(std::string(e.what()).find(cut + ": not a metrics file"), std::string::npos);
  }
  EXPECT_EQ(metricsPathFor("out/linreg.params"), "out/linreg.metrics");
  EXPECT_EQ(metricsPathFor("state"), "state.metrics");
}

// `tfmath run` writes a history whose epoch points are the epochs it printed, and whose windows
// add up to every step it took.
TEST(Metrics, RunWritesTheHistoryItPrints) {
  TempDir dir;
  const std::string params = dir.path() + "/linreg.params";
  auto r = testing::tfmath("run " + std::string(TFMATH_SOURCE_DIR) +
                           "/examples/linreg.capnp --save " + params);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  std::vector<double> printed;
  const std::regex line("epoch \\d+/10: train loss ([0-9.]+)");
  for (std::sregex_iterator it(r.output.begin(), r.output.end(), line), end; it != end; ++it)
    printed.push_back(std::stod((*it)[1]));
  ASSERT_EQ(printed.size(), 10u) << r.output;
  auto m = testing::tfmath("metrics " + dir.path() + "/linreg.metrics --json");
  ASSERT_EQ(m.exitCode, 0) << m.output;
  const auto points = nlohmann::json::parse(m.output);
  std::vector<double> epochs;
  uint64_t steps = 0;
  for (const auto& p : points) {
    if (p["kind"] == "epoch") {
      epochs.push_back(p["train_loss"]);
      EXPECT_TRUE(p["test_loss"].is_number());
    } else {
      steps += p["steps"].get<uint64_t>();
      EXPECT_LE(p["allreduce_s"].get<double>() + p["input_s"].get<double>(),
                p["step_s"].get<double>());
    }
  }
  ASSERT_EQ(epochs.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_NEAR(epochs[i], printed[i], 5e-5) << "epoch " << i + 1;
  EXPECT_EQ(steps, 100u);  // 10 epochs of 100 samples at batch 10
}

// A job on two workers: each rank's windows add up to every step of the job, rank 0's epoch points
// are the epochs its log shows, the allreduce takes time, and the history outlives a coordinator
// restart.
TEST(Metrics, AClusterJobKeepsEachRanksHistory) {
  testing::Cluster c(2);
  TempDir dir;
  const std::string job = dir.write(
      "mlp.capnp",
      testing::jobText(testing::fashionMlpJob(6000, 500, 64) + "epochs = 3, workers = 2"));
  auto r = c.run("submit " + job + " --wait");
  ASSERT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
  auto m = c.run("metrics 1 --json");
  ASSERT_EQ(m.exitCode, 0) << m.output;
  const auto points = nlohmann::json::parse(m.output);
  uint64_t steps[2] = {0, 0};
  std::vector<double> epochs;
  double allreduce = 0;
  for (const auto& p : points) {
    const unsigned rank = p["rank"];
    ASSERT_LT(rank, 2u);
    if (p["kind"] == "epoch") {
      EXPECT_EQ(rank, 0u);
      epochs.push_back(p["train_loss"]);
      EXPECT_GT(p["test_accuracy"].get<double>(), 0.5);
    } else {
      steps[rank] += p["steps"].get<uint64_t>();
      allreduce += p["allreduce_s"].get<double>();
    }
  }
  const uint64_t total = 3 * ((6000 + 63) / 64);  // 3 epochs of 94 steps
  EXPECT_EQ(steps[0], total);
  EXPECT_EQ(steps[1], total);
  EXPECT_GT(allreduce, 0);
  ASSERT_EQ(epochs.size(), 3u);
  const std::string log = c.run("logs 1").output;
  const std::regex line("epoch (\\d)/3: train loss ([0-9.]+)");
  size_t matched = 0;
  for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it, ++matched)
    EXPECT_NEAR(epochs.at(std::stoi((*it)[1]) - 1), std::stod((*it)[2]), 5e-5);
  EXPECT_EQ(matched, 3u) << log;
  c.stopCoordinator();
  c.startCoordinator();
  auto again = c.run("metrics 1 --json");
  ASSERT_EQ(again.exitCode, 0) << again.output;
  EXPECT_EQ(nlohmann::json::parse(again.output).size(), points.size());
}

}  // namespace
}  // namespace tfmath
