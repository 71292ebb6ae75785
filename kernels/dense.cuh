// dense.cuh: the fully connected layer on the GPU, Y = XW + b (ops/dense.h has the math). GEMMs go
// through cuBLAS; the bias gradient is a column sum in a fixed order, so results are bit-identical
// from run to run. All pointers are device memory; row-major, as on the CPU.
#pragma once

#include "kernels/gpu_layer.cuh"

namespace tfmath::cuda {

// y (n×u) = x (n×d) · w (d×u) + b (u).
void denseForward(const Blas& blas, const float* x, const float* w, const float* b, float* y, int n,
                  int d, int u);
// dw += xᵀ·dy, db += 1ᵀ·dy, and dx = dy·wᵀ when dx is non-null.
void denseBackward(const Blas& blas, const float* x, const float* w, const float* dy, float* dw,
                   float* db, float* dx, int n, int d, int u);

// The dense layer of `inputs` → `units` (parameters: W, then b).
std::unique_ptr<GpuLayer> makeDenseLayer(int inputs, int units);

// y[r, c] += b[c] for every row r of a rows×cols matrix.
void addRowVector(float* y, const float* b, long rows, int cols);
// out[c] += Σ_r m[r, c], summed in the same order on every run.
void addColumnSums(const float* m, long rows, int cols, float* out);

}  // namespace tfmath::cuda
