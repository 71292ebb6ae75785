// nccl_test.cc: the NCCL allreduce (worker/nccl_communicator.h): world size 1 on one GPU, and
// every visible GPU as one rank each (threads sharing an in-memory rendezvous store), against sums
// worked out on the host. Skips without a CUDA device.
#include <gloo/rendezvous/hash_store.h>
#include <gtest/gtest.h>

#include <thread>

#include "cuda_check.cuh"
#include "nccl_communicator.h"

namespace tfmath {
namespace {

// Rank r holds gradient values r + 1 + i/1000 and statistics {r + 1, 1}; returns what rank r has
// after the allreduce.
std::pair<std::vector<float>, std::vector<double>> reduceOnRank(gloo::rendezvous::Store& store,
                                                                int rank, int size, size_t n) {
  NcclCommunicator comm(store, rank, size, rank, std::chrono::seconds(30));
  std::vector<float> grads(n);
  for (size_t i = 0; i < n; ++i) grads[i] = static_cast<float>(rank + 1) + i / 1000.0f;
  auto device = cuda::toDevice(grads);
  std::vector<double> stats = {double(rank + 1), 1.0};
  comm.allreduceSum({device.get(), n}, stats);
  return {cuda::toHost(device.get(), n), stats};
}

TEST(Nccl, SumsOverEveryVisibleGpu) {
  const int gpus = cuda::deviceCount();
  if (gpus == 0) GTEST_SKIP() << "no CUDA device";
  for (int world : {1, gpus}) {
    gloo::rendezvous::HashStore store;
    const size_t n = 100003;  // not a multiple of anything NCCL chunks by
    std::vector<std::pair<std::vector<float>, std::vector<double>>> results(world);
    std::vector<std::thread> ranks;
    for (int r = 0; r < world; ++r)
      ranks.emplace_back([&, r] { results[r] = reduceOnRank(store, r, world, n); });
    for (auto& t : ranks) t.join();
    const double rankSum = world * (world + 1) / 2.0;
    for (int r = 0; r < world; ++r) {
      EXPECT_EQ(results[r].second, (std::vector<double>{rankSum, double(world)}));
      for (size_t i = 0; i < n; i += 997)
        EXPECT_NEAR(results[r].first[i], rankSum + world * (i / 1000.0f), 1e-3)
            << "rank " << r << " element " << i;
    }
    if (world == gpus) break;
  }
}

}  // namespace
}  // namespace tfmath
