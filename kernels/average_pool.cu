// average_pool.cu: the average-pooling kernels.
#include "kernels/average_pool.cuh"

namespace tfmath::cuda {

namespace {

// One thread per output element: its window in row-major order.
__global__ void forwardKernel(PoolShape s, const float* x, float* y, long total) {
  const long o = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (o >= total) return;
  const int c = o % s.c, j = (o / s.c) % s.outW, i = (o / s.c / s.outW) % s.outH;
  const long sample = o / (static_cast<long>(s.c) * s.outW * s.outH);
  const float* img = x + sample * s.h * s.w * s.c;
  float sum = 0.0f;
  for (int p = 0; p < s.pool; ++p)
    for (int q = 0; q < s.pool; ++q)
      sum += img[((i * s.stride + p) * s.w + j * s.stride + q) * s.c + c];
  y[o] = sum / static_cast<float>(s.pool * s.pool);
}

// One thread per input element: the windows that hold it, in output order.
__global__ void backwardKernel(PoolShape s, const float* dy, float* dx, long total) {
  const long e = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (e >= total) return;
  const int perIn = s.h * s.w * s.c;
  const int at = e % perIn, c = at % s.c, v = (at / s.c) % s.w, u = at / s.c / s.w;
  const long outBase = e / perIn * s.outH * s.outW * s.c;
  const int iLo = u >= s.pool ? (u - s.pool) / s.stride + 1 : 0;
  const int iHi = min(s.outH - 1, u / s.stride);
  const int jLo = v >= s.pool ? (v - s.pool) / s.stride + 1 : 0;
  const int jHi = min(s.outW - 1, v / s.stride);
  float sum = 0.0f;
  for (int i = iLo; i <= iHi; ++i)
    for (int j = jLo; j <= jHi; ++j)
      sum += dy[outBase + (static_cast<long>(i) * s.outW + j) * s.c + c];
  dx[e] = sum / static_cast<float>(s.pool * s.pool);
}

// One thread per (sample, channel): the positions in order.
__global__ void globalForwardKernel(int positions, int channels, const float* x, float* y,
                                    long total) {
  const long o = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (o >= total) return;
  const long sample = o / channels;
  const int c = o % channels;
  const float* img = x + sample * positions * channels + c;
  float sum = 0.0f;
  for (int at = 0; at < positions; ++at) sum += img[static_cast<long>(at) * channels];
  y[o] = sum / static_cast<float>(positions);
}

__global__ void globalBackwardKernel(int positions, int channels, const float* dy, float* dx,
                                     long total) {
  const long e = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (e >= total) return;
  const long sample = e / (static_cast<long>(positions) * channels);
  dx[e] = dy[sample * channels + e % channels] / static_cast<float>(positions);
}

}  // namespace

void averagePoolForward(const PoolShape& s, const float* x, float* y) {
  const long total = static_cast<long>(s.n) * s.outH * s.outW * s.c;
  if (total == 0) return;
  forwardKernel<<<blocksFor(total), kThreads>>>(s, x, y, total);
  check(cudaGetLastError(), "averagePoolForward");
}

void averagePoolBackward(const PoolShape& s, const float* dy, float* dx) {
  const long total = static_cast<long>(s.n) * s.h * s.w * s.c;
  if (total == 0) return;
  backwardKernel<<<blocksFor(total), kThreads>>>(s, dy, dx, total);
  check(cudaGetLastError(), "averagePoolBackward");
}

void globalAveragePoolForward(int n, int positions, int channels, const float* x, float* y) {
  const long total = static_cast<long>(n) * channels;
  if (total == 0) return;
  globalForwardKernel<<<blocksFor(total), kThreads>>>(positions, channels, x, y, total);
  check(cudaGetLastError(), "globalAveragePoolForward");
}

void globalAveragePoolBackward(int n, int positions, int channels, const float* dy, float* dx) {
  const long total = static_cast<long>(n) * positions * channels;
  if (total == 0) return;
  globalBackwardKernel<<<blocksFor(total), kThreads>>>(positions, channels, dy, dx, total);
  check(cudaGetLastError(), "globalAveragePoolBackward");
}

namespace {

class AveragePool2dLayer final : public GpuLayer {
 public:
  explicit AveragePool2dLayer(const PoolShape& s) : s_(s) {}
  void forward(const Blas&, int n, const float* x, float* y) override {
    s_.n = n;
    averagePoolForward(s_, x, y);
  }
  void backward(const Blas&, int n, const float*, const float*, const float* dy,
                float* dx) override {
    s_.n = n;
    if (dx) averagePoolBackward(s_, dy, dx);
  }

 private:
  PoolShape s_;
};

class GlobalAveragePool2dLayer final : public GpuLayer {
 public:
  GlobalAveragePool2dLayer(int positions, int channels)
      : positions_(positions), channels_(channels) {}
  void forward(const Blas&, int n, const float* x, float* y) override {
    globalAveragePoolForward(n, positions_, channels_, x, y);
  }
  void backward(const Blas&, int n, const float*, const float*, const float* dy,
                float* dx) override {
    if (dx) globalAveragePoolBackward(n, positions_, channels_, dy, dx);
  }

 private:
  int positions_, channels_;
};

}  // namespace

std::unique_ptr<GpuLayer> makeAveragePool2dLayer(const PoolShape& s) {
  return std::make_unique<AveragePool2dLayer>(s);
}

std::unique_ptr<GpuLayer> makeGlobalAveragePool2dLayer(int positions, int channels) {
  return std::make_unique<GlobalAveragePool2dLayer>(positions, channels);
}

}  // namespace tfmath::cuda
