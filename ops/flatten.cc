// flatten.cc: a reshape, copying the data.
#include "ops/flatten.h"

#include <algorithm>

#ifdef TFMATH_HAVE_CUDA
#include "kernels/flatten.cuh"
#endif

namespace tfmath {

const LayerOp& flattenOp() {
  static const LayerOp op{
      .math =
          {"flatten",
           "layer",
           "Reshapes each sample to a vector (row-major, channels last).",
           R"(Y_{n,\,(i W + j) C + c} = X_{n,i,j,c})",
           {{"X",
             R"(\frac{\partial L}{\partial X} = \operatorname{reshape}\left(\frac{\partial L}{\partial Y}\right))"}},
           "X: N×H×W×C, Y: N×(H·W·C).",
           "ops/flatten.cc",
           "kernels/flatten.cu"},
      .schemaCase = proto::Layer::FLATTEN,
      .outputShape = [](const LayerArgs& a, const std::string&, Problems&) -> Shape {
        return {numel(a.input)};
      },
      .cpu = [](const LayerArgs& a) -> std::unique_ptr<Layer> {
        return std::make_unique<Flatten>(a.input);
      },
      .gpu = TFMATH_GPU_FACTORY(
          [](const LayerArgs& a) { return cuda::makeFlattenLayer(numel(a.input)); }),
  };
  return op;
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
