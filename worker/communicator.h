// communicator.h: the gradient hand-off between backward and the optimizer update. The trainer
// calls allreduceSum once per step on every rank; a single process uses LocalCommunicator, the
// cluster slots in a Gloo (CPU) or NCCL (GPU) implementation. Not thread-safe: one per training
// thread.
#pragma once

#include <span>

namespace tfmath {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int worldSize() const = 0;
  // True when allreduceSum takes gradients in device memory (NCCL); false for host memory.
  virtual bool sumsDeviceMemory() const { return false; }
  // Replaces each element of `grads` and `stats` by its sum over all ranks. Blocks until done;
  // throws std::runtime_error (naming the peer where known) if the collective fails or times out.
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
