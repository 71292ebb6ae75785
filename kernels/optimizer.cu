// optimizer.cu: the SGD, Adam and AdamW kernels, and the sum of squares for clipping.
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
                           float b1, float b2, float eps, float wd, float c1, float c2) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i >= size) return;
  m[i] = b1 * m[i] + (1.0f - b1) * g[i];
  v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
  w[i] -= lr * ((m[i] / c1) / (sqrtf(v[i]) / c2 + eps) + wd * w[i]);
}

// Block b sums the squares of elements b·kThreads + t, stepping by the whole grid, then halves
// its threads' sums in a fixed tree; partial[b] is the block's sum.
__global__ void squaresKernel(const float* v, long size, double* partial) {
  __shared__ double sums[kThreads];
  double sum = 0;
  for (long i = blockIdx.x * static_cast<long>(kThreads) + threadIdx.x; i < size;
       i += static_cast<long>(kSumOfSquaresPartials) * kThreads)
    sum += static_cast<double>(v[i]) * v[i];
  sums[threadIdx.x] = sum;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) sums[threadIdx.x] += sums[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = sums[0];
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
                double beta1, double beta2, double epsilon, double weightDecay,
                unsigned long long step) {
  if (size == 0) return;
  // m̂ = m / c1 and √v̂ = √v / c2, computed as the CPU computes them.
  const double t = static_cast<double>(step);
  const float c1 = static_cast<float>(1.0 - std::pow(beta1, t));
  const float c2 = static_cast<float>(std::sqrt(1.0 - std::pow(beta2, t)));
  adamKernel<<<blocksFor(size), kThreads>>>(w, g, m, v, size, static_cast<float>(learningRate),
                                            static_cast<float>(beta1), static_cast<float>(beta2),
                                            static_cast<float>(epsilon),
                                            static_cast<float>(weightDecay), c1, c2);
  check(cudaGetLastError(), "adamUpdate");
}

double sumOfSquares(const float* v, long size, double* partial) {
  squaresKernel<<<kSumOfSquaresPartials, kThreads>>>(v, size, partial);
  check(cudaGetLastError(), "sumOfSquares");
  const std::vector<double> sums = toHost(partial, kSumOfSquaresPartials);
  double total = 0;
  for (double s : sums) total += s;
  return total;
}

}  // namespace tfmath::cuda
