// average_pool.cuh: average pooling (averagePool2d) and global average pooling
// (globalAveragePool2d) on the GPU, channels last (ops/average_pool.h has the math). Every output
// and every input gradient is one thread's sum, in the CPU's order, over the window's size: no
// atomics, so the results are deterministic. Device pointers.
#pragma once

#include "kernels/gpu_layer.cuh"
#include "kernels/pool.cuh"

namespace tfmath::cuda {

// The averagePool2d layer of shape `s` (its n is set per batch).
std::unique_ptr<GpuLayer> makeAveragePool2dLayer(const PoolShape& s);
// The globalAveragePool2d layer of `positions` (H·W) positions of `channels` channels.
std::unique_ptr<GpuLayer> makeGlobalAveragePool2dLayer(int positions, int channels);

// x: n×h×w×c, y: n×outH×outW×c.
void averagePoolForward(const PoolShape& s, const float* x, float* y);
// dx (n×h×w×c) from dy (n×outH×outW×c).
void averagePoolBackward(const PoolShape& s, const float* dy, float* dx);
// x: n×positions×channels, y: n×channels.
void globalAveragePoolForward(int n, int positions, int channels, const float* x, float* y);
void globalAveragePoolBackward(int n, int positions, int channels, const float* dy, float* dx);

}  // namespace tfmath::cuda
