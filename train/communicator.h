// communicator.h: the gradient hand-off between backward and the optimizer update. In a world of
// more than one the trainer calls allreduceSum once per step on every rank; a single process uses
// LocalCommunicator, the cluster slots in a Gloo (CPU) or NCCL (GPU) implementation. Not
// thread-safe: one per training thread.
#pragma once

#include <cstddef>
#include <span>

namespace tfmath {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int worldSize() const = 0;
  // True when allreduceSum takes gradients in device memory (NCCL); false for host memory.
  virtual bool sumsDeviceMemory() const { return false; }
  // Overlap with backward: `grads[offset:]` are final, meaning the kernels that write them are
  // queued on the device's default stream. Backward calls this with falling offsets as it goes
  // from the last layer to the first. A device-memory communicator may start summing that part at
  // once, on its own stream; allreduceSum then sums what is left. Others ignore it.
  virtual void gradientsFinalFrom(std::span<float> grads, size_t offset) {
    (void)grads;
    (void)offset;
  }
  // After a failure mid-step: ends any collective still in flight, so that freeing device memory
  // cannot wait on a peer that is gone. The communicator is unusable afterwards.
  virtual void abortCollectives() {}
  // Replaces each element of `grads` and `stats` (host memory) by its sum over all ranks. Blocks
  // until done; throws std::runtime_error (naming the peer where known) if the collective fails or
  // times out.
  virtual void allreduceSum(std::span<float> grads, std::span<double> stats) = 0;
};

// World of one: the sum over one rank is the value itself.
class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int worldSize() const override { return 1; }
  void allreduceSum(std::span<float>, std::span<double>) override {}
};

}  // namespace tfmath
