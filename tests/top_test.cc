// top_test.cc: `tfmath top`'s snapshot: rendering worked out on a status reply built by hand, and
// the real thing against a cluster with a running job.
#include <capnp/message.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>

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
  EXPECT_NE(text.find("300.00"), std::string::npos) << text;  // the straggler's step, in ms
  EXPECT_NE(text.find("16.7"), std::string::npos) << text;    // its allreduce share, 0.05 / 0.3
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
    if (text.compare(at, 12, "      name: ") == 0) {
      EXPECT_LE(next - at, 80u);
    }
  }
  const auto json = cli::topJson(status);
  EXPECT_EQ(json["workers"][2]["straggler"], true);
  EXPECT_EQ(json["summary"]["jobs"]["RUNNING"], 1);
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
