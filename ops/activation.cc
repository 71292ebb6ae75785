// activation.cc: relu, sigmoid and tanh: each function with its derivative, and its registry
// entry.
#include "ops/activation.h"

#include <cmath>

#ifdef TFMATH_HAVE_CUDA
#include "kernels/activation.cuh"
#endif

namespace tfmath {

namespace {

struct Relu {
  static constexpr const char* kName = "relu";
  static constexpr bool kKinked = true;
  static float f(float x) { return x > 0.0f ? x : 0.0f; }
  static float dfFromY(float y, float g) { return y > 0.0f ? g : 0.0f; }
  // The branch of an output: the identity (1) or zero (0).
  static uint8_t branch(float y) { return y > 0.0f ? 1 : 0; }
  static float onBranch(float x, uint8_t identity) { return identity ? x : 0.0f; }
};
struct Sigmoid {
  static constexpr const char* kName = "sigmoid";
  static constexpr bool kKinked = false;
  static float f(float x) { return 1.0f / (1.0f + std::exp(-x)); }
  static float dfFromY(float y, float g) { return g * y * (1.0f - y); }
};
struct Tanh {
  static constexpr const char* kName = "tanh";
  static constexpr bool kKinked = false;
  static float f(float x) { return std::tanh(x); }
  static float dfFromY(float y, float g) { return g * (1.0f - y * y); }
};

// An activation keeps its input's shape, whatever it is.
Shape sameShape(const LayerArgs& a, const std::string&, Problems&) { return a.input; }

template <typename F>
std::unique_ptr<Layer> cpuActivation(const LayerArgs& a) {
  return std::make_unique<Activation<F>>(a.input);
}

}  // namespace

const LayerOp& reluOp() {
  static const LayerOp op{
      .math = {"relu",
               "activation",
               "Rectified linear unit.",
               R"(y = \max(0, x))",
               {{"x", R"(\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,[x > 0])"}},
               "Element-wise; the gradient at exactly 0 is taken as 0.",
               "ops/activation.cc",
               "kernels/activation.cu"},
      .schemaCase = proto::Layer::ACTIVATION,
      .activation = proto::Activation::RELU,
      .outputShape = sameShape,
      .heInitBefore = true,
      .cpu = cpuActivation<Relu>,
      .gpu = TFMATH_GPU_FACTORY(
          [](const LayerArgs& a) { return cuda::makeReluLayer(numel(a.input)); }),
  };
  return op;
}

const LayerOp& sigmoidOp() {
  static const LayerOp op{
      .math = {"sigmoid",
               "activation",
               "Logistic sigmoid.",
               R"(y = \sigma(x) = \frac{1}{1 + e^{-x}})",
               {{"x",
                 R"(\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\, y (1 - y))"}},
               "Element-wise.",
               "ops/activation.cc",
               "kernels/activation.cu"},
      .schemaCase = proto::Layer::ACTIVATION,
      .activation = proto::Activation::SIGMOID,
      .outputShape = sameShape,
      .cpu = cpuActivation<Sigmoid>,
      .gpu = TFMATH_GPU_FACTORY(
          [](const LayerArgs& a) { return cuda::makeSigmoidLayer(numel(a.input)); }),
  };
  return op;
}

const LayerOp& tanhOp() {
  static const LayerOp op{
      .math = {"tanh",
               "activation",
               "Hyperbolic tangent.",
               R"(y = \tanh(x))",
               {{"x",
                 R"(\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\, (1 - y^2))"}},
               "Element-wise.",
               "ops/activation.cc",
               "kernels/activation.cu"},
      .schemaCase = proto::Layer::ACTIVATION,
      .activation = proto::Activation::TANH,
      .outputShape = sameShape,
      .cpu = cpuActivation<Tanh>,
      .gpu = TFMATH_GPU_FACTORY(
          [](const LayerArgs& a) { return cuda::makeTanhLayer(numel(a.input)); }),
  };
  return op;
}

}  // namespace tfmath
