// security_test.cc: docs/protocol.md §8 against a real coordinator and workers: CURVE on every tcp
// endpoint, ZAP refusing unknown worker and client keys, plaintext peers refused without a hang,
// job ownership between two users, and secret key files with loose permissions refused.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "coordinator/authenticator.h"
#include "net/curve_keys.h"
#include "tests/cluster_fixture.h"

namespace tfmath {
namespace {

using testing::Cluster;
using testing::TempDir;

// A user of a tcp coordinator: their key files and the environment that makes the CLI use them.
struct RemoteUser {
  RemoteUser(const TempDir& dir, const std::string& name) : name(name) {
    secret = dir.path() + "/" + name + ".key";
    pair = generateKeyPair();
    writeKeyPair(pair, secret, dir.path() + "/" + name + ".pub");
  }
  // Runs the CLI as this user against `c`.
  testing::CommandResult run(const Cluster& c, const std::string& args) const {
    const std::string coordinatorKey =
        readPublicKeyFile(ClusterKeyFiles(c.keysDir()).coordinatorPublic());
    return testing::shell("TFMATH_COORDINATOR_KEY='" + coordinatorKey +
                          "' TFMATH_CLIENT_KEY=" + secret + " " + TFMATH_BINARY + " " + args +
                          " --coordinator " + c.clientEndpoint());
  }
  std::string name, secret;
  KeyPair pair;
};

// A coordinator that takes clients on tcp, with alice and bob authorized and carol as admin.
struct TcpCluster {
  TcpCluster(int workers)
      : alice(keys, "alice"), bob(keys, "bob"), carol(keys, "carol"), stranger(keys, "mallory") {
    keys.write("authorized_clients", "# who may connect\n" + alice.pair.publicKey + " alice\n" +
                                         bob.pair.publicKey + " bob\n" + carol.pair.publicKey +
                                         " carol\n");
    cluster = std::make_unique<Cluster>(
        workers,
        std::vector<std::string>{"--client-endpoint", "tcp://127.0.0.1:*", "--authorized-clients",
                                 keys.path() + "/authorized_clients", "--admin", "carol"});
  }
  TempDir keys;
  RemoteUser alice, bob, carol, stranger;
  std::unique_ptr<Cluster> cluster;
};

std::string firstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

TEST(Security, WorkerWithoutTheClusterKeyCannotJoin) {
  Cluster c(1);
  // A worker with another cluster's worker key (the coordinator's public key is no secret): ZAP
  // refuses the handshake and the coordinator logs it.
  TempDir other;
  ASSERT_EQ(testing::tfmath("keygen --cluster " + other.path() + "/keys").exitCode, 0);
  std::filesystem::copy_file(ClusterKeyFiles(c.keysDir()).coordinatorPublic(),
                             other.path() + "/keys/coordinator.pub",
                             std::filesystem::copy_options::overwrite_existing);
  const pid_t stranger = testing::spawnTfmath(
      {"worker", "--coordinator", c.workerEndpoint(), "--keys", other.path() + "/keys"},
      other.path() + "/worker.log");
  std::string log;
  for (int i = 0; i < 100 && log.find("refused a workers connection") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    log = c.coordinatorLog();
  }
  EXPECT_NE(log.find("refused a workers connection from 127.0.0.1"), std::string::npos) << log;
  EXPECT_NE(log.find("is not the cluster's worker key"), std::string::npos) << log;
  auto status = nlohmann::json::parse(c.run("status --json").output);
  EXPECT_EQ(status["workers"].size(), 1u) << status.dump();
  kill(stranger, SIGKILL);
  waitpid(stranger, nullptr, 0);
  // A worker with no keys at all does not start, and says what it needs.
  auto r = testing::tfmath("worker --coordinator " + c.workerEndpoint());
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("--keys"), std::string::npos) << r.output;
  // A plaintext peer on the worker socket gets no answer (5 s receive timeout), and the
  // coordinator serves on. (It logs the failed handshake as best it can: which side notices the
  // mismatch first is a race.)
  testing::RawPeer plaintext(c.workerEndpoint());
  capnp::MallocMessageBuilder b;
  wire::start(b).initRegister().setWorkerId("plaintext:1");
  EXPECT_EQ(plaintext.send(b), "");
  EXPECT_EQ(c.run("status").exitCode, 0);
}

TEST(Security, ClientsOverTcpNeedAnAuthorizedKey) {
  TcpCluster t(1);
  Cluster& c = *t.cluster;
  ASSERT_TRUE(c.clientEndpoint().starts_with("tcp://")) << c.clientEndpoint();
  // An authorized key works.
  auto r = t.alice.run(c, "status");
  EXPECT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
  // An unknown key is refused: a clear error at once, not a 15 s timeout.
  auto start = std::chrono::steady_clock::now();
  r = t.stranger.run(c, "status");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("refused this client's key"), std::string::npos) << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_NE(c.coordinatorLog().find("is not in " + t.keys.path() + "/authorized_clients"),
            std::string::npos)
      << c.coordinatorLog();
  // A plaintext client (no coordinator key configured) fails with a clear error, fast.
  start = std::chrono::steady_clock::now();
  r = testing::shell("env -u TFMATH_COORDINATOR_KEY HOME=" + t.keys.path() + " " + TFMATH_BINARY +
                     " status --coordinator " + c.clientEndpoint());
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("requires an encrypted (CURVE) connection"), std::string::npos)
      << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // A client key with loose permissions is refused before anything is sent.
  chmod(t.bob.secret.c_str(), 0644);
  r = t.bob.run(c, "status");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("its mode is 0644; run chmod 600 " + t.bob.secret), std::string::npos)
      << r.output;
}

TEST(Security, OnlyTheOwnerOrAnAdminMayCancelOrReadAJob) {
  TcpCluster t(1);
  Cluster& c = *t.cluster;
  // alice's job runs long enough to be cancelled: many epochs of linreg.
  TempDir jobs;
  const std::string job = jobs.write(
      "long.capnp",
      testing::jobText("data = (linear = (samples = 100000, weights = [3.0], bias = 2.0)),"
                       "model = [(dense = (units = 1))], loss = mse,"
                       "optimizer = (sgd = (learningRate = 0.01)), batchSize = 4, epochs = 50,"));
  auto r = t.alice.run(c, "submit " + job);
  ASSERT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
  const std::string id = firstLine(r.output);
  // Anyone authorized may list jobs, and the owner is the authenticated user.
  r = t.bob.run(c, "status --json");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["jobs"][0]["user"], "alice");
  // bob may not cancel alice's job, nor read its logs or result.
  for (const std::string action : {"cancel ", "logs ", "result "}) {
    r = t.bob.run(c, action + id);
    EXPECT_EQ(r.exitCode, 1) << action << r.output;
    EXPECT_NE(r.output.find("job " + id + " belongs to alice; only its owner or an admin may"),
              std::string::npos)
        << action << r.output;
  }
  // carol, an admin, may read its logs; alice may cancel it.
  r = t.carol.run(c, "logs " + id);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("submitted by alice"), std::string::npos) << r.output;
  r = t.alice.run(c, "cancel " + id);
  EXPECT_EQ(r.exitCode, 0) << r.output;
}

TEST(Security, SecretKeyFilesWithLoosePermissionsAreRefused) {
  TempDir dir;
  ASSERT_EQ(testing::tfmath("keygen --cluster " + dir.path() + "/keys").exitCode, 0);
  const std::string coordinatorKey = dir.path() + "/keys/coordinator.key";
  struct stat st {};
  ASSERT_EQ(stat(coordinatorKey.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Group-readable: the coordinator refuses to start, and says how to fix it.
  chmod(coordinatorKey.c_str(), 0640);
  auto r = testing::tfmath("coordinator --state-dir " + dir.path() + "/state --keys " + dir.path() +
                           "/keys --worker-endpoint tcp://127.0.0.1:*");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find(coordinatorKey + ": a secret key file must be readable by its owner "
                                           "only, but its mode is 0640; run chmod 600"),
            std::string::npos)
      << r.output;
  // World-readable worker key: the worker refuses to start.
  chmod((dir.path() + "/keys/worker.key").c_str(), 0604);
  r = testing::tfmath("worker --coordinator tcp://127.0.0.1:1 --keys " + dir.path() + "/keys");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("its mode is 0604"), std::string::npos) << r.output;
  // keygen never overwrites keys.
  r = testing::tfmath("keygen --cluster " + dir.path() + "/keys");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("already holds cluster keys"), std::string::npos) << r.output;
}

TEST(Security, AuthorizedClientsFileTellsKeysFromComments) {
  TempDir dir;
  // Z85 keys may hold '#' but never start with it: '#' is digit 84, and 84·85⁴ overflows 32 bits.
  EXPECT_THROW(checkedPublicKey("#" + std::string(39, '0'), "k"), KeyError);
  std::string key;
  while (key.find('#') == std::string::npos) key = generateKeyPair().publicKey;
  const auto users =
      readAuthorizedClients(dir.write("auth", "# a comment\n  # indented\n" + key + " dora\n\n"));
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users.at(key), "dora");
  // A bad line names the file and line.
  const std::string bad = dir.write("bad", "# ok\nnot-a-key alice\n");
  try {
    readAuthorizedClients(bad);
    ADD_FAILURE() << "a bad line was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(bad + ":2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tfmath
