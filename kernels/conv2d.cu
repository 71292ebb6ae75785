// conv2d.cu: im2col, col2im and the convolution's GEMMs.
#include "kernels/conv2d.cuh"
#include "kernels/dense.cuh"

namespace tfmath::cuda {

namespace {

// col[(n·OH + i)·OW + j, (p·K + q)·C + c] = x[n, s·i + p − padTop, s·j + q − padLeft, c], or 0 in
// the padding. One thread per entry.
__global__ void im2colKernel(ConvShape s, const float* x, float* col, long total) {
  const long e = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (e >= total) return;
  const int patch = s.patchLength();
  const long row = e / patch;
  const int k = e % patch, c = k % s.c, q = (k / s.c) % s.kernel, p = k / s.c / s.kernel;
  const int j = row % s.outW, i = (row / s.outW) % s.outH;
  const long sample = row / (static_cast<long>(s.outW) * s.outH);
  const int u = i * s.stride + p - s.padTop, v = j * s.stride + q - s.padLeft;
  col[e] =
      u < 0 || u >= s.h || v < 0 || v >= s.w ? 0.0f : x[((sample * s.h + u) * s.w + v) * s.c + c];
}

// dx[n, u, v, c] = Σ of the dcol entries im2col copied from that pixel, in patch-row order (the
// order the CPU adds them in). One thread per pixel.
__global__ void col2imKernel(ConvShape s, const float* dcol, float* dx, long total) {
  const long e = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (e >= total) return;
  const int c = e % s.c, v = (e / s.c) % s.w, u = (e / s.c / s.w) % s.h;
  const long sample = e / (static_cast<long>(s.c) * s.w * s.h);
  const int patch = s.patchLength();
  float sum = 0.0f;
  for (int i = 0; i < s.outH; ++i) {
    const int p = u + s.padTop - i * s.stride;
    if (p < 0 || p >= s.kernel) continue;
    for (int j = 0; j < s.outW; ++j) {
      const int q = v + s.padLeft - j * s.stride;
      if (q < 0 || q >= s.kernel) continue;
      const long row = (sample * s.outH + i) * s.outW + j;
      sum += dcol[row * patch + (p * s.kernel + q) * s.c + c];
    }
  }
  dx[e] = sum;
}

}  // namespace

void conv2dForward(const Blas& blas, const ConvShape& s, const float* x, const float* kernel,
                   const float* bias, float* col, float* y) {
  const long rows = s.patchRows(), total = rows * s.patchLength();
  if (total == 0) return;
  im2colKernel<<<blocksFor(total), kThreads>>>(s, x, col, total);
  check(cudaGetLastError(), "im2col");
  gemm(blas, false, false, static_cast<int>(rows), s.filters, s.patchLength(), 1.0f, col,
       s.patchLength(), kernel, s.filters, 0.0f, y, s.filters);
  addRowVector(y, bias, rows, s.filters);
}

void conv2dBackward(const Blas& blas, const ConvShape& s, const float* col, const float* kernel,
                    const float* dy, float* dkernel, float* dbias, float* dcol, float* dx) {
  const long rows = s.patchRows();
  if (rows == 0) return;
  const int patch = s.patchLength();
  gemm(blas, true, false, patch, s.filters, static_cast<int>(rows), 1.0f, col, patch, dy, s.filters,
       1.0f, dkernel, s.filters);
  addColumnSums(dy, rows, s.filters, dbias);
  if (!dx) return;
  gemm(blas, false, true, static_cast<int>(rows), patch, s.filters, 1.0f, dy, s.filters, kernel,
       s.filters, 0.0f, dcol, patch);
  const long pixels = static_cast<long>(s.n) * s.h * s.w * s.c;
  col2imKernel<<<blocksFor(pixels), kThreads>>>(s, dcol, dx, pixels);
  check(cudaGetLastError(), "col2im");
}

namespace {

// Keeps the patch matrix of its forward for its backward.
class Conv2dLayer final : public GpuLayer {
 public:
  explicit Conv2dLayer(const ConvShape& s) : s_(s) {}
  void bindParams(const std::vector<DeviceParam>& params) override {
    kernel_ = params.at(0);
    bias_ = params.at(1);
  }
  void reserve(int n) override {
    s_.n = n;
    col_.reserve(s_.patchRows() * s_.patchLength());
    dcol_.reserve(s_.patchRows() * s_.patchLength());
  }
  void forward(const Blas& blas, int n, const float* x, float* y) override {
    s_.n = n;
    conv2dForward(blas, s_, x, kernel_.value, bias_.value,
                  col_.reserve(s_.patchRows() * s_.patchLength()), y);
  }
  void backward(const Blas& blas, int n, const float*, const float*, const float* dy,
                float* dx) override {
    s_.n = n;
    conv2dBackward(blas, s_, col_.data.get(), kernel_.value, dy, kernel_.grad, bias_.grad,
                   dx ? dcol_.reserve(s_.patchRows() * s_.patchLength()) : nullptr, dx);
  }

 private:
  ConvShape s_;
  DeviceParam kernel_, bias_;
  Scratch<float> col_, dcol_;
};

}  // namespace

std::unique_ptr<GpuLayer> makeConv2dLayer(const ConvShape& s) {
  return std::make_unique<Conv2dLayer>(s);
}

}  // namespace tfmath::cuda
