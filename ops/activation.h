// activation.h: element-wise activations (relu, sigmoid, tanh), as layers of their own. A dense or
// conv2d layer with `activation = relu` is built as that layer followed by one of these.
#pragma once

#include <cstdint>
#include <vector>

#include "base/assert.h"
#include "ops/layer.h"
#include "ops/layer_op.h"
#include "ops/parallel.h"

namespace tfmath {

const LayerOp& reluOp();
const LayerOp& sigmoidOp();
const LayerOp& tanhOp();

// One activation: F gives f(x) and the derivative in terms of y = f(x) (see activation.cc). A
// kinked F (kKinked) also names the branch an output lies on and f restricted to a branch.
template <typename F>
class Activation final : public Layer {
 public:
  explicit Activation(const Shape& input) { outputShape_ = input; }
  const char* op() const override { return F::kName; }
  // y = f(x), same shape; f on the held branches while they are held.
  void forward(const Tensor& x, Tensor& y) override {
    y.resize(x.shape());
    const int64_t n = x.size();
    const float* in = x.data();
    float* out = y.data();
    if constexpr (F::kKinked) {
      if (!held_.empty()) {
        TFMATH_ASSERT(static_cast<int64_t>(held_.size()) == n);
        for (int64_t i = 0; i < n; ++i) out[i] = F::onBranch(in[i], held_[i]);
        return;
      }
    }
    parallelChunks(n, kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) out[i] = F::f(in[i]);
    });
  }
  void holdBranches(const Tensor& y) override {
    if constexpr (F::kKinked) {
      held_.resize(static_cast<size_t>(y.size()));
      for (int64_t i = 0; i < y.size(); ++i) held_[i] = F::branch(y[i]);
    }
  }
  void releaseBranches() override { held_.clear(); }
  // dx = dy ⊙ f'(x), with f' written in terms of y.
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override {
    if (!dx) return;
    dx->resize(x.shape());
    const int64_t n = x.size();
    const float *out = y.data(), *g = dy.data();
    float* d = dx->data();
    parallelChunks(n, kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) d[i] = F::dfFromY(out[i], g[i]);
    });
  }

 private:
  static constexpr int64_t kGrain = 16384;  // elements a thread is worth waking for
  std::vector<uint8_t> held_;               // per element while held: its branch; empty otherwise
};

}  // namespace tfmath
