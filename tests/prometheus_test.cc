// prometheus_test.cc: the coordinator's Prometheus metrics: the exposition checked by promtool
// (Debian's prometheus package), OpenMetrics on request, and a real coordinator scraped while a
// job runs.
#include "coordinator/prometheus.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <regex>
#include <string>
#include <thread>

#include "tests/cluster_fixture.h"

namespace tfmath {
namespace {

using testing::Cluster;
using testing::TempDir;

// What promtool says of an exposition: "" when it accepts it; skips when promtool is missing.
std::string promtoolProblems(const std::string& exposition) {
  TempDir dir;
  const std::string file = dir.write("metrics.txt", exposition);
  auto r = testing::shell("promtool check metrics < " + file);
  return r.exitCode == 0 ? "" : r.output;
}

bool havePromtool() { return testing::shell("command -v promtool").exitCode == 0; }

// GET PATH from HOST:PORT with `accept`; returns the whole response, headers included.
std::string httpGet(const std::string& hostPort, const std::string& path,
                    const std::string& accept = "") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(std::stoi(hostPort.substr(hostPort.rfind(':') + 1))));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  const timeval limit{5, 0};  // a server that never answers fails the test, not hangs it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                              (accept.empty() ? "" : "Accept: " + accept + "\r\n") + "\r\n";
  (void)::send(fd, request.data(), request.size(), 0);
  std::string out;
  char chunk[4096];
  for (ssize_t n; (n = ::recv(fd, chunk, sizeof chunk, 0)) > 0;) out.append(chunk, n);
  ::close(fd);
  return out;
}

ExpositionSnapshot sample() {
  ExpositionSnapshot s;
  s.version = "0.1.0";
  s.jobsSubmitted = 3;
  s.jobs = {{"RUNNING", 1}, {"COMPLETED", 2}};
  s.workers[{"busy", "gpu"}] = 1;
  s.workerRows.push_back({"node\"1\\:7", 0.25, true, 0.875, 1.5e9});
  s.jobRows.push_back({"3", "nccl", 12800, 0.31, NAN, 0.012, 0.003});
  return s;
}

TEST(Prometheus, TheExpositionFollowsTheFormatAndItsNamingRules) {
  const std::string text = renderExposition(sample(), false);
  EXPECT_NE(text.find("tfmath_build_info{version=\"0.1.0\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tfmath_jobs_submitted_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("tfmath_train_samples_total{job_id=\"3\"} 12800\n"), std::string::npos);
  EXPECT_NE(text.find("tfmath_train_loss{job_id=\"3\",split=\"train\"} 0.31"), std::string::npos);
  EXPECT_EQ(text.find("split=\"test\""), std::string::npos);  // no evaluation yet: no series
  EXPECT_NE(text.find("tfmath_allreduce_duration_seconds{job_id=\"3\",backend=\"nccl\"} 0.003"),
            std::string::npos);
  EXPECT_NE(text.find("tfmath_gpu_utilization_ratio{worker=\"node\\\"1\\\\:7\"} 0.875"),
            std::string::npos)
      << text;  // a quote and a backslash escaped
  EXPECT_NE(text.find("# TYPE tfmath_train_samples_total counter"), std::string::npos);
  const std::string om = renderExposition(sample(), true);
  EXPECT_TRUE(om.ends_with("# EOF\n"));
  EXPECT_NE(om.find("# TYPE tfmath_train_samples counter"), std::string::npos) << om;
  if (!havePromtool()) GTEST_SKIP() << "promtool (Debian's prometheus package) is not installed";
  EXPECT_EQ(promtoolProblems(text), "");
}

// A coordinator serving metrics while a job runs: the samples counter rises between scrapes,
// promtool accepts what it serves, OpenMetrics comes on request, other paths get 404, and the
// job's series leave when it ends.
TEST(Prometheus, ACoordinatorIsScrapedWhileAJobRuns) {
  Cluster c(2, {"--metrics-endpoint", "127.0.0.1:0"});
  ASSERT_FALSE(c.metricsEndpoint().empty()) << c.coordinatorLog();
  TempDir dir;
  const std::string job = dir.write(
      "mlp.capnp",
      testing::jobText(testing::fashionMlpJob(60000, 500, 64) + "epochs = 50, workers = 2"));
  ASSERT_EQ(c.run("submit " + job).exitCode, 0);
  const std::regex samples("tfmath_train_samples_total\\{job_id=\"1\"\\} ([0-9.e+]+)");
  auto scrape = [&] {
    const std::string r = httpGet(c.metricsEndpoint(), "/metrics");
    std::smatch m;
    return std::regex_search(r, m, samples) ? std::stod(m[1]) : -1.0;
  };
  double first = -1;
  for (int i = 0; i < 100 && first <= 0; ++i) {
    first = scrape();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_GT(first, 0) << httpGet(c.metricsEndpoint(), "/metrics");
  double later = first;
  for (int i = 0; i < 50 && later <= first; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    later = scrape();
  }
  EXPECT_GT(later, first);
  const std::string response = httpGet(c.metricsEndpoint(), "/metrics");
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(response.find("tfmath_workers{state=\"busy\",device=\"cpu\"} 2"), std::string::npos)
      << response;
  const std::string om =
      httpGet(c.metricsEndpoint(), "/metrics", "application/openmetrics-text; version=1.0.0");
  EXPECT_NE(om.find("Content-Type: application/openmetrics-text"), std::string::npos);
  EXPECT_TRUE(om.ends_with("# EOF\n"));
  EXPECT_NE(httpGet(c.metricsEndpoint(), "/secret").find("404 Not Found"), std::string::npos);
  if (havePromtool()) {
    EXPECT_EQ(promtoolProblems(response.substr(response.find("\r\n\r\n") + 4)), "");
  }
  ASSERT_EQ(c.run("cancel 1").exitCode, 0);
  testing::waitForState(c, "1", "CANCELLED", 20);
  std::string after;
  for (int i = 0; i < 30; ++i) {
    after = httpGet(c.metricsEndpoint(), "/metrics");
    if (after.find("job_id=\"1\"") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(after.find("job_id=\"1\""), std::string::npos) << after;
  EXPECT_NE(after.find("tfmath_jobs{state=\"CANCELLED\"} 1"), std::string::npos) << after;
}

// A free TCP port on loopback, for a server that must be told its port.
int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t size = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A real Prometheus server, started on loopback, scrapes a coordinator running a job every second;
// its HTTP API then shows tfmath_train_samples_total rising.
TEST(Prometheus, APrometheusServerScrapesTheCoordinator) {
  if (testing::shell("command -v prometheus").exitCode != 0)
    GTEST_SKIP() << "no prometheus server (Debian's prometheus package) is installed";
  Cluster c(2, {"--metrics-endpoint", "127.0.0.1:0"});
  TempDir dir;
  const std::string job = dir.write(
      "mlp.capnp",
      testing::jobText(testing::fashionMlpJob(60000, 500, 64) + "epochs = 50, workers = 2"));
  ASSERT_EQ(c.run("submit " + job).exitCode, 0);
  const std::string config =
      dir.write("prometheus.yml",
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: tfmath\n"
                "    static_configs:\n      - targets: ['" +
                    c.metricsEndpoint() + "']\n");
  const std::string web = "127.0.0.1:" + std::to_string(freePort());
  const pid_t server = fork();
  if (server == 0) {
    const std::string log = dir.path() + "/prometheus.log";
    FILE* out = std::fopen(log.c_str(), "w");
    dup2(fileno(out), 1);
    dup2(fileno(out), 2);
    execlp("prometheus", "prometheus", ("--config.file=" + config).c_str(),
           ("--storage.tsdb.path=" + dir.path() + "/tsdb").c_str(),
           ("--web.listen-address=" + web).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // The value Prometheus holds for the job's samples, or -1 before it has one.
  const std::regex value("\"value\":\\[[0-9.]+,\"([0-9.e+]+)\"\\]");
  auto query = [&] {
    const std::string r =
        httpGet(web, "/api/v1/query?query=tfmath_train_samples_total%7Bjob_id%3D%221%22%7D");
    std::smatch m;
    return std::regex_search(r, m, value) ? std::stod(m[1]) : -1.0;
  };
  double first = -1, later = -1;
  for (int i = 0; i < 150 && first <= 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    first = query();
  }
  for (int i = 0; i < 50 && later <= first; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    later = query();
  }
  ::kill(server, SIGTERM);
  ::waitpid(server, nullptr, 0);
  EXPECT_GT(first, 0) << Cluster::slurp(dir.path() + "/prometheus.log");
  EXPECT_GT(later, first);
  EXPECT_EQ(c.run("cancel 1").exitCode, 0);
}

}  // namespace
}  // namespace tfmath
