// top_screen_test.cc: the full-screen `tfmath top` in a real terminal (tmux) against a real cluster
// with a running job and a waiting one: what the screen shows, every key, a resize, the exit
// status; and the same over `ssh -t` to a real sshd.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/cluster_fixture.h"
#include "tests/sshd_fixture.h"
#include "tests/tmux_fixture.h"

namespace tfmath {
namespace {

using testing::Cluster;
using testing::TempDir;
using testing::Tmux;

bool hasTmux() { return testing::shell("command -v tmux").exitCode == 0; }

bool has(const std::string& screen, const std::string& text) {
  return screen.find(text) != std::string::npos;
}

// The name of the job with id `id` as the list shows it: joined from the "name: " lines under its
// row (a row starts with the id after the two columns of the selection mark).
std::string shownName(const std::vector<std::string>& lines, const std::string& id) {
  std::string name;
  bool in = false;
  for (const auto& l : lines) {
    if (l.size() > 2 && l[2] != ' ') in = l.compare(2, id.size() + 1, id + " ") == 0;
    const auto at = l.find("name: ");
    if (in && at != std::string::npos) name += l.substr(at + 6);
  }
  return name;
}

// The selected job's id: the row marked "> ".
std::string selectedJob(const std::vector<std::string>& lines) {
  for (const auto& l : lines)
    if (l.rfind("> ", 0) == 0) return l.substr(2, l.find(' ', 2) - 2);
  return "";
}

TEST(TopScreen, ShowsTheClusterAndAnswersEveryKeyInATerminal) {
  if (!hasTmux()) GTEST_SKIP() << "no tmux";
  Cluster c(2);
  TempDir dir;
  // A name longer than a line, with no blank in it (the screen's capture trims trailing blanks).
  std::string name = "mlp_";
  while (name.size() < 150) name += "abcdefghij";
  const std::string mlp =
      dir.write("mlp.capnp", testing::jobText("name = \"" + name + "\", " +
                                              testing::fashionMlpJob(60000, 500, 64) +
                                              "epochs = 500, workers = 2"));
  const std::string linreg =
      dir.write("linreg.capnp", testing::jobText("name = \"second-linreg\", " +
                                                 testing::linregJob() + "epochs = 5, workers = 2"));
  const std::string running = testing::submit(c, mlp), waiting = testing::submit(c, linreg);
  testing::waitForState(c, running, "RUNNING");

  Tmux t(testing::tfmathBinary() + " top -d 0.3 --coordinator " + c.clientEndpoint(), 80, 24);
  ASSERT_TRUE(t.started()) << t.startError();
  std::string s = t.waitFor("jobs: 1 RUNNING 1 PENDING");
  ASSERT_TRUE(has(s, "jobs: 1 RUNNING 1 PENDING")) << s;
  EXPECT_TRUE(has(s, "workers: 2 busy, 0 idle (2 cpu, 0 gpu)")) << s;
  EXPECT_TRUE(has(s, "q quit")) << s;
  EXPECT_TRUE(has(s, "s sort (state)")) << s;
  // The whole name, over lines that fit 80 columns; the running job first and selected.
  auto lines = t.lines();
  EXPECT_EQ(lines.size(), 24u);
  EXPECT_EQ(shownName(lines, running), name) << s;
  EXPECT_EQ(shownName(lines, waiting), "second-linreg") << s;
  EXPECT_EQ(selectedJob(lines), running) << s;

  // j and k (and the arrows) move the selection.
  t.keys("j");
  s = t.waitFor([&](const std::string&) { return selectedJob(t.lines()) == waiting; });
  EXPECT_EQ(selectedJob(t.lines()), waiting) << s;
  t.keys("Up");
  s = t.waitFor([&](const std::string&) { return selectedJob(t.lines()) == running; });
  EXPECT_EQ(selectedJob(t.lines()), running) << s;

  // s steps through the orders.
  t.keys("s");
  s = t.waitFor("s sort (user)");
  EXPECT_TRUE(has(s, "s sort (user)")) << s;
  t.keys("s s s s");
  s = t.waitFor("s sort (state)");
  EXPECT_TRUE(has(s, "s sort (state)")) << s;

  // / filters the jobs; Esc leaves the filter as it was; an empty filter shows all again.
  t.keys("/");
  t.type("LINREG");
  s = t.waitFor("filter jobs: LINREG_");
  EXPECT_TRUE(has(s, "filter jobs: LINREG_")) << s;
  t.keys("Enter");
  s = t.waitFor([](const std::string& s) { return !has(s, "mlp_abc") && has(s, "(LINREG)"); });
  EXPECT_FALSE(has(s, "mlp_abc")) << s;
  EXPECT_TRUE(has(s, "second-linreg")) << s;
  EXPECT_EQ(selectedJob(t.lines()), waiting) << s;
  t.keys("/");
  t.type("nothing-like-it");
  t.keys("Escape");
  s = t.waitFor("(LINREG)");
  EXPECT_TRUE(has(s, "second-linreg")) << s;
  t.keys("/ BSpace BSpace BSpace BSpace BSpace BSpace Enter");
  s = t.waitFor([](const std::string& s) { return has(s, "mlp_abc") && !has(s, "(LINREG)"); });
  EXPECT_TRUE(has(s, "mlp_abc")) << s;

  // c asks first: n leaves the job, y cancels it.
  t.keys("c");
  s = t.waitFor("cancel job " + waiting + "? y/n");
  EXPECT_TRUE(has(s, "cancel job " + waiting + "? y/n")) << s;
  t.keys("n");
  s = t.waitFor("job " + waiting + " left running");
  EXPECT_TRUE(has(s, "job " + waiting + " left running")) << s;
  EXPECT_EQ(testing::waitForState(c, waiting, "PENDING", 1)["state"], "PENDING");
  t.keys("c");
  t.waitFor("? y/n");
  t.keys("y");
  // The refreshed list and the cancel's answer may reach the screen in either order.
  s = t.waitFor([&](const std::string& s) {
    return has(s, "1 CANCELLED") && has(s, "job " + waiting + " cancelled");
  });
  EXPECT_TRUE(has(s, "job " + waiting + " cancelled")) << s;
  EXPECT_TRUE(has(s, "jobs: 1 RUNNING 0 PENDING 0 COMPLETED 0 FAILED 1 CANCELLED")) << s;
  EXPECT_EQ(testing::waitForState(c, waiting, "CANCELLED", 1)["state"], "CANCELLED");

  // Enter opens the running job's detail: each rank's timings, the loss plot, the epochs' test
  // figures, and, further down, the log and each layer's formula.
  t.keys("Home Enter");
  s = t.waitFor([](const std::string& s) {
    return has(s, "RANKS") && has(s, "  1    ") && has(s, "LOSS (* train") && has(s, "*");
  });
  EXPECT_TRUE(has(s, "job " + running + "   RUNNING")) << s;
  EXPECT_TRUE(has(s, "  0    ")) << s;  // rank 0's timings
  EXPECT_TRUE(has(s, "  1    ")) << s;
  // A page down: the plot's x axis, the epochs' figures, the log's last lines.
  t.keys("NPage");
  s = t.waitFor([](const std::string& s) {
    return has(s, "steps 0") && has(s, "LOG (its last lines") && has(s, "samples/s");
  });
  EXPECT_TRUE(has(s, "steps 0")) << s;
  EXPECT_TRUE(has(s, "  epoch 1: train loss")) << s;
  EXPECT_TRUE(has(s, "LOG (its last lines")) << s;
  EXPECT_TRUE(has(s, "samples/s")) << s;  // an epoch's log line
  // The end: each layer's formula.
  t.keys("End");
  s = t.waitFor("relu: y = \\max(0, x)");
  EXPECT_TRUE(has(s, "model[1].dense (dense = (units = 32, activation = relu))")) << s;
  EXPECT_TRUE(has(s, "dense: Y = XW + b")) << s;
  EXPECT_TRUE(has(s, "relu: y = \\max(0, x)")) << s;
  EXPECT_TRUE(has(s, "loss softmaxCrossEntropy")) << s;
  // Esc comes back to the list.
  t.keys("Escape");
  s = t.waitFor("WORKER");
  EXPECT_TRUE(has(s, "WORKER")) << s;

  // A resize redraws at the new size: the name wraps at 60 columns and is still whole.
  t.resize(60, 20);
  s = t.waitFor([&](const std::string& now) {
    auto l = t.lines();
    return l.size() == 20 && shownName(l, running) == name && has(now, "q quit");
  });
  lines = t.lines();
  EXPECT_EQ(lines.size(), 20u) << s;
  EXPECT_EQ(shownName(lines, running), name) << s;
  for (const auto& l : lines)
    if (l.find("name: ") != std::string::npos) {
      EXPECT_LE(l.size(), 60u) << s;
    }

  // A coordinator that stops: the last screen stays, with the error under it.
  EXPECT_EQ(c.run("cancel " + running).exitCode, 0);
  c.stopCoordinator();
  s = t.waitFor("nothing listens on the coordinator's socket", 30);
  EXPECT_TRUE(has(s, "nothing listens on the coordinator's socket")) << s;
  EXPECT_TRUE(has(s, "mlp_abc")) << s;

  // q quits with status 0.
  t.keys("q");
  EXPECT_EQ(t.waitForExit(), 0) << t.screen();
}

// Another user (nobody, through the socket's group) sees the job, but its cancel is refused, as
// `tfmath cancel`'s would be, and the job's metrics and log are not shown to them.
TEST(TopScreen, AnotherUsersCancelIsRefusedAndSaysWhy) {
  if (!hasTmux()) GTEST_SKIP() << "no tmux";
  if (const std::string why = testing::whyNotAsNobody(); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  const std::string socket = testing::nogroupSocket(dir);
  Cluster c(1, {"--client-endpoint", "ipc://" + socket, "--client-socket-group", "nogroup"});
  const std::string job =
      dir.write("mlp.capnp",
                testing::jobText("name = \"roots-job\", " + testing::fashionMlpJob(60000, 500, 64) +
                                 "epochs = 500, workers = 1"));
  const std::string id = testing::submit(c, job);
  testing::waitForState(c, id, "RUNNING");
  ASSERT_EQ(testing::tfmathAsNobody(dir.path(), "--version").exitCode, 0);  // copies the binary

  Tmux t("su nobody -s /bin/sh -c '" + dir.path() + "/tfmath top -d 0.3 --coordinator ipc://" +
             socket + "'",
         80, 24);
  ASSERT_TRUE(t.started()) << t.startError();
  std::string s = t.waitFor("name: roots-job");
  ASSERT_TRUE(has(s, "name: roots-job")) << s;
  t.keys("c");
  t.waitFor("? y/n");
  t.keys("y");
  s = t.waitFor("not cancelled: ");
  EXPECT_TRUE(has(s, "not cancelled: job " + id + " belongs to root; only its owner or an admin"))
      << s;
  EXPECT_TRUE(has(s, "(you are nobody)")) << s;  // the whole reason, wrapped, not cut
  EXPECT_EQ(testing::waitForState(c, id, "RUNNING", 1)["state"], "RUNNING");
  t.keys("Enter");
  s = t.waitFor("logs of it");
  EXPECT_TRUE(has(s, "metrics of it")) << s;  // the refusals, in the sections they leave empty
  EXPECT_TRUE(has(s, "logs of it")) << s;
  EXPECT_TRUE(has(s, "model[0].flatten")) << s;  // the rest is shown
  t.keys("q");
  EXPECT_EQ(t.waitForExit(), 0) << t.screen();
  EXPECT_EQ(c.run("cancel " + id).exitCode, 0);
}

// Over `ssh -t`, as users run it on a cluster's login host: the locale there is C, so the view
// keeps to ASCII; q quits and ssh returns its status.
TEST(TopScreen, WorksOverSshWithATerminal) {
  if (!hasTmux()) GTEST_SKIP() << "no tmux";
  if (!std::filesystem::exists(testing::kSshd)) GTEST_SKIP() << "no sshd (openssh-server)";
  Cluster c(1);
  testing::SshServer server(
      {"PATH=" + std::filesystem::path(TFMATH_BINARY).parent_path().string() + ":/usr/bin:/bin",
       "TFMATH_COORDINATOR=" + c.clientEndpoint()});
  ASSERT_TRUE(server.ready()) << server.log();
  TempDir dir;
  const std::string job =
      dir.write("mlp.capnp",
                testing::jobText("name = \"over-ssh\", " + testing::fashionMlpJob(60000, 500, 64) +
                                 "epochs = 500, workers = 1"));
  const std::string id = testing::submit(c, job);
  testing::waitForState(c, id, "RUNNING");

  Tmux t(server.ssh() + " -t tfmath top -d 0.3", 80, 24);
  ASSERT_TRUE(t.started()) << t.startError();
  std::string s = t.waitFor("name: over-ssh");
  EXPECT_TRUE(has(s, "jobs: 1 RUNNING")) << s << server.log();
  EXPECT_TRUE(has(s, "workers: 1 busy")) << s;
  for (unsigned char ch : s) EXPECT_LT(ch, 0x80) << s;  // ASCII only
  t.keys("Enter");
  t.waitFor("RANKS");
  t.keys("End");
  s = t.waitFor("LAYERS");
  EXPECT_TRUE(has(s, "model[1].dense")) << s;
  t.keys("q");
  EXPECT_EQ(t.waitForExit(), 0) << t.screen();
  EXPECT_EQ(c.run("cancel " + id).exitCode, 0);
}

}  // namespace
}  // namespace tfmath
