// activation.cuh: relu, sigmoid and tanh on the GPU (ops/activation.h has the math), element-wise,
// with the derivative written in terms of the output as on the CPU. Also flatten, which on both
// devices only renames the shape: its forward and backward are copies. Device pointers.
#pragma once

#include "kernels/cuda_check.cuh"

namespace tfmath::cuda {

enum class Activation { relu, sigmoid, tanh };

// y = f(x) over n elements.
void activationForward(Activation kind, const float* x, float* y, long n);
// dx = dy ⊙ f'(x), with f' from y.
void activationBackward(Activation kind, const float* y, const float* dy, float* dx, long n);
// to = from, n floats (flatten's forward and backward).
void copyFloats(const float* from, float* to, long n);

}  // namespace tfmath::cuda
