// flatten.cuh: flatten on the GPU (ops/flatten.h): it only renames the shape, so its forward and
// backward are copies. Device pointers.
#pragma once

#include "kernels/gpu_layer.cuh"

namespace tfmath::cuda {

// The flatten layer over `perSample` elements of each sample.
std::unique_ptr<GpuLayer> makeFlattenLayer(long perSample);

}  // namespace tfmath::cuda
