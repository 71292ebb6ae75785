// conv2d_onednn.h: conv2d's forward and both backward passes through oneDNN, on tfmath's own
// layouts (NHWC images, a K×K×C×F kernel): oneDNN picks the kernel's inner layout, and the kernel
// is reordered to it and back around each call. Conv2d uses it when the build has oneDNN; the
// im2col + GEMM path stays the reference the tests compare it with.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

namespace tfmath {

// One convolution's geometry: per-sample input H×W×C, F filters of K×K, the stride, the output
// size and the padding before and after along each axis.
struct ConvGeometry {
  int64_t h, w, c, filters, kernel, stride;
  int64_t outH, outW, padTop, padLeft, padBottom, padRight;
};

class OneDnnConv2d {
 public:
  explicit OneDnnConv2d(const ConvGeometry& g);
  ~OneDnnConv2d();
  // y (n×OH×OW×F) = conv(x (n×H×W×C), kernel) + bias, and then max(0, ·) when `relu` (oneDNN's
  // eltwise post-op).
  void forward(int64_t n, const float* x, const float* kernel, const float* bias, float* y,
               bool relu = false);
  // dKernel and dBias written (=), from the x of forward and dy.
  void backwardWeights(int64_t n, const float* x, const float* dy, float* dKernel, float* dBias);
  // dx written (=).
  void backwardData(int64_t n, const float* dy, const float* kernel, float* dx);

 private:
  struct Passes;  // the primitives for one batch size
  Passes& passes(int64_t n);
  ConvGeometry g_;
  std::map<int64_t, std::unique_ptr<Passes>> byBatch_;  // training and evaluation batches differ
};

}  // namespace tfmath
