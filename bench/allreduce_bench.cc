// allreduce_bench.cc: tfmath's allreduce (GlooCommunicator: a segmented ring on synchronous pairs,
// plus the per-step statistics) against raw Gloo between 2 processes on loopback, at 1 MB and 64
// MB: gloo::allreduce and gloo::AllreduceRing in Gloo's default (event-loop) mode. Prints the
// median time of each, the bus bandwidth, 2(n-1)/n * bytes / time, and the CPU time tfmath's
// allreduce takes per rank. Usage: allreduce_bench [REPS]
#include <gloo/allreduce.h>
#include <gloo/allreduce_ring.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/file_store.h>
#include <gloo/transport/tcp/device.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "train/gloo_communicator.h"

using Clock = std::chrono::steady_clock;

namespace {

double medianMs(int reps, const std::function<void()>& fn) {
  std::vector<double> t;
  fn();  // warm-up
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// CPU time this process has used, in ms: what an allreduce takes away from training on a shared
// core.
double processCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

std::shared_ptr<gloo::rendezvous::Context> connect(gloo::rendezvous::Store& store, int rank) {
  gloo::transport::tcp::attr attr;
  attr.hostname = "127.0.0.1";
  auto device = gloo::transport::tcp::CreateDevice(attr);
  auto context = std::make_shared<gloo::rendezvous::Context>(rank, 2);
  context->setTimeout(std::chrono::seconds(30));
  context->connectFullMesh(store, device);
  return context;
}

void rankMain(int rank, const std::string& dir, int reps) {
  for (size_t bytes : {size_t{1} << 20, size_t{64} << 20}) {
    const size_t n = bytes / sizeof(float);
    std::vector<float> data(n, 1.0f);
    const std::string sz = std::to_string(bytes >> 20) + "MB";
    for (const char* k : {"/a", "/c"}) std::filesystem::create_directories(dir + k + sz);
    // Raw Gloo, its default transport mode (the loop thread moves the data).
    gloo::rendezvous::FileStore s1(dir + "/a" + sz);
    auto ctx = connect(s1, rank);
    const double rawDefault = medianMs(reps, [&] {
      gloo::AllreduceOptions opts(ctx);
      opts.setOutput(data.data(), n);
      opts.setReduceFunction(
          static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<float>));
      gloo::allreduce(opts);
    });
    // Raw Gloo ring, the algorithm tfmath uses, in Gloo's default mode.
    gloo::AllreduceRing<float> ring(ctx, {data.data()}, static_cast<int>(n));
    const double rawRing = medianMs(reps, [&] { ring.run(); });
    // tfmath's communicator, as the trainer calls it.
    gloo::rendezvous::FileStore s3(dir + "/c" + sz);
    tfmath::GlooCommunicator comm(s3, rank, 2, "127.0.0.1", std::chrono::seconds(30));
    double stats[2] = {1, 0};
    const double cpuBefore = processCpuMs();
    const double ours = medianMs(reps, [&] { comm.allreduceSum(data, stats); });
    const double oursCpu = (processCpuMs() - cpuBefore) / (reps + 1);
    if (rank == 0) {
      auto bw = [&](double ms) {
        return double(bytes) / (ms / 1e3) / 1e9;
      };  // 2(n−1)/n = 1 for n = 2
      std::printf(
          "%-5s gloo::allreduce %8.3f ms %5.2f GB/s | gloo AllreduceRing %8.3f ms %5.2f GB/s"
          " | tfmath %8.3f ms %5.2f GB/s, CPU %.3f ms per rank | raw/tfmath: %.2fx, %.2fx\n",
          sz.c_str(), rawDefault, bw(rawDefault), rawRing, bw(rawRing), ours, bw(ours), oursCpu,
          rawDefault / ours, rawRing / ours);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::stoi(argv[1]) : 50;
  char tmpl[] = "/tmp/tfmath-allreduce-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  pid_t child = fork();
  if (child == 0) {
    rankMain(1, dir, reps);
    _exit(0);
  }
  rankMain(0, dir, reps);
  int status = 0;
  waitpid(child, &status, 0);
  std::filesystem::remove_all(dir);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
