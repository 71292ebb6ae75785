// dense.cc: the fully connected layer over gemm().
#include "ops/dense.h"

#include "ops/gemm.h"

#ifdef TFMATH_HAVE_CUDA
#include "kernels/dense.cuh"
#endif

namespace tfmath {

const LayerOp& denseOp() {
  static const LayerOp op{
      .math =
          {"dense",
           "layer",
           "Fully connected layer with an optional activation (applied as a separate "
           "activation op).",
           R"(Y = XW + b)",
           {{"W", R"(\frac{\partial L}{\partial W} = X^\top \frac{\partial L}{\partial Y})"},
            {"b",
             R"(\frac{\partial L}{\partial b} = \mathbf{1}^\top \frac{\partial L}{\partial Y})"},
            {"X", R"(\frac{\partial L}{\partial X} = \frac{\partial L}{\partial Y} W^\top)"}},
           "X: N×D, W: D×U, b: U, Y: N×U.",
           "ops/dense.cc",
           "kernels/dense.cu"},
      .schemaCase = proto::Layer::DENSE,
      .checkFields =
          [](proto::Layer::Reader l, const std::string& field, Problems& p) {
            p.check(l.getDense().getUnits() > 0, field + ".units", "must be > 0");
          },
      .outputShape = [](const LayerArgs& a, const std::string& field, Problems& p) -> Shape {
        if (!p.check(a.input.size() == 1, field,
                     "needs a 1-D input per sample but gets " + shapeString(a.input) +
                         " per sample; put (flatten = void) before it"))
          return {};
        return {a.layer.getDense().getUnits()};
      },
      .fusedActivation = [](proto::Layer::Reader l) { return l.getDense().getActivation(); },
      .cpu = [](const LayerArgs& a) -> std::unique_ptr<Layer> {
        return std::make_unique<Dense>(a.input, a.layer.getDense().getUnits());
      },
      .gpu = TFMATH_GPU_FACTORY([](const LayerArgs& a) {
        return cuda::makeDenseLayer(static_cast<int>(a.input.at(0)),
                                    static_cast<int>(a.layer.getDense().getUnits()));
      }),
  };
  return op;
}

Dense::Dense(const Shape& input, int64_t units) : in_(input.at(0)), units_(units) {
  outputShape_ = {units};
}

std::vector<ParamSpec> Dense::paramSpecs() const {
  return {{"w", {in_, units_}, in_, units_, Init::fanScaled},
          {"b", {units_}, in_, units_, Init::zeros}};
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
