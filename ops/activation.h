// activation.h: element-wise activations (relu, sigmoid, tanh), as layers of their own. A dense or
// conv2d layer with `activation = relu` is built as that layer followed by one of these.
#pragma once

#include "ops/layer.h"
#include "ops/op_math.h"

namespace tfmath {

enum class ActivationKind { kRelu, kSigmoid, kTanh };

const OpMath& reluMath();
const OpMath& sigmoidMath();
const OpMath& tanhMath();

class Activation : public Layer {
 public:
  Activation(const Shape& input, ActivationKind kind) : kind_(kind) { outputShape_ = input; }
  const char* op() const override;
  ActivationKind kind() const { return kind_; }
  // y = f(x), same shape.
  void forward(const Tensor& x, Tensor& y) override;
  // dx = dy ⊙ f'(x), with f' written in terms of y.
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  ActivationKind kind_;
};

}  // namespace tfmath
