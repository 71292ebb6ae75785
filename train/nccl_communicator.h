// nccl_communicator.h: the GPU ranks' allreduce: ncclAllReduce over the gradients in
// device memory, on a stream of its own, overlapped with backward: as backward finishes the last
// layers' gradients, they are summed in buckets of at least `bucketBytes` while it computes the
// first layers' (gradientsFinalFrom), and allreduceSum sums the rest. The ncclUniqueId travels
// through the job's rendezvous store, which the coordinator serves, as Gloo's bootstrap does. Every
// wait has a deadline: a failed NCCL call, an asynchronous NCCL error or a timeout aborts the
// communicator and throws with NCCL's error string, so no rank hangs. Built with CUDA and NCCL
// only. One per training thread.
#pragma once

#include <gloo/rendezvous/store.h>

#include <chrono>
#include <memory>

#include "train/communicator.h"
#include "train/gradient_buckets.h"

namespace tfmath {

class NcclCommunicator final : public Communicator {
 public:
  // Joins the job's NCCL clique on CUDA device `device`. Buckets are at least `bucketBytes`.
  NcclCommunicator(gloo::rendezvous::Store& store, int rank, int size, int device,
                   std::chrono::milliseconds timeout, size_t bucketBytes = kBucketBytes);
  ~NcclCommunicator() override;
  int rank() const override { return rank_; }
  int worldSize() const override { return size_; }
  bool sumsDeviceMemory() const override { return true; }
  // Starts summing a bucket when one is full (gradient_buckets.h).
  void gradientsFinalFrom(std::span<float> grads, size_t offset) override;
  void abortCollectives() override;
  // `grads` is device memory; `stats` host memory. Sums what no bucket has, then waits for all.
  void allreduceSum(std::span<float> grads, std::span<double> stats) override;

 private:
  struct State;
  // Queues the sum of `part` on the communicator's stream, after the work queued so far on the
  // default stream.
  void startBucket(std::span<float> part);
  int rank_, size_;
  std::chrono::milliseconds timeout_;
  GradientBuckets buckets_;
  std::chrono::steady_clock::time_point deadline_;  // of this step's collectives
  bool started_ = false;                            // a collective of this step was started
  std::unique_ptr<State> state_;
};

}  // namespace tfmath
