// conv2d.h: 2-D convolution, channels last (NHWC), through oneDNN where the build has it, else
// through im2col + GEMM, which stays the reference the tests compare oneDNN with.
#pragma once

#include <memory>

#include "ops/layer.h"
#include "ops/layer_op.h"

#ifdef TFMATH_ONEDNN
#include "ops/conv2d_onednn.h"
#endif

namespace tfmath {

const LayerOp& conv2dOp();

// Output size along one axis and the padding before it. `same` pads to ceil(in / stride) outputs
// and puts any odd extra padding after (TensorFlow's rule).
struct ConvAxis {
  int64_t out = 0, padBefore = 0;
};
ConvAxis convAxis(int64_t in, int64_t kernel, int64_t stride, bool same);

// How a Conv2d computes: im2col + GEMM (any build), or oneDNN (a build with TFMATH_ONEDNN).
enum class ConvEngine { im2col, onednn };
// oneDNN when this build has it, else im2col.
ConvEngine fastestConvEngine();

class Conv2d : public Layer {
 public:
  // input: per-sample shape [H, W, C].
  Conv2d(const Shape& input, int64_t filters, int64_t kernel, int64_t stride, bool same,
         ConvEngine engine = fastestConvEngine());
  ~Conv2d() override;
  const char* op() const override { return "conv2d"; }
  std::vector<ParamSpec> paramSpecs() const override;
  void bindParams(std::vector<Param> params) override;
  // x: N×H×W×C, y: N×OH×OW×F.
  void forward(const Tensor& x, Tensor& y) override;
  // On oneDNN, a relu after the convolution runs as its post-op.
  bool fusesNext(const char* next) const override;
  void forwardFused(const Tensor& x, Tensor& y) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  // The per-sample input [H, W, C], the filters, kernel and stride, and the output along each axis.
  Shape input() const { return {h_, w_, c_}; }
  int64_t filters() const { return filters_; }
  int64_t kernel() const { return k_; }
  int64_t stride() const { return stride_; }
  const ConvAxis& rows() const { return rows_; }
  const ConvAxis& cols() const { return cols_; }

 private:
  void im2col(const Tensor& x);
  // Pixel is float (col2im writes the image) or const float (im2col reads it).
  template <typename Pixel, typename Visit>
  void forEachKernelRow(int64_t n, float* col, Pixel* image, Visit visit) const;
  int64_t h_, w_, c_, filters_, k_, stride_;
  ConvAxis rows_, cols_;
  Param kernel_, bias_;  // kernel: K×K×C×F (a (K·K·C)×F matrix), bias: F
  FloatBuffer col_;      // im2col: (N·OH·OW)×(K·K·C), from the last forward
  FloatBuffer dcol_;     // im2col: same shape, backward scratch
#ifdef TFMATH_ONEDNN
  std::unique_ptr<OneDnnConv2d> onednn_;  // set when the engine is oneDNN
  FloatBuffer dKernel_, dBias_;           // oneDNN writes gradients; they are added from here
#endif
};

}  // namespace tfmath
