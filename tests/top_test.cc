// top_test.cc: `tfmath top`'s snapshot: rendering worked out on a status reply built by hand, and
// the real thing against a cluster with a running job.
#include <capnp/message.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli/job_detail.h"
#include "cli/top_view.h"
#include "tests/cluster_fixture.h"

namespace tfmath {
namespace {

using testing::Cluster;
using testing::TempDir;

// A job of three ranks whose third steps 3× slower than the others, a name of 300 characters with
// a control character in it, and four recent losses.
struct Status {
  capnp::MallocMessageBuilder message;
  proto::StatusReply::Builder reply = message.initRoot<proto::StatusReply>();
  std::string name = std::string(150, 'a') + "\x1b[2J" + std::string(146, 'b');
  Status() {
    auto jobs = reply.initJobs(1);
    jobs[0].setId("7");
    jobs[0].setUser("alice");
    jobs[0].setName(name);
    jobs[0].setState(proto::JobState::RUNNING);
    jobs[0].setStep(50);
    jobs[0].setStepsTotal(200);
    jobs[0].setLoss(0.25);
    jobs[0].setSamplesPerSecond(1000);
    auto losses = jobs[0].initRecentLosses(4);
    const float values[] = {3, 2, 1, 1};
    for (unsigned i = 0; i < 4; ++i) losses.set(i, values[i]);
    auto workers = reply.initWorkers(4);
    const double steps[] = {0.1, 0.1, 0.3};
    for (unsigned i = 0; i < 3; ++i) {
      workers[i].setId("w" + std::to_string(i));
      workers[i].setDevice("cpu");
      workers[i].setBusy(true);
      workers[i].setJobId("7");
      workers[i].setRank(i);
      workers[i].setStepSeconds(steps[i]);
      workers[i].setAllreduceSeconds(0.05);
      workers[i].initLoad().setCpuPercent(97);
      workers[i].getLoad().setRssBytes(3u << 20);
    }
    workers[3].setId("w3");
    workers[3].setDevice("cpu");
  }
};

TEST(Top, TheSnapshotShowsEverythingAndCutsNoName) {
  Status s;
  const auto status = s.reply.asReader();
  EXPECT_FALSE(cli::isStraggler(status, status.getWorkers()[0]));
  EXPECT_TRUE(cli::isStraggler(status, status.getWorkers()[2]));   // 0.3 s > 1.5 × 0.1 s
  EXPECT_FALSE(cli::isStraggler(status, status.getWorkers()[3]));  // idle
  // 3, 2, 1, 1 from 1 to 3 on eight levels: 7, 3.5 → 4, 0, 0.
  EXPECT_EQ(cli::sparkline(status.getJobs()[0].getRecentLosses()), "█▅▁▁");
  const std::string text = cli::renderTop(status, 80, 0);
  EXPECT_NE(text.find("workers: 3 busy, 1 idle (4 cpu, 0 gpu)"), std::string::npos) << text;
  EXPECT_NE(text.find("1 RUNNING"), std::string::npos) << text;
  EXPECT_NE(text.find("straggler"), std::string::npos) << text;
  EXPECT_NE(text.find(" 25%"), std::string::npos) << text;
  EXPECT_NE(text.find("█▅▁▁"), std::string::npos) << text;
  EXPECT_NE(text.find("300.0"), std::string::npos) << text;  // the straggler's step, in ms
  EXPECT_NE(text.find("16.7"), std::string::npos) << text;   // its allreduce share, 0.05 / 0.3
  // The whole name, escaped, over several lines; nothing of the raw escape.
  std::string joined;
  for (size_t at = 0; (at = text.find("name: ", at)) != std::string::npos;) {
    at += 6;
    joined += text.substr(at, text.find('\n', at) - at);
  }
  EXPECT_EQ(joined, std::string(150, 'a') + "\\x1b[2J" + std::string(146, 'b'));
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  for (size_t at = 0, next; at < text.size(); at = next + 1) {
    next = text.find('\n', at);
    if (text.compare(at, 11, "     name: ") == 0) {
      EXPECT_LE(next - at, 80u);
    }
  }
  // Every line fits 80 columns (one column per UTF-8 character).
  for (size_t at = 0, next; at < text.size(); at = next + 1) {
    next = text.find('\n', at);
    size_t columns = 0;
    for (size_t i = at; i < next; ++i)
      columns += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    EXPECT_LE(columns, 80u) << text.substr(at, next - at);
  }
  const auto json = cli::topJson(status);
  EXPECT_EQ(json["workers"][2]["straggler"], true);
  EXPECT_EQ(json["summary"]["jobs"]["RUNNING"], 1);
}

// Worked out by hand: 20 plot columns and 4 rows; (0, 1) at the top left, (100, 0) at the bottom
// right, (50, 0.5) at column round(0.5 × 19) = 10 and row round(0.5 × 3) = 2.
TEST(Top, TheLossPlotPutsEachPointWhereTheScalesSay) {
  const auto plot = cli::lossPlot({{0, 1.0}, {100, 0.0}}, {{50, 0.5}}, 30, 6);
  ASSERT_EQ(plot.size(), 6u);
  EXPECT_EQ(plot[0], "       1 |*" + std::string(19, ' '));
  EXPECT_EQ(plot[1], std::string(9, ' ') + "|" + std::string(20, ' '));
  EXPECT_EQ(plot[2], std::string(9, ' ') + "|" + std::string(10, ' ') + "o" + std::string(9, ' '));
  EXPECT_EQ(plot[3], "       0 |" + std::string(19, ' ') + "*");
  EXPECT_EQ(plot[4], std::string(9, ' ') + "+" + std::string(20, '-'));
  EXPECT_EQ(plot[5], "    steps 0" + std::string(16, ' ') + "100");
  EXPECT_EQ(cli::lossPlot({}, {}, 30, 6), std::vector<std::string>{"(no losses yet)"});
}

TEST(Top, TheDetailShowsRanksFormulasAndTheLog) {
  capnp::MallocMessageBuilder message;
  auto job = message.initRoot<proto::JobInfo>();
  job.setId("4");
  job.setName("two layers");
  job.setState(proto::JobState::RUNNING);
  auto ranks = job.initRanks(2);
  ranks.set(0, "host:1");
  ranks.set(1, "host:2");
  auto model = job.initModel(2);
  model[0].initDense().setUnits(8);
  model[0].getDense().setActivation(proto::Activation::TANH);
  model[1].initDense().setUnits(1);
  job.setLossRule(proto::Loss::MSE);
  capnp::MallocMessageBuilder history;
  auto points = history.initRoot<proto::MetricsSeries>().initPoints(3);
  for (unsigned r = 0; r < 2; ++r) {
    points[r].setRank(r);
    points[r].setStep(10);
    points[r].setTrainLoss(0.5);
    points[r].setStepSeconds(r == 0 ? 0.002 : 0.008);
    points[r].setAllreduceSeconds(0.001);
    points[r].setInputSeconds(0.0005);
  }
  points[2].setKind(proto::MetricsPoint::Kind::EPOCH);
  points[2].setStep(10);
  points[2].setTrainLoss(0.5);
  points[2].setTestLoss(0.25);
  points[2].setTestAccuracy(NAN);
  const std::deque<std::string> log{"started on 2 worker(s)", "epoch 1/3: train loss 0.5"};
  cli::JobDetailInput in{.job = job.asReader(),
                         .points = history.getRoot<proto::MetricsSeries>().asReader().getPoints(),
                         .metricsProblem = "",
                         .logTail = &log,
                         .logProblem = "",
                         .nowMs = 0};
  const auto lines = cli::jobDetailLines(in, 80, cli::Glyphs::ascii);
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  // Rank 1 steps in 8 ms, 4× rank 0's: over 1.5× the median of two (5 ms), a straggler.
  EXPECT_NE(text.find("  0    host:1                 2.00     1.00     0.50   50.0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  1    host:2                 8.00     1.00     0.50   12.5 straggler\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("epoch 1: train loss 0.5000, test loss 0.2500\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  model[0].dense (dense = (units = 8, activation = tanh))\n"
                      "      dense: Y = XW + b\n      tanh: y = \\tanh(x)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  model[1].dense (dense = (units = 1, activation = none))\n"
                      "      dense: Y = XW + b\n  loss mse\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  started on 2 worker(s)\n  epoch 1/3: train loss 0.5\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("     name: two layers\n"), std::string::npos) << text;
}

TEST(Top, JobsAreFilteredAndOrderedAsAsked) {
  capnp::MallocMessageBuilder message;
  auto jobs = message.initRoot<proto::StatusReply>().initJobs(4);
  const char* ids[] = {"9", "10", "11", "2"};
  const char* users[] = {"carol", "alice", "bob", "alice"};
  const proto::JobState states[] = {proto::JobState::COMPLETED, proto::JobState::RUNNING,
                                    proto::JobState::PENDING, proto::JobState::RUNNING};
  const double speeds[] = {0, 100, 0, 300};
  for (unsigned i = 0; i < 4; ++i) {
    jobs[i].setId(ids[i]);
    jobs[i].setUser(users[i]);
    jobs[i].setName(std::string("job-") + ids[i]);
    jobs[i].setState(states[i]);
    jobs[i].setSamplesPerSecond(speeds[i]);
    jobs[i].setStep(i);
    jobs[i].setStepsTotal(4);
  }
  const auto status = message.getRoot<proto::StatusReply>().asReader();
  using V = std::vector<unsigned>;
  EXPECT_EQ(cli::shownJobs(status, "", cli::JobOrder::id), (V{3, 0, 1, 2}));  // 2, 9, 10, 11
  EXPECT_EQ(cli::shownJobs(status, "", cli::JobOrder::state), (V{1, 3, 2, 0}));
  EXPECT_EQ(cli::shownJobs(status, "", cli::JobOrder::user), (V{1, 3, 2, 0}));
  EXPECT_EQ(cli::shownJobs(status, "", cli::JobOrder::speed), (V{3, 1, 0, 2}));
  EXPECT_EQ(cli::shownJobs(status, "", cli::JobOrder::progress), (V{3, 2, 1, 0}));
  EXPECT_EQ(cli::shownJobs(status, "ALICE", cli::JobOrder::id), (V{3, 1}));
  EXPECT_EQ(cli::shownJobs(status, "pending", cli::JobOrder::id), (V{2}));
  EXPECT_EQ(cli::shownJobs(status, "job-1", cli::JobOrder::id), (V{1, 2}));
  EXPECT_EQ(cli::shownJobs(status, "nobody", cli::JobOrder::id), V{});
  // Wrapping gives the text back whole, breaking after blanks where it can.
  const std::string text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu";
  const auto lines = cli::wrapText(text, 30, "  ");
  std::string joined;
  for (const auto& l : lines) {
    EXPECT_LE(l.size(), 30u);
    joined += l.substr(2);
  }
  EXPECT_EQ(joined, text);
  EXPECT_EQ(lines[0], "  alpha beta gamma delta ");
}

// Against a real cluster with a running job: the workers report their load, their ranks' step
// times arrive, and the job's loss trend fills.
TEST(Top, ShowsARunningClusterOnceAndAsJson) {
  Cluster c(2);
  TempDir dir;
  const std::string job = dir.write(
      "mlp.capnp", testing::jobText("name = \"mlp\", " + testing::fashionMlpJob(60000, 500, 64) +
                                    "epochs = 50, workers = 2"));
  ASSERT_EQ(c.run("submit " + job).exitCode, 0);
  nlohmann::json snapshot;
  for (int i = 0; i < 100; ++i) {
    auto r = c.run("top --json");
    ASSERT_EQ(r.exitCode, 0) << r.output;
    snapshot = nlohmann::json::parse(r.output);
    if (snapshot["jobs"][0]["recent_losses"].size() >= 2 &&
        snapshot["workers"][0]["step_s"].get<double>() > 0 &&
        snapshot["workers"][1]["step_s"].get<double>() > 0)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (const auto& w : snapshot["workers"]) {
    EXPECT_EQ(w["state"], "busy") << snapshot.dump(2);
    EXPECT_GT(w["step_s"].get<double>(), 0) << snapshot.dump(2);
    EXPECT_GE(w["step_s"].get<double>(), w["allreduce_s"].get<double>());
    EXPECT_GT(w["rss_bytes"].get<double>(), 1 << 20) << snapshot.dump(2);
    EXPECT_TRUE(w["cpu_percent"].is_number()) << snapshot.dump(2);
  }
  EXPECT_GE(snapshot["jobs"][0]["recent_losses"].size(), 2u) << snapshot.dump(2);
  auto r = c.run("top --once");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("workers: 2 busy, 0 idle"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("RUNNING"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("name: mlp"), std::string::npos) << r.output;
  EXPECT_EQ(c.run("cancel 1").exitCode, 0);
}

}  // namespace
}  // namespace tfmath
