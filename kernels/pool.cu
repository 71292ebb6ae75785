// pool.cu: the max-pool kernels.
#include "kernels/pool.cuh"

namespace tfmath::cuda {

namespace {

// One thread per output element.
__global__ void forwardKernel(PoolShape s, const float* x, float* y, int* argmax, long total) {
  const long o = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (o >= total) return;
  const int oh = s.outH, ow = s.outW;
  const int c = o % s.c, j = (o / s.c) % ow, i = (o / s.c / ow) % oh;
  const long sample = o / (static_cast<long>(s.c) * ow * oh);
  const float* img = x + sample * s.h * s.w * s.c;
  int best = (i * s.stride * s.w + j * s.stride) * s.c + c;
  float value = img[best];
  for (int p = 0; p < s.pool; ++p)
    for (int q = 0; q < s.pool; ++q) {
      const int at = ((i * s.stride + p) * s.w + j * s.stride + q) * s.c + c;
      if (img[at] > value) {
        value = img[at];
        best = at;
      }
    }
  y[o] = value;
  argmax[o] = best;
}

// One thread per input element: the windows that cover it, in output order.
__global__ void backwardKernel(PoolShape s, const int* argmax, const float* dy, float* dx,
                               long total) {
  const long e = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (e >= total) return;
  const int oh = s.outH, ow = s.outW;
  const int perIn = s.h * s.w * s.c;
  const int at = e % perIn, c = at % s.c, v = (at / s.c) % s.w, u = at / s.c / s.w;
  const long sample = e / perIn, outBase = sample * oh * ow * s.c;
  const int iLo = u >= s.pool ? (u - s.pool) / s.stride + 1 : 0, iHi = min(oh - 1, u / s.stride);
  const int jLo = v >= s.pool ? (v - s.pool) / s.stride + 1 : 0, jHi = min(ow - 1, v / s.stride);
  float sum = 0.0f;
  for (int i = iLo; i <= iHi; ++i)
    for (int j = jLo; j <= jHi; ++j) {
      const long o = outBase + (static_cast<long>(i) * ow + j) * s.c + c;
      if (argmax[o] == at) sum += dy[o];
    }
  dx[e] = sum;
}

}  // namespace

void maxPoolForward(const PoolShape& s, const float* x, float* y, int* argmax) {
  const long total = static_cast<long>(s.n) * s.outH * s.outW * s.c;
  if (total == 0) return;
  forwardKernel<<<blocksFor(total), kThreads>>>(s, x, y, argmax, total);
  check(cudaGetLastError(), "maxPoolForward");
}

void maxPoolBackward(const PoolShape& s, const int* argmax, const float* dy, float* dx) {
  const long total = static_cast<long>(s.n) * s.h * s.w * s.c;
  if (total == 0) return;
  backwardKernel<<<blocksFor(total), kThreads>>>(s, argmax, dy, dx, total);
  check(cudaGetLastError(), "maxPoolBackward");
}

namespace {

class MaxPool2dLayer final : public GpuLayer {
 public:
  explicit MaxPool2dLayer(const PoolShape& s) : s_(s) {}
  void reserve(int n) override { argmax_.reserve(outputs(n)); }
  void forward(const Blas&, int n, const float* x, float* y) override {
    s_.n = n;
    maxPoolForward(s_, x, y, argmax_.reserve(outputs(n)));
  }
  void backward(const Blas&, int n, const float*, const float*, const float* dy,
                float* dx) override {
    s_.n = n;
    if (dx) maxPoolBackward(s_, argmax_.data.get(), dy, dx);
  }

 private:
  size_t outputs(int n) const { return static_cast<size_t>(n) * s_.outH * s_.outW * s_.c; }
  PoolShape s_;
  Scratch<int> argmax_;
};

}  // namespace

std::unique_ptr<GpuLayer> makeMaxPool2dLayer(const PoolShape& s) {
  return std::make_unique<MaxPool2dLayer>(s);
}

}  // namespace tfmath::cuda
