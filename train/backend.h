// backend.h: where a job's model lives and computes: the CPU (ops/) or a GPU (kernels/). The
// trainer and the checkpoint code see only this interface, so they do not know the device, and a
// checkpoint written on one device resumes on the other. Not thread-safe: one per training thread.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/draws.h"
#include "ops/loss.h"
#include "ops/tensor.h"
#include "proto/job.capnp.h"
#include "train/communicator.h"

namespace tfmath {

// One parameter tensor: its checkpoint name, shape, and place in the flat buffers.
struct ParamInfo {
  std::string name;  // e.g. layer0.w
  Shape shape;
  size_t offset = 0;
};

// Where a buffer lives: host memory, or the memory of the backend's GPU.
enum class Memory { host, device };

class Backend {
 public:
  virtual ~Backend() = default;
  // "cpu", or "gpu:N (NAME)".
  virtual std::string device() const = 0;
  // Where this backend keeps its parameters and gradients.
  virtual Memory memory() const = 0;
  const std::vector<ParamInfo>& params() const { return params_; }
  // Floats in the flat parameter (and gradient, and each optimizer slot) buffer.
  size_t size() const { return size_; }

  // Sizes the buffers for slices of up to `samples` samples, so that no step grows one (on a GPU,
  // growing waits for the device, and so would wait on a collective in flight). A hint: larger
  // slices still work.
  virtual void reserve(int64_t samples, int64_t targetsPerSample) {
    (void)samples;
    (void)targetsPerSample;
  }
  virtual void zeroGradients() = 0;
  // Hands over the batch the next train() uses, and what its stochastic ops draw from (a training
  // BatchDraws naming each sample's index in the training set). The host tensors and samples
  // must live until that train() returns. A GPU copies the batch up at once, on a stream of its
  // own: a batch staged while the previous step computes arrives without holding the device up.
  virtual void stage(const Tensor& x, const Tensor& targets, const BatchDraws& draws) = 0;
  // Forward, the summed loss and backward on the staged batch: gradients of the batch's loss SUM
  // accumulate. A GPU only queues the work; trainedLoss() waits for the loss. When `overlap` is
  // given, backward tells it as each layer's gradients are queued (the Communicator's
  // gradientsFinalFrom), so the sum of the last layers can start while the first are computed.
  virtual void train(Communicator* overlap) = 0;
  // The loss sums of the last train(); waits for them.
  virtual LossSums trainedLoss() = 0;
  // Forward and loss only, on host tensors; waits for the sums.
  virtual LossSums evaluate(const Tensor& x, const Tensor& targets) = 0;
  // The gradients in `where`, for the communicator to sum in place; update() uses the copy last
  // handed out. A CPU backend has no device memory: it returns an empty span for Memory::device.
  virtual std::span<float> gradients(Memory where) = 0;
  // Σ g² over the copy of the gradients last handed out (the summed ones), accumulated in double:
  // clipping by the global norm needs it. On a GPU it waits for the device.
  virtual double gradientSumOfSquares() = 0;
  // gradients ×= scale, then the optimizer's update at its learning rate × rateFactor (the
  // schedule's factor); step is 1-based (Adam's t).
  virtual void update(float scale, uint64_t step, double rateFactor) = 0;
  // What train() tells `overlap` when a rank has no samples this step: every gradient is final,
  // in the same calls, so every rank starts the same buckets.
  void announceFinal(Communicator& overlap) { announceFinal(overlap, 0, params_.size()); }
  // (Both forms set which copy of the gradients update() uses to device memory, as
  // gradients(Memory::device) does; they are called only when the sum is in device memory.)

  virtual std::vector<std::string> slotNames() const = 0;
  // Host copies of the parameters (slot −1) or of an optimizer slot, for checkpoints: size()
  // floats.
  virtual void read(int slot, float* host) const = 0;
  virtual void write(int slot, const float* host) = 0;

 protected:
  // Tells `overlap` that the gradients of params [first, end) are queued: the parameters sit in
  // the flat buffer in order, so one call per parameter, from the last, each saying that all from
  // its offset on are final. Backward calls this after each layer, from the last layer back.
  void announceFinal(Communicator& overlap, size_t first, size_t end) {
    const std::span<float> grads = gradients(Memory::device);
    for (size_t p = end; p-- > first;) overlap.gradientsFinalFrom(grads, params_[p].offset);
  }
  std::vector<ParamInfo> params_;
  size_t size_ = 0;
};

// What a worker reports about its device.
struct DeviceReport {
  std::string name;  // the GPU's name; empty for a CPU
  uint64_t memoryTotalBytes = 0, memoryUsedBytes = 0;
  int utilizationPercent = -1;  // −1 when NVML did not load
};

// The GPU index of a device name: −1 for "cpu" and "cpu:N" (one of several CPU workers of a host),
// N for "gpu:N". Throws JobError for anything else.
int gpuIndex(const std::string& device);
// CUDA devices this process sees (0 in a build without CUDA, or without a driver).
int gpuCount();
// Checks that `device` exists here and reads its figures: for a GPU its name and memory from CUDA,
// and memory and utilization from NVML when libnvidia-ml loads. Throws JobError naming the device.
DeviceReport probeDevice(const std::string& device);

// The model of `job` for per-sample input `input`, initialised from the job's seed, on `device`:
// "cpu" or "gpu:N". Throws JobError for a device this build or machine does not have.
std::unique_ptr<Backend> makeBackend(proto::Job::Reader job, const Shape& input,
                                     const std::string& device);

}  // namespace tfmath
