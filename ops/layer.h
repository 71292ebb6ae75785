// layer.h: the contract every layer op follows, after llm.c:
//   forward(x, y)            y = f(x; θ), written (=)
//   backward(x, y, dy, dx)   dx = ∂L/∂x written (=) when dx is non-null; ∂L/∂θ accumulated (+=)
// Tensors are batched: dim 0 is the sample. A layer is built for one per-sample input shape and
// knows its output shape. Layers keep scratch from forward for backward; not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/draws.h"
#include "ops/tensor.h"

namespace tfmath {

// A parameter tensor: views into the model's flat value and gradient buffers.
struct Param {
  std::string name;  // e.g. layer0.w
  Shape shape;
  float* value = nullptr;
  float* grad = nullptr;
  int64_t size() const { return numel(shape); }
};

// How a parameter starts: zeros (biases), or drawn with a spread from its fans: He normal,
// σ = √(2/fan_in), when the op after its layer asks for it (relu), Glorot uniform,
// limit √(6/(fan_in + fan_out)), otherwise. Deterministic from the job's seed.
enum class Init { zeros, fanScaled };

// What a layer asks the model to allocate for it.
struct ParamSpec {
  std::string suffix;  // "w" or "b"
  Shape shape;
  int64_t fanIn = 0;   // inputs feeding each output, for initialisation
  int64_t fanOut = 0;  // outputs fed by each input
  Init init = Init::fanScaled;
};

class Layer {
 public:
  virtual ~Layer() = default;
  // The op's registry name, e.g. "dense".
  virtual const char* op() const = 0;
  // Per-sample output shape.
  const Shape& outputShape() const { return outputShape_; }
  virtual std::vector<ParamSpec> paramSpecs() const { return {}; }
  // Receives the views for paramSpecs(), in the same order.
  virtual void bindParams(std::vector<Param> /*params*/) {}
  virtual void forward(const Tensor& x, Tensor& y) = 0;
  virtual void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) = 0;
  // For finite-difference checks: a piecewise op (relu's side of 0, a pooling window's arg-max)
  // holds each branch where the forward that wrote `y` put it, and later forwards follow those
  // branches even where the input has crossed a kink, so they compute the smooth piece that
  // backward differentiates. Release returns to the plain forward. Smooth ops ignore both.
  virtual void holdBranches(const Tensor& /*y*/) {}
  virtual void releaseBranches() {}
  // Whether forwardFused() computes this op and the element-wise op named `next` after it in one
  // pass, with the same bits as the two forwards (a convolution with relu as oneDNN's post-op).
  // The model then skips the next op's forward, except while branches are held.
  virtual bool fusesNext(const char* /*next*/) const { return false; }
  // y = next(this(x)) for the `next` that fusesNext() accepts, written as next's forward would.
  virtual void forwardFused(const Tensor& x, Tensor& y) { forward(x, y); }
  // What the next forward draws from (base/draws.h); the model sets it before each forward. Only
  // stochastic ops (dropout) use it.
  virtual void setDraws(const BatchDraws& /*draws*/) {}

 protected:
  // The batched shape of an output for n samples.
  Shape batched(int64_t n) const {
    Shape s{n};
    s.insert(s.end(), outputShape_.begin(), outputShape_.end());
    return s;
  }
  Shape outputShape_;
};

}  // namespace tfmath
