// flatten.h: reshapes each sample to 1-D; the data is unchanged.
#pragma once

#include "ops/layer.h"
#include "ops/layer_op.h"

namespace tfmath {

const LayerOp& flattenOp();

class Flatten : public Layer {
 public:
  explicit Flatten(const Shape& input) { outputShape_ = {numel(input)}; }
  const char* op() const override { return "flatten"; }
  // x: N×(any), y: N×(product of the rest).
  void forward(const Tensor& x, Tensor& y) override;
  // dx = dy, reshaped back.
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
};

}  // namespace tfmath
