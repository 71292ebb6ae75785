// activation.cuh: relu, sigmoid and tanh on the GPU (ops/activation.h has the math), element-wise,
// with the derivative written in terms of the output as on the CPU. Device pointers.
#pragma once

#include "kernels/gpu_layer.cuh"

namespace tfmath::cuda {

// The activation layers over `perSample` elements of each sample.
std::unique_ptr<GpuLayer> makeReluLayer(long perSample);
std::unique_ptr<GpuLayer> makeSigmoidLayer(long perSample);
std::unique_ptr<GpuLayer> makeTanhLayer(long perSample);

}  // namespace tfmath::cuda
