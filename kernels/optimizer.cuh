// optimizer.cuh: the update rules on the GPU (ops/optimizer.h has the math): SGD with momentum,
// Nesterov and weight decay, PyTorch's form, and Adam with bias correction (and AdamW's decay).
// Element-wise over the flat parameter buffer; g is already the batch mean. Device pointers.
#pragma once

#include "kernels/cuda_check.cuh"

namespace tfmath::cuda {

// v ×= factor (the division of the summed gradients by the global batch).
void scaleFloats(float* v, long size, float factor);
// velocity may be null when momentum is 0.
void sgdUpdate(float* w, const float* g, float* velocity, long size, float learningRate,
               float momentum, float weightDecay, bool nesterov);
// step is the 1-based update count (Adam's t). weightDecay > 0 makes it AdamW: the decoupled
// decay, w ← w − η (m̂ / (√v̂ + ε) + λ w).
void adamUpdate(float* w, const float* g, float* m, float* v, long size, double learningRate,
                double beta1, double beta2, double epsilon, double weightDecay,
                unsigned long long step);
// Σ v² in double, for clipping by the global norm (clipGlobalNorm): a fixed tree of partial sums
// (the same order on every call, so the same bits) in `partial`, kSumOfSquaresPartials doubles of
// device memory; waits for the device and returns the sum.
constexpr int kSumOfSquaresPartials = 256;
double sumOfSquares(const float* v, long size, double* partial);

}  // namespace tfmath::cuda
