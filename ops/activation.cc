// activation.cc: relu, sigmoid and tanh, forward and backward.
#include "ops/activation.h"

#include <cmath>

namespace tfmath {

const OpMath& reluMath() {
  static const OpMath m{
      "relu",
      "activation",
      "Rectified linear unit.",
      R"(y = \max(0, x))",
      {{"x", R"(\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,[x > 0])"}},
      "Element-wise; the gradient at exactly 0 is taken as 0.",
      "ops/activation.cc",
      "kernels/activation.cu"};
  return m;
}
const OpMath& sigmoidMath() {
  static const OpMath m{
      "sigmoid",
      "activation",
      "Logistic sigmoid.",
      R"(y = \sigma(x) = \frac{1}{1 + e^{-x}})",
      {{"x", R"(\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\, y (1 - y))"}},
      "Element-wise.",
      "ops/activation.cc",
      "kernels/activation.cu"};
  return m;
}
const OpMath& tanhMath() {
  static const OpMath m{
      "tanh",
      "activation",
      "Hyperbolic tangent.",
      R"(y = \tanh(x))",
      {{"x", R"(\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\, (1 - y^2))"}},
      "Element-wise.",
      "ops/activation.cc",
      "kernels/activation.cu"};
  return m;
}

const char* Activation::op() const {
  switch (kind_) {
    case ActivationKind::kRelu:
      return "relu";
    case ActivationKind::kSigmoid:
      return "sigmoid";
    case ActivationKind::kTanh:
      return "tanh";
  }
  return "?";
}

void Activation::forward(const Tensor& x, Tensor& y) {
  y.resize(x.shape());
  const int64_t n = x.size();
  const float* in = x.data();
  float* out = y.data();
  switch (kind_) {
    case ActivationKind::kRelu:
      for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
      break;
    case ActivationKind::kSigmoid:
      for (int64_t i = 0; i < n; ++i) out[i] = 1.0f / (1.0f + std::exp(-in[i]));
      break;
    case ActivationKind::kTanh:
      for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(in[i]);
      break;
  }
}

void Activation::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->resize(x.shape());
  const int64_t n = x.size();
  const float *out = y.data(), *g = dy.data();
  float* d = dx->data();
  switch (kind_) {
    case ActivationKind::kRelu:
      for (int64_t i = 0; i < n; ++i) d[i] = out[i] > 0.0f ? g[i] : 0.0f;
      break;
    case ActivationKind::kSigmoid:
      for (int64_t i = 0; i < n; ++i) d[i] = g[i] * out[i] * (1.0f - out[i]);
      break;
    case ActivationKind::kTanh:
      for (int64_t i = 0; i < n; ++i) d[i] = g[i] * (1.0f - out[i] * out[i]);
      break;
  }
}

}  // namespace tfmath
