// pool.cuh: 2-D max pooling (maxPool2d) on the GPU, channels last (ops/pool.h has the math). The
// forward keeps each output's arg-max (first maximum in window order, as on the CPU); the backward
// gathers, for each input element, the gradients of the windows whose arg-max it is, in output
// order: no atomics, so the result is deterministic even when windows overlap. Device pointers.
#pragma once

#include "kernels/gpu_layer.cuh"

namespace tfmath::cuda {

struct PoolShape {
  int n, h, w, c, pool, stride;
  int outH, outW;  // ops/pool.h's poolAxis(...)
};

// The maxPool2d layer of shape `s` (its n is set per batch); keeps its forward's arg-max.
std::unique_ptr<GpuLayer> makeMaxPool2dLayer(const PoolShape& s);

// x: n×h×w×c, y: n×outH×outW×c; argmax (same size as y): index into its sample's input.
void maxPoolForward(const PoolShape& s, const float* x, float* y, int* argmax);
// dx (n×h×w×c) = the gradients dy routed back to each window's arg-max.
void maxPoolBackward(const PoolShape& s, const int* argmax, const float* dy, float* dx);

}  // namespace tfmath::cuda
