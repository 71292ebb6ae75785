// flatten.cc: a reshape, copying the data.
#include "ops/flatten.h"

#include <algorithm>

namespace tfmath {

const OpMath& flattenMath() {
  static const OpMath m{
      "flatten",
      "layer",
      "Reshapes each sample to a vector (row-major, channels last).",
      R"(Y_{n,\,(i W + j) C + c} = X_{n,i,j,c})",
      {{"X",
        R"(\frac{\partial L}{\partial X} = \operatorname{reshape}\left(\frac{\partial L}{\partial Y}\right))"}},
      "X: N×H×W×C, Y: N×(H·W·C).",
      "ops/flatten.cc",
      "kernels/activation.cu"};
  return m;
}

void Flatten::forward(const Tensor& x, Tensor& y) {
  y.resize(batched(x.dim(0)));
  std::copy_n(x.data(), x.size(), y.data());
}

void Flatten::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->resize(x.shape());
  std::copy_n(dy.data(), dy.size(), dx->data());
}

}  // namespace tfmath
