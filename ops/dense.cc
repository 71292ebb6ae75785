// dense.cc: the fully connected layer over gemm().
#include "ops/dense.h"

#include "ops/gemm.h"

namespace tfmath {

const OpMath& denseMath() {
  static const OpMath m{
      "dense",
      "layer",
      "Fully connected layer with an optional activation (applied as a separate activation op).",
      R"(Y = XW + b)",
      {{"W", R"(\frac{\partial L}{\partial W} = X^\top \frac{\partial L}{\partial Y})"},
       {"b", R"(\frac{\partial L}{\partial b} = \mathbf{1}^\top \frac{\partial L}{\partial Y})"},
       {"X", R"(\frac{\partial L}{\partial X} = \frac{\partial L}{\partial Y} W^\top)"}},
      "X: N×D, W: D×U, b: U, Y: N×U.",
      "ops/dense.cc",
      "kernels/dense.cu"};
  return m;
}

Dense::Dense(const Shape& input, int64_t units) : in_(input.at(0)), units_(units) {
  outputShape_ = {units};
}

std::vector<ParamSpec> Dense::paramSpecs() const {
  return {{"w", {in_, units_}, in_, units_, false}, {"b", {units_}, in_, units_, true}};
}

void Dense::bindParams(std::vector<Param> params) {
  w_ = params.at(0);
  b_ = params.at(1);
}

void Dense::forward(const Tensor& x, Tensor& y) {
  const int64_t n = x.dim(0);
  y.resize(batched(n));
  gemm(false, false, n, units_, in_, 1.0f, x.data(), in_, w_.value, units_, 0.0f, y.data(), units_);
  y.rows().rowwise() += ConstVectorMap(b_.value, units_).transpose();
}

void Dense::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const int64_t n = x.dim(0);
  // dW (D×U) += Xᵀ (D×N) · dY (N×U)
  gemm(true, false, in_, units_, n, 1.0f, x.data(), in_, dy.data(), units_, 1.0f, w_.grad, units_);
  // db (U) += column sums of dY
  VectorMap(b_.grad, units_) += dy.rows().colwise().sum().transpose();
  if (dx) {
    // dX (N×D) = dY (N×U) · Wᵀ (U×D)
    dx->resize(x.shape());
    gemm(false, true, n, in_, units_, 1.0f, dy.data(), units_, w_.value, units_, 0.0f, dx->data(),
         in_);
  }
}

}  // namespace tfmath
