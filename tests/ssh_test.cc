// ssh_test.cc: reaching the coordinator over SSH with the stock OpenSSH client against
// a real sshd: submit (a file, and a job on stdin), wait, status, logs, result and cancel, with the
// coordinator found through the session's environment as an admin would configure it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/sshd_fixture.h"

namespace tfmath {
namespace {

using testing::Cluster;
using testing::SshServer;

std::string firstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

TEST(Ssh, UsersSubmitWatchAndCancelOverSsh) {
  if (!std::filesystem::exists(testing::kSshd)) GTEST_SKIP() << "no sshd (openssh-server)";
  Cluster c(2);  // examples/linreg.capnp asks for 2 workers
  // What an admin puts in sshd_config (or /etc/tfmath/client.conf and PATH): where tfmath is and
  // where its coordinator listens.
  SshServer server(
      {"PATH=" + std::filesystem::path(TFMATH_BINARY).parent_path().string() + ":/usr/bin:/bin",
       "TFMATH_COORDINATOR=" + c.clientEndpoint()});
  ASSERT_TRUE(server.ready()) << server.log();
  const std::string ssh = server.ssh();

  // ssh cluster tfmath-submit job.capnp --wait
  auto r =
      testing::shell(ssh + " tfmath-submit " + TFMATH_SOURCE_DIR + "/examples/linreg.capnp --wait");
  ASSERT_EQ(r.exitCode, 0) << r.output << server.log();
  const std::string done = firstLine(r.output);
  EXPECT_NE(r.output.find("COMPLETED"), std::string::npos) << r.output;
  r = testing::shell(ssh + " tfmath-status --json");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  auto status = nlohmann::json::parse(r.output);
  EXPECT_EQ(status["jobs"][0]["state"], "COMPLETED");
  EXPECT_EQ(status["jobs"][0]["user"], testing::userName());
  r = testing::shell(ssh + " tfmath-result " + done);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("w = "), std::string::npos) << r.output;
  r = testing::shell(ssh + " tfmath-logs " + done);
  EXPECT_NE(r.output.find("submitted by " + testing::userName()), std::string::npos) << r.output;

  // ssh cluster tfmath-submit - < job.capnp: the file is only on the user's machine.
  testing::TempDir mine;
  const std::string job = mine.write(
      "long.capnp",
      testing::jobText("data = (linear = (samples = 100000, weights = [3.0], bias = 2.0)),"
                       "model = [(dense = (units = 1))], loss = mse,"
                       "optimizer = (sgd = (learningRate = 0.01)), batchSize = 4, epochs = 50,"));
  r = testing::shell(ssh + " tfmath-submit - < " + job);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string running = firstLine(r.output);
  r = testing::shell(ssh + " tfmath-cancel " + running);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  for (int i = 0; i < 100; ++i) {
    status = nlohmann::json::parse(c.run("status " + running + " --json").output);
    if (status["jobs"][0]["state"] == "CANCELLED") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status["jobs"][0]["state"], "CANCELLED") << status.dump();

  // Bad input over SSH gets the same named errors as locally.
  r = testing::shell("echo 'const job = (' | " + ssh + " tfmath-submit -");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.output.find("<stdin>:"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace tfmath
