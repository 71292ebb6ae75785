// average_pool.h: 2-D average pooling over windows, and global average pooling over each whole
// channel, channels last. Windows that would run past the input are dropped, as in max pooling.
#pragma once

#include <cstdint>

#include "ops/layer.h"
#include "ops/layer_op.h"

namespace tfmath {

const LayerOp& averagePool2dOp();
const LayerOp& globalAveragePool2dOp();

class AveragePool2d : public Layer {
 public:
  // input: per-sample shape [H, W, C]; windows of pool×pool every `stride`.
  AveragePool2d(const Shape& input, int64_t pool, int64_t stride);
  const char* op() const override { return "averagePool2d"; }
  // x: N×H×W×C, y: N×OH×OW×C: each window's sum, in row-major window order, over pool².
  void forward(const Tensor& x, Tensor& y) override;
  // dx: each input element receives the sum, over the windows that hold it in output order, of
  // their gradient, over pool².
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  int64_t h_, w_, c_, pool_, stride_;
};

class GlobalAveragePool2d : public Layer {
 public:
  // input: per-sample shape [H, W, C].
  explicit GlobalAveragePool2d(const Shape& input);
  const char* op() const override { return "globalAveragePool2d"; }
  // x: N×H×W×C, y: N×C: each channel's sum over the positions in row-major order, over H·W.
  void forward(const Tensor& x, Tensor& y) override;
  // dx = dy / (H·W) at every position of its channel.
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  int64_t positions_, c_;
};

}  // namespace tfmath
