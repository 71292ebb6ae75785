// prometheus.h: the coordinator's metrics for Prometheus. A snapshot of jobs and workers, taken on
// the event loop about once a second, is rendered as the text exposition format (0.0.4), or as
// OpenMetrics 1.0 for a scraper that asks for it, and served over HTTP from a thread of its own, so
// a scrape never waits on the loop and the loop never waits on a scraper. Names follow Prometheus's
// rules: a tfmath_ prefix, base units (seconds, bytes, ratios 0-1), _total for counters, and labels
// whose values stay few (per-job series leave when the job ends; GPU series carry no job). A job is
// labelled job_id: Prometheus gives every scraped series a `job` label of its own (the scrape job),
// and would rename a `job` label of ours to exported_job.
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tfmath {

struct ExpositionSnapshot {
  std::string version;              // tfmath's version, for tfmath_build_info
  uint64_t jobsSubmitted = 0;       // since the state folder was made
  std::map<std::string, int> jobs;  // Slurm state name → jobs in it
  std::map<std::pair<std::string, std::string>, int> workers;  // (state, device kind) → count
  struct Worker {
    std::string id;
    double heartbeatAgeSeconds = 0;
    bool gpu = false;
    double gpuUtilization = NAN;  // ratio 0-1; NaN when NVML gave none
    double gpuMemoryUsedBytes = 0;
  };
  std::vector<Worker> workerRows;
  struct Job {                // a RUNNING job
    std::string id, backend;  // backend: gloo or nccl
    double samplesTotal = 0;  // training samples done, all ranks together
    double trainLoss = NAN, testLoss = NAN;
    double stepSeconds = 0, allreduceSeconds = 0;  // means over its ranks' latest windows
  };
  std::vector<Job> jobRows;
};

// The exposition of `s`: text format 0.0.4, or OpenMetrics 1.0 (ending in "# EOF").
std::string renderExposition(const ExpositionSnapshot& s, bool openMetrics);

// "text/plain; version=0.0.4; charset=utf-8" or the OpenMetrics type.
const char* expositionContentType(bool openMetrics);

// An HTTP server for GET /metrics on HOST:PORT (PORT 0: any free one), one request at a time, each
// bounded in size (8 KiB) and time (2 s).
class MetricsServer {
 public:
  // Binds at once; throws std::runtime_error naming the endpoint when it cannot.
  explicit MetricsServer(const std::string& hostPort);
  ~MetricsServer();
  // The address it listens on, HOST:PORT with the port resolved.
  const std::string& endpoint() const { return endpoint_; }
  // Replaces what it serves.
  void publish(const ExpositionSnapshot& snapshot);

 private:
  void serve();
  void answer(int client);

  int listener_ = -1;
  std::string endpoint_;
  std::mutex mutex_;
  std::string text_, openMetrics_;  // the latest renderings, under mutex_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tfmath
