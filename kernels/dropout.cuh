// dropout.cuh: inverted dropout on the GPU (ops/dropout.h has the math). The kernels draw each
// element's mask from the same counter-based hash as the CPU (base/draws.h), so both devices drop
// the same elements and agree bit for bit. Backward draws the mask again instead of keeping it.
// Device pointers.
#pragma once

#include <cstdint>

#include "base/draws.h"
#include "kernels/gpu_layer.cuh"

namespace tfmath::cuda {

// The dropout layer of job layer `layer` over `perSample` elements per sample; `threshold` is
// dropThreshold(rate) and `scale` 1/(1 − rate) rounded to float.
std::unique_ptr<GpuLayer> makeDropoutLayer(long perSample, uint32_t threshold, float scale,
                                           uint32_t layer);

// out = in / (1 − rate) where the draw keeps the element, else 0, for n×perSample elements under
// `draws` (its samples in device memory): y from x forward, dx from dy backward. Without
// training, a copy.
void dropout(const BatchDraws& draws, uint32_t layer, int n, long perSample, uint32_t threshold,
             float scale, const float* in, float* out);

}  // namespace tfmath::cuda
