// optimizer.h: update rules over the model's flat parameter and gradient buffers. The gradient
// handed in is already the batch mean (divided by the global batch). Slots (momentum, Adam moments)
// are flat buffers of the same layout, so a checkpoint can save them by parameter name.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ops/op_math.h"
#include "ops/tensor.h"

namespace tfmath {

const OpMath& sgdMath();
const OpMath& adamMath();

struct SgdConfig {
  double learningRate = 0, momentum = 0, weightDecay = 0;
  bool nesterov = false;
};
struct AdamConfig {
  double learningRate = 1e-3, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // w ← update(w, g); `step` is the 1-based number of this update (Adam's t).
  virtual void update(float* w, const float* g, uint64_t step) = 0;
  // Names of the slots (e.g. "momentum"); slot(i) has one float per parameter.
  virtual std::vector<std::string> slotNames() const = 0;
  virtual FloatBuffer& slot(size_t i) = 0;
};

// Optimizers for a model of `size` parameters, slots zeroed.
std::unique_ptr<Optimizer> makeSgd(const SgdConfig& config, size_t size);
std::unique_ptr<Optimizer> makeAdam(const AdamConfig& config, size_t size);

}  // namespace tfmath
