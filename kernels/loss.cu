// loss.cu: the fused softmax cross-entropy, mse, and the fixed-order sum they share.
#include <algorithm>

#include "kernels/loss.cuh"

namespace tfmath::cuda {

namespace {

// One thread per sample: the row's maximum, log-sum-exp (in double, as on the CPU), loss, arg-max
// and gradient.
__global__ void softmaxCrossEntropyKernel(const float* logits, const float* labels, float* dlogits,
                                          int n, int k, double* rowLoss, double* rowCorrect) {
  const int s = blockIdx.x * blockDim.x + threadIdx.x;
  if (s >= n) return;
  const float* z = logits + static_cast<long>(s) * k;
  const int y = static_cast<int>(labels[s]);
  int best = 0;
  for (int j = 1; j < k; ++j) best = z[j] > z[best] ? j : best;
  const float m = z[best];
  double total = 0;
  for (int j = 0; j < k; ++j) total += exp(static_cast<double>(z[j] - m));
  const double logTotal = log(total);
  rowLoss[s] = logTotal + m - z[y];
  rowCorrect[s] = best == y ? 1.0 : 0.0;
  if (dlogits) {
    float* g = dlogits + static_cast<long>(s) * k;
    for (int j = 0; j < k; ++j)
      g[j] = static_cast<float>(exp(static_cast<double>(z[j] - m) - logTotal)) -
             (j == y ? 1.0f : 0.0f);
  }
}

__global__ void mseKernel(const float* pred, const float* target, float* dpred, long total, int d,
                          double* elementLoss) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i >= total) return;
  const float diff = pred[i] - target[i];
  elementLoss[i] = static_cast<double>(diff) * diff / d;
  if (dpred) dpred[i] = 2.0f * diff / static_cast<float>(d);
}

// One block: each thread sums a fixed stride, then a fixed tree. Deterministic.
__global__ void sumKernel(const double* v, long n, double* out) {
  __shared__ double partial[kThreads];
  double sum = 0;
  for (long i = threadIdx.x; i < n; i += blockDim.x) sum += v[i];
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) *out = partial[0];
}

// This thread's device scratch for per-row (or per-element) losses, kept between calls: the loss
// runs every training step, where a cudaMalloc/cudaFree pair would stall the device each time.
double* scratch(size_t count) {
  thread_local DeviceArray<double> buffer;
  thread_local size_t capacity = 0;
  if (count > capacity) {
    check(cudaDeviceSynchronize(), "wait for the device before growing the loss scratch");
    buffer = deviceArray<double>(count);
    capacity = count;
  }
  return buffer.get();
}

void sumInto(const double* v, long n, double* out) {
  sumKernel<<<1, kThreads>>>(v, n, out);
  check(cudaGetLastError(), "sum");
}

}  // namespace

void reserveLoss(int n, int k) {
  // softmax cross-entropy takes 2n, mse n·k
  scratch(std::max(2 * static_cast<size_t>(n), static_cast<size_t>(n) * static_cast<size_t>(k)));
}

void softmaxCrossEntropy(const float* logits, const float* labels, float* dlogits, int n, int k,
                         double* sums) {
  if (n == 0) {
    check(cudaMemsetAsync(sums, 0, 2 * sizeof(double)), "clear the loss sums");
    return;
  }
  double* rowLoss = scratch(2 * static_cast<size_t>(n));
  double* rowCorrect = rowLoss + n;
  softmaxCrossEntropyKernel<<<blocksFor(n), kThreads>>>(logits, labels, dlogits, n, k, rowLoss,
                                                        rowCorrect);
  check(cudaGetLastError(), "softmaxCrossEntropy");
  sumInto(rowLoss, n, sums);
  sumInto(rowCorrect, n, sums + 1);
}

void mse(const float* pred, const float* target, float* dpred, int n, int d, double* sums) {
  const long total = static_cast<long>(n) * d;
  check(cudaMemsetAsync(sums, 0, 2 * sizeof(double)), "clear the loss sums");
  if (total == 0) return;
  double* elementLoss = scratch(static_cast<size_t>(total));
  mseKernel<<<blocksFor(total), kThreads>>>(pred, target, dpred, total, d, elementLoss);
  check(cudaGetLastError(), "mse");
  sumInto(elementLoss, total, sums);
}

}  // namespace tfmath::cuda
