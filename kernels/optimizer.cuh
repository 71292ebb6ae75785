// optimizer.cuh: the update rules on the GPU (ops/optimizer.h has the math): SGD with momentum,
// Nesterov and weight decay, PyTorch's form, and Adam with bias correction. Element-wise over the
// flat parameter buffer; g is already the batch mean. Device pointers.
#pragma once

#include "kernels/cuda_check.cuh"

namespace tfmath::cuda {

// v ×= factor (the division of the summed gradients by the global batch).
void scaleFloats(float* v, long size, float factor);
// velocity may be null when momentum is 0.
void sgdUpdate(float* w, const float* g, float* velocity, long size, float learningRate,
               float momentum, float weightDecay, bool nesterov);
// step is the 1-based update count (Adam's t).
void adamUpdate(float* w, const float* g, float* m, float* v, long size, double learningRate,
                double beta1, double beta2, double epsilon, unsigned long long step);

}  // namespace tfmath::cuda
