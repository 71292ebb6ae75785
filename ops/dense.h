// dense.h: the fully connected layer, Y = XW + b.
#pragma once

#include "ops/layer.h"
#include "ops/layer_op.h"

namespace tfmath {

const LayerOp& denseOp();

class Dense : public Layer {
 public:
  // input: per-sample shape [D]; units: U.
  Dense(const Shape& input, int64_t units);
  const char* op() const override { return "dense"; }
  std::vector<ParamSpec> paramSpecs() const override;
  void bindParams(std::vector<Param> params) override;
  // x: N×D, y: N×U.
  void forward(const Tensor& x, Tensor& y) override;
  // dy: N×U; dW += XᵀdY, db += 1ᵀdY, dX = dY Wᵀ.
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  int64_t inputs() const { return in_; }
  int64_t units() const { return units_; }

 private:
  int64_t in_, units_;
  Param w_, b_;  // W: D×U, b: U
};

}  // namespace tfmath
