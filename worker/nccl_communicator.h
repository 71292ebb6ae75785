// nccl_communicator.h: the GPU ranks' allreduce (issue 5 §2): ncclAllReduce over the gradients in
// device memory, on a stream of its own. The ncclUniqueId travels through the job's rendezvous
// store, which the coordinator serves, as Gloo's bootstrap does. Every wait has a deadline: a
// failed NCCL call, an asynchronous NCCL error or a timeout aborts the communicator and throws
// with NCCL's error string, so no rank hangs. Built with CUDA and NCCL only. One per training
// thread.
#pragma once

#include <gloo/rendezvous/store.h>

#include <chrono>
#include <memory>

#include "communicator.h"

namespace tfmath {

class NcclCommunicator final : public Communicator {
 public:
  // Joins the job's NCCL clique on CUDA device `device`.
  NcclCommunicator(gloo::rendezvous::Store& store, int rank, int size, int device,
                   std::chrono::milliseconds timeout);
  ~NcclCommunicator() override;
  int rank() const override { return rank_; }
  int worldSize() const override { return size_; }
  bool sumsDeviceMemory() const override { return true; }
  // `grads` is device memory; `stats` host memory.
  void allreduceSum(std::span<float> grads, std::span<double> stats) override;

 private:
  struct State;
  int rank_, size_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<State> state_;
};

}  // namespace tfmath
