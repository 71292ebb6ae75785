// model.h: a model is its layers in order plus one flat buffer of parameters and one of gradients.
// The flat buffers are what the optimizer updates, what a communicator allreduces, and what a
// checkpoint saves by name. Built from a job's layer list; knows nothing about data or networking.
#pragma once

#include <capnp/list.h>

#include <memory>
#include <vector>

#include "ops/layer.h"
#include "ops/layer_op.h"
#include "proto/job.capnp.h"

namespace tfmath {

class Model {
 public:
  // Builds the ops of every layer (registry.h's opsOf) for per-sample input `input`: a dense or
  // conv2d layer with an activation becomes that op followed by the activation's. The layer list
  // must already be validated (jobs/data_check.h).
  Model(capnp::List<proto::Layer>::Reader layers, const Shape& input);

  // Initial values, deterministic from the seed, as each ParamSpec's Init says: He normal
  // (σ = √(2/fan_in)) for a weight whose layer is followed by an op with heInitBefore (relu),
  // Glorot uniform (limit √(6/(fan_in+fan_out))) otherwise; zeros for biases.
  void initialize(uint64_t seed);
  // How initialize() draws parameter p: its rule, fans and spread (σ for He normal, the limit for
  // Glorot uniform, 0 for zeros).
  struct InitRule {
    enum Kind { zeros, heNormal, glorotUniform } kind;
    int64_t fanIn, fanOut;
    double spread;
  };
  InitRule initRule(size_t param) const;

  // Runs every layer; returns the output (N×output shape). Activations are kept for backward,
  // and so is a pointer to x, which must outlive the backward call. `draws` says whether this is
  // a training forward and what its stochastic ops draw from (base/draws.h); by default,
  // evaluation.
  const Tensor& forward(const Tensor& x, const BatchDraws& draws = {});
  // Backpropagates ∂L/∂output from the last forward; parameter gradients accumulate.
  // Gradients are computed only back to the first layer with parameters: nothing needs more.
  void backward(const Tensor& dOutput);
  // Holds (true) or releases (false) every layer's branches where the last forward put them
  // (Layer::holdBranches): a finite-difference check then differentiates the piece backward did.
  void holdBranches(bool hold);

  void zeroGrad() { std::fill(grads_.begin(), grads_.end(), 0.0f); }
  FloatBuffer& values() { return values_; }
  const FloatBuffer& values() const { return values_; }
  FloatBuffer& grads() { return grads_; }
  const std::vector<Param>& params() const { return params_; }
  const Shape& outputShape() const { return layers_.back()->outputShape(); }
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  // What built layer i: its registry entry, its job layer (the index into the job's model) and
  // its per-sample input. The GPU backend builds its twin of each layer from these.
  const LayerOp& op(size_t layer) const { return *ops_[layer]; }
  uint32_t jobLayer(size_t layer) const { return jobLayer_[layer]; }
  const Shape& inputShape(size_t layer) const { return inputs_[layer]; }
  // The parameters of layer i: [first, end) in params().
  std::pair<size_t, size_t> paramsOf(size_t layer) const;
  // The first layer with parameters: backward stops there.
  size_t firstTrainable() const { return firstTrainable_; }

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<const LayerOp*> ops_;  // per layer
  std::vector<uint32_t> jobLayer_;   // per layer
  std::vector<bool> fusedWithNext_;  // per layer: its forwardFused() does the next op's forward too
  bool holding_ = false;             // branches held: every op runs its own forward
  std::vector<Shape> inputs_;        // per layer
  std::vector<ParamSpec> specs_;     // per param, parallel to params_
  std::vector<size_t> paramLayer_;   // per param: the layer that owns it
  size_t firstTrainable_ = 0;        // the first layer with parameters
  std::vector<Param> params_;
  FloatBuffer values_, grads_;
  const Tensor& inputOf(size_t layer) const { return layer ? acts_[layer - 1] : *input_; }
  const Tensor* input_ = nullptr;  // the last forward's input, owned by the caller
  std::vector<Tensor> acts_;       // acts_[i] = output of layer i
  Tensor gradA_, gradB_;           // ping-pong buffers for backward
};

}  // namespace tfmath
