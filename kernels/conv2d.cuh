// conv2d.cuh: 2-D convolution on the GPU, channels last (ops/conv2d.h has the math), through
// im2col + cuBLAS GEMM, as on the CPU. Why not an implicit GEMM: the explicit patch matrix lets one
// tuned cuBLAS SGEMM do all the arithmetic and matches the CPU's operation order, which keeps the
// two devices within float rounding of each other; its cost is the (N·OH·OW)×(K·K·C) scratch,
// small for the models tfmath trains (about 3 MB per layer at batch 64 on 28×28 inputs). col2im
// gathers (each input pixel sums the patch entries copied from it), so the backward needs no
// atomics and is deterministic. Device pointers.
#pragma once

#include "kernels/gpu_layer.cuh"

namespace tfmath::cuda {

struct ConvShape {
  int n, h, w, c;  // input
  int filters, kernel, stride;
  int outH, outW;       // ops/conv2d.h's convAxis(...).out
  int padTop, padLeft;  // its padBefore
  TFMATH_HOST_DEVICE long patchRows() const { return static_cast<long>(n) * outH * outW; }
  TFMATH_HOST_DEVICE int patchLength() const { return kernel * kernel * c; }
};

// The conv2d layer of shape `s` (its n is set per batch; parameters: the kernel, then the bias).
std::unique_ptr<GpuLayer> makeConv2dLayer(const ConvShape& s);

// y (n×outH×outW×filters) = im2col(x)·kernel + bias. col: patchRows()×patchLength() scratch that
// the backward reads again.
void conv2dForward(const Blas& blas, const ConvShape& s, const float* x, const float* kernel,
                   const float* bias, float* col, float* y);
// dkernel += colᵀ·dy, dbias += 1ᵀ·dy, and, when dx is non-null, dx = col2im(dy·kernelᵀ) using
// dcol (same size as col) as scratch.
void conv2dBackward(const Blas& blas, const ConvShape& s, const float* col, const float* kernel,
                    const float* dy, float* dkernel, float* dbias, float* dcol, float* dx);

}  // namespace tfmath::cuda
