// optimizer.h: update rules over the model's flat parameter and gradient buffers. The gradient
// handed in is already the batch mean (divided by the global batch). Slots (momentum, Adam moments)
// are flat buffers of the same layout, so a checkpoint can save them by parameter name.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ops/op_math.h"
#include "ops/tensor.h"
#include "proto/job.capnp.h"

namespace tfmath {

const OpMath& sgdMath();
const OpMath& adamMath();
const OpMath& adamWMath();
// Clipping by the global norm (the job's clipGlobalNorm); the trainer applies it.
const OpMath& clipGlobalNormMath();

struct SgdConfig {
  double learningRate = 0, momentum = 0, weightDecay = 0;
  bool nesterov = false;
};
// Adam, and AdamW when weightDecay > 0 (plain Adam has none).
struct AdamConfig {
  double learningRate = 1e-3, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // w ← update(w, g); `step` is the 1-based number of this update (Adam's t); `rateFactor`
  // multiplies the configured learning rate (the schedule's factor at this step).
  virtual void update(float* w, const float* g, uint64_t step, double rateFactor) = 0;
  // Names of the slots (e.g. "momentum"); slot(i) has one float per parameter.
  virtual std::vector<std::string> slotNames() const = 0;
  virtual FloatBuffer& slot(size_t i) = 0;
};

// Optimizers for a model of `size` parameters, slots zeroed.
std::unique_ptr<Optimizer> makeSgd(const SgdConfig& config, size_t size);
std::unique_ptr<Optimizer> makeAdam(const AdamConfig& config, size_t size);

// The settings of a job's optimizer, whichever it is.
SgdConfig sgdConfig(proto::Sgd::Reader sgd);
AdamConfig adamConfig(proto::Optimizer::Reader adamOrAdamW);
// The optimizer a job names, for `size` parameters.
std::unique_ptr<Optimizer> makeOptimizer(proto::Optimizer::Reader optimizer, size_t size);
// Its configured learning rate η.
double learningRateOf(proto::Optimizer::Reader optimizer);

}  // namespace tfmath
