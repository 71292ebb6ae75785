// gpu_layer.cuh: the contract of a layer op on the GPU, the twin of ops/layer.h. forward writes y;
// backward writes dx when it is non-null and accumulates (+=) the gradients of the parameters.
// Pointers are device memory; kernels run on the legacy default stream. A layer keeps the scratch
// its backward needs from its forward. Built by the op's registry entry (ops/layer_op.h).
// Not thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "base/draws.h"
#include "kernels/cuda_check.cuh"

namespace tfmath::cuda {

// A parameter in device memory: its values and its gradient.
struct DeviceParam {
  float* value = nullptr;
  float* grad = nullptr;
};

class GpuLayer {
 public:
  virtual ~GpuLayer() = default;
  // Receives the layer's parameters in the order of its CPU twin's paramSpecs().
  virtual void bindParams(const std::vector<DeviceParam>& params) { (void)params; }
  // Sizes the scratch for batches of up to n samples. Growing waits for the device (Scratch), so
  // the backend calls this before the first step.
  virtual void reserve(int n) { (void)n; }
  // What the next forward draws from (base/draws.h), its samples in device memory; only stochastic
  // ops (dropout) use it.
  virtual void setDraws(const BatchDraws& draws) { (void)draws; }
  // y = f(x) for n samples.
  virtual void forward(const Blas& blas, int n, const float* x, float* y) = 0;
  // dx = ∂L/∂x (when dx is non-null) from dy = ∂L/∂y; parameter gradients accumulate.
  virtual void backward(const Blas& blas, int n, const float* x, const float* y, const float* dy,
                        float* dx) = 0;
};

}  // namespace tfmath::cuda
