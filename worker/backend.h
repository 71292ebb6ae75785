// backend.h: where a job's model lives and computes: the CPU (ops/) or a GPU (kernels/). The
// trainer and the checkpoint code see only this interface, so they do not know the device, and a
// checkpoint written on one device resumes on the other. Not thread-safe: one per training thread.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "job.capnp.h"
#include "loss.h"
#include "tensor.h"

namespace tfmath {

// One parameter tensor: its checkpoint name, shape, and place in the flat buffers.
struct ParamInfo {
  std::string name;  // e.g. layer0.w
  Shape shape;
  size_t offset = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // "cpu", or "gpu:N (NAME)".
  virtual std::string device() const = 0;
  const std::vector<ParamInfo>& params() const { return params_; }
  // Floats in the flat parameter (and gradient, and each optimizer slot) buffer.
  size_t size() const { return size_; }

  virtual void zeroGradients() = 0;
  // Forward, the summed loss, backward: gradients of the batch's loss SUM accumulate. Host tensors.
  virtual LossSums train(const Tensor& x, const Tensor& targets) = 0;
  // Forward and loss only.
  virtual LossSums evaluate(const Tensor& x, const Tensor& targets) = 0;
  // The summed gradients in host memory, for a communicator that sums host memory (Gloo), in
  // place.
  virtual std::span<float> gradients() = 0;
  // The same in device memory, for one that sums device memory (NCCL); empty on the CPU.
  virtual std::span<float> deviceGradients() { return {}; }
  // gradients ×= scale, then the optimizer's update; step is 1-based (Adam's t). Uses the copy
  // last handed out by gradients() or deviceGradients().
  virtual void update(float scale, uint64_t step) = 0;

  virtual std::vector<std::string> slotNames() const = 0;
  // Host copies of the parameters (slot −1) or of an optimizer slot, for checkpoints: size()
  // floats.
  virtual void read(int slot, float* host) const = 0;
  virtual void write(int slot, const float* host) = 0;

 protected:
  std::vector<ParamInfo> params_;
  size_t size_ = 0;
};

// What a worker reports about its device.
struct DeviceReport {
  std::string name;  // the GPU's name; empty for a CPU
  uint64_t memoryTotalBytes = 0, memoryUsedBytes = 0;
  int utilizationPercent = -1;  // −1 when NVML did not load
};

// The GPU index of a device name: −1 for "cpu", N for "gpu:N". Throws JobError for anything else.
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
