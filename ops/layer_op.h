// layer_op.h: a layer op's registry entry: everything that differs from one kind of layer to
// another. The validator, the CPU model and the GPU backend loop over the registry (registry.h)
// and ask the entry; none of them dispatches on the kind of a layer.
#pragma once

#include <memory>
#include <string>

#include "ops/layer.h"
#include "ops/op_math.h"
#include "ops/problems.h"
#include "proto/job.capnp.h"

namespace tfmath {

namespace cuda {
class GpuLayer;  // kernels/gpu_layer.cuh
}

// What a layer op is built from: the job's layer, its per-sample input shape and its place in
// the job's model (a stochastic op draws apart from the other layers by it).
struct LayerArgs {
  proto::Layer::Reader layer;
  const Shape& input;
  uint32_t index = 0;
};

struct LayerOp {
  // Its math: forward and gradient rules in LaTeX (docs/ops.md).
  OpMath math;
  // The job layers it builds: a case of the schema's Layer union and, for an element-wise
  // activation, which one (the value of an `activation` layer, or of the `activation` field of a
  // dense or conv2d layer).
  proto::Layer::Which schemaCase;
  proto::Activation activation = proto::Activation::NONE;
  // Checks the layer's own settings, which need no input shape (the coordinator runs this on
  // every submission). Problems are recorded under `field`, e.g. "model[2].dense".
  void (*checkFields)(proto::Layer::Reader layer, const std::string& field,
                      Problems& problems) = nullptr;
  // The shape rule: for a layer whose settings passed checkFields, checks it against its
  // per-sample input and returns its per-sample output; returns {} after recording a problem.
  Shape (*outputShape)(const LayerArgs& args, const std::string& field,
                       Problems& problems) = nullptr;
  // The activation that the layer's own `activation` field puts after it (dense, conv2d); the
  // model builds it as the next op. Null for ops without that field.
  proto::Activation (*fusedActivation)(proto::Layer::Reader layer) = nullptr;
  // The layer's own settings as LaTeX for its rule ("r = 0.2"); null for an op whose rule has
  // no symbol that the job sets.
  std::string (*settings)(proto::Layer::Reader layer) = nullptr;
  // For an activation: the weights of the layer before it start He normal, σ = √(2/fan_in),
  // instead of Glorot uniform (relu).
  bool heInitBefore = false;
  // The CPU implementation (ops/). Its paramSpecs() are the op's parameters: their shapes and
  // their initialisation.
  std::unique_ptr<Layer> (*cpu)(const LayerArgs& args) = nullptr;
  // The GPU implementation (kernels/), taking its parameters in the same order; null in a build
  // without CUDA.
  std::unique_ptr<cuda::GpuLayer> (*gpu)(const LayerArgs& args) = nullptr;
};

}  // namespace tfmath

// An entry's GPU factory: the lambda in a build with CUDA, null without (the kernels are not
// there).
#ifdef TFMATH_HAVE_CUDA
#define TFMATH_GPU_FACTORY(...) __VA_ARGS__
#else
#define TFMATH_GPU_FACTORY(...) nullptr
#endif
