// gpu_training_test.cc: training on the GPU (train/gpu_backend.cc) against the CPU: linreg, an MLP
// on a Fashion-MNIST subset and a CNN with dropout, average pooling, AdamW, a schedule and a clip,
// after one epoch, within 1e-3 relative (the GEMMs sum in another order, and the difference grows
// over the steps); and a GPU checkpoint resumed on the CPU. The device errors run everywhere; the
// rest skips without a CUDA device.
#include <gtest/gtest.h>

#include "kernels/cuda_check.cuh"
#include "tests/cluster_fixture.h"

namespace tfmath {
namespace {

using testing::TempDir;

const std::string kJobs[] = {testing::linregJob(), testing::fashionMlpJob(1000, 200, 100),
                             testing::fashionCnnWithAidsJob()};

TEST(Devices, UnknownDevicesAreRefusedByName) {
  TempDir dir;
  const std::string job = dir.write("j.capnp", testing::jobText(kJobs[0] + "epochs = 1,"));
  auto r = testing::tfmath("run " + job + " --device tpu");
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.output.find("device 'tpu': expected cpu, cpu:N or gpu:N"), std::string::npos)
      << r.output;
  for (const std::string bad : {"cpu:", "cpu:x", "gpu:-1", "gpu:1x", "cpu:1234567"}) {
    r = testing::tfmath("run " + job + " --device " + bad);
    EXPECT_EQ(r.exitCode, 2) << bad;
    EXPECT_NE(r.output.find("device '" + bad + "': expected"), std::string::npos) << r.output;
  }
  // cpu:N names one of several CPU workers of a host; it trains on the CPU like cpu.
  r = testing::tfmath("run " + job + " --device cpu:1");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  r = testing::tfmath("run " + job + " --device gpu:99");
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.output.find("gpu:99: this machine has " + std::to_string(cuda::deviceCount()) +
                          " CUDA device(s)"),
            std::string::npos)
      << r.output;
}

TEST(Devices, WorkersAndUpRefuseGpusThatAreNotThere) {
  TempDir dir;
  const std::string n = std::to_string(cuda::deviceCount());
  auto r = testing::tfmath("worker --coordinator tcp://127.0.0.1:1 --device gpu:" + n);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("gpu:" + n + ": this machine has " + n + " CUDA device(s)"),
            std::string::npos)
      << r.output;
  r = testing::tfmath("worker --coordinator tcp://127.0.0.1:1 --device tpu");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("device 'tpu': expected cpu, cpu:N or gpu:N"), std::string::npos)
      << r.output;
  if (cuda::deviceCount() == 0) {
    r = testing::tfmath("up --gpus --state-dir " + dir.path());
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.output.find("--gpus, but this machine shows no CUDA device"), std::string::npos)
        << r.output;
  }
}

class GpuTraining : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda::deviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  }
  TempDir dir_;
  // Trains `fields` + epochs in one process on `device`; returns the saved state's path.
  std::string train(const std::string& name, const std::string& fields, int epochs,
                    const std::string& device, const std::string& resume = "") {
    const std::string job = dir_.write(
        name + ".capnp", testing::jobText(fields + "epochs = " + std::to_string(epochs) + ","));
    const std::string out = dir_.path() + "/" + name + ".params";
    auto r = testing::tfmath("run " + job + " --device " + device + " --save " + out +
                             (resume.empty() ? "" : " --resume " + resume));
    EXPECT_EQ(r.exitCode, 0) << r.output;
    return out;
  }
};

TEST_F(GpuTraining, MatchesTheCpuAfterAnEpoch) {
  for (int j = 0; j < 3; ++j) {
    const std::string n = std::to_string(j);
    const std::string cpu = train("cpu" + n, kJobs[j], 1, "cpu");
    const std::string gpu = train("gpu" + n, kJobs[j], 1, "gpu:0");
    EXPECT_LE(testing::relativeDistance(gpu, cpu), 1e-3) << "job " << j;
  }
}

TEST_F(GpuTraining, AGpuCheckpointResumesOnTheCpu) {
  const std::string straight = train("straight", kJobs[1], 2, "cpu");
  const std::string half = train("half", kJobs[1], 1, "gpu:0");
  const std::string resumed = train("resumed", kJobs[1], 2, "cpu", half);
  EXPECT_LE(testing::relativeDistance(resumed, straight), 1e-3);
}

// A GPU worker under a real coordinator: it reports its GPU, takes a device = gpu job, and ends
// where a CPU run ends.
TEST_F(GpuTraining, AGpuWorkerTrainsAGpuJob) {
  testing::Cluster c(0);
  const pid_t worker = testing::spawnTfmath(
      {"worker", "--coordinator", c.workerEndpoint(), "--keys", c.keysDir(), "--device", "gpu:0"},
      dir_.path() + "/gpu-worker.log");
  c.waitForWorkers(1);
  auto r = c.run("status --json");
  EXPECT_NE(r.output.find("\"memory_total_bytes\""), std::string::npos) << r.output;
  const std::string cpu = train("cpu", kJobs[1], 1, "cpu");
  const std::string job =
      dir_.write("gpujob.capnp", testing::jobText(kJobs[1] + "epochs = 1, device = gpu,"));
  r = c.run("submit " + job + " --wait");
  EXPECT_EQ(r.exitCode, 0) << r.output << c.coordinatorLog();
  const std::string id = r.output.substr(0, r.output.find('\n'));
  const std::string out = dir_.path() + "/gpujob.params";
  EXPECT_EQ(c.run("result " + id + " --params " + out).exitCode, 0);
  EXPECT_LE(testing::relativeDistance(out, cpu), 1e-3);
  kill(worker, SIGTERM);
  waitpid(worker, nullptr, 0);
}

}  // namespace
}  // namespace tfmath
