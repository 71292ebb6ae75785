// optimizer.cu: the SGD and Adam kernels.
#include <cmath>

#include "kernels/optimizer.cuh"

namespace tfmath::cuda {

namespace {

__global__ void sgdKernel(float* w, const float* g, float* v, long size, float lr, float mu,
                          float wd, bool nesterov) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i >= size) return;
  const float grad = g[i] + wd * w[i];
  if (!v) {
    w[i] -= lr * grad;
    return;
  }
  v[i] = mu * v[i] + grad;
  w[i] -= lr * (nesterov ? grad + mu * v[i] : v[i]);
}

__global__ void adamKernel(float* w, const float* g, float* m, float* v, long size, float lr,
                           float b1, float b2, float eps, float c1, float c2) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i >= size) return;
  m[i] = b1 * m[i] + (1.0f - b1) * g[i];
  v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
  w[i] -= lr * (m[i] / c1) / (sqrtf(v[i]) / c2 + eps);
}

__global__ void scaleKernel(float* v, long size, float factor) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i < size) v[i] *= factor;
}

}  // namespace

void scaleFloats(float* v, long size, float factor) {
  if (size == 0) return;
  scaleKernel<<<blocksFor(size), kThreads>>>(v, size, factor);
  check(cudaGetLastError(), "scaleFloats");
}

void sgdUpdate(float* w, const float* g, float* velocity, long size, float learningRate,
               float momentum, float weightDecay, bool nesterov) {
  if (size == 0) return;
  sgdKernel<<<blocksFor(size), kThreads>>>(w, g, momentum > 0 ? velocity : nullptr, size,
                                           learningRate, momentum, weightDecay, nesterov);
  check(cudaGetLastError(), "sgdUpdate");
}

void adamUpdate(float* w, const float* g, float* m, float* v, long size, double learningRate,
                double beta1, double beta2, double epsilon, unsigned long long step) {
  if (size == 0) return;
  // m̂ = m / c1 and √v̂ = √v / c2, computed as the CPU computes them.
  const double t = static_cast<double>(step);
  const float c1 = static_cast<float>(1.0 - std::pow(beta1, t));
  const float c2 = static_cast<float>(std::sqrt(1.0 - std::pow(beta2, t)));
  adamKernel<<<blocksFor(size), kThreads>>>(w, g, m, v, size, static_cast<float>(learningRate),
                                            static_cast<float>(beta1), static_cast<float>(beta2),
                                            static_cast<float>(epsilon), c1, c2);
  check(cudaGetLastError(), "adamUpdate");
}

}  // namespace tfmath::cuda
