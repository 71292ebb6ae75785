// activation.cu: the activation kernels.
#include "kernels/activation.cuh"

namespace tfmath::cuda {

namespace {

__global__ void forwardKernel(Activation kind, const float* x, float* y, long n) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const float v = x[i];
  switch (kind) {
    case Activation::relu:
      y[i] = v > 0.0f ? v : 0.0f;
      break;
    case Activation::sigmoid:
      y[i] = 1.0f / (1.0f + expf(-v));
      break;
    case Activation::tanh:
      y[i] = tanhf(v);
      break;
  }
}

__global__ void backwardKernel(Activation kind, const float* y, const float* dy, float* dx,
                               long n) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const float out = y[i], g = dy[i];
  switch (kind) {
    case Activation::relu:
      dx[i] = out > 0.0f ? g : 0.0f;
      break;
    case Activation::sigmoid:
      dx[i] = g * out * (1.0f - out);
      break;
    case Activation::tanh:
      dx[i] = g * (1.0f - out * out);
      break;
  }
}

}  // namespace

void activationForward(Activation kind, const float* x, float* y, long n) {
  if (n == 0) return;
  forwardKernel<<<blocksFor(n), kThreads>>>(kind, x, y, n);
  check(cudaGetLastError(), "activationForward");
}

void activationBackward(Activation kind, const float* y, const float* dy, float* dx, long n) {
  if (n == 0) return;
  backwardKernel<<<blocksFor(n), kThreads>>>(kind, y, dy, dx, n);
  check(cudaGetLastError(), "activationBackward");
}

void copyFloats(const float* from, float* to, long n) {
  check(cudaMemcpyAsync(to, from, n * sizeof(float), cudaMemcpyDeviceToDevice), "copyFloats");
}

}  // namespace tfmath::cuda
