// nccl_test.cc: the NCCL allreduce (train/nccl_communicator.h), in one call and in buckets
// started during backward: world size 1 on one GPU, and every visible GPU as one rank each (threads
// sharing an in-memory rendezvous store), against sums worked out on the host. Skips without a CUDA
// device.
#include <gloo/rendezvous/hash_store.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "kernels/cuda_check.cuh"
#include "train/nccl_communicator.h"

namespace tfmath {
namespace {

// Rank r holds gradient values r + 1 + i/1000 and statistics {r + 1, 1}; returns what rank r has
// after two steps' allreduces (the values are reset before the second). With `finalOffsets`, a
// step first reports them as backward would (gradientsFinalFrom), so buckets start early.
std::pair<std::vector<float>, std::vector<double>> reduceOnRank(
    gloo::rendezvous::Store& store, int rank, int size, size_t n,
    const std::vector<size_t>& finalOffsets, size_t bucketBytes) {
  NcclCommunicator comm(store, rank, size, rank, std::chrono::seconds(30), bucketBytes);
  std::vector<float> grads(n);
  for (size_t i = 0; i < n; ++i) grads[i] = static_cast<float>(rank + 1) + i / 1000.0f;
  auto device = cuda::toDevice(grads);
  std::vector<double> stats;
  for (int step = 0; step < 2; ++step) {
    cuda::check(cudaMemcpy(device.get(), grads.data(), n * sizeof(float), cudaMemcpyHostToDevice),
                "reset the gradients");
    stats = {double(rank + 1), 1.0};
    for (size_t offset : finalOffsets) comm.gradientsFinalFrom({device.get(), n}, offset);
    comm.allreduceSum({device.get(), n}, stats);
  }
  return {cuda::toHost(device.get(), n), stats};
}

void expectSums(size_t n, const std::vector<size_t>& finalOffsets, size_t bucketBytes) {
  const int gpus = cuda::deviceCount();
  for (int world : {1, gpus}) {
    gloo::rendezvous::HashStore store;
    std::vector<std::pair<std::vector<float>, std::vector<double>>> results(world);
    std::vector<std::thread> ranks;
    for (int r = 0; r < world; ++r)
      ranks.emplace_back(
          [&, r] { results[r] = reduceOnRank(store, r, world, n, finalOffsets, bucketBytes); });
    for (auto& t : ranks) t.join();
    const double rankSum = world * (world + 1) / 2.0;
    for (int r = 0; r < world; ++r) {
      EXPECT_EQ(results[r].second, (std::vector<double>{rankSum, double(world)}));
      for (size_t i = 0; i < n; i += 997)
        EXPECT_NEAR(results[r].first[i], rankSum + world * (i / 1000.0f), 1e-3)
            << "rank " << r << " element " << i;
      // Every element near the bucket edges, where an off-by-one would show.
      for (size_t edge : finalOffsets)
        for (size_t i = edge > 2 ? edge - 2 : 0; i < std::min(n, edge + 2); ++i)
          EXPECT_NEAR(results[r].first[i], rankSum + world * (i / 1000.0f), 1e-3)
              << "rank " << r << " element " << i << " (edge " << edge << ")";
    }
    if (world == gpus) break;
  }
}

TEST(Nccl, SumsOverEveryVisibleGpu) {
  if (cuda::deviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  expectSums(100003, {}, kBucketBytes);  // n: no multiple of NCCL's chunks
}

TEST(Nccl, BucketsStartedDuringBackwardSumLikeOne) {
  if (cuda::deviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  // At world size 1 a sum is the value itself, so only two or more GPUs check the buckets' sums;
  // at one this checks that nothing is lost or corrupted, and gradient_buckets_test checks the
  // tiling everywhere. Offsets falling as backward's would; buckets of 40,000 bytes (10,000
  // floats): [90000, n), [75001, 90000), [50000, 75001) and [20000, 50000) start early; [0, 20000)
  // goes with the statistics.
  expectSums(100003, {90000, 75001, 50000, 49999, 20000, 15000}, 40000);
}

}  // namespace
}  // namespace tfmath
