// loss.h: per-sample losses. Each returns the SUM over the batch and writes the gradient of that
// sum; the trainer divides by the global batch after the gradients of all ranks are added, so a
// split batch gives the same update as a whole one.
#pragma once

#include "ops/op_math.h"
#include "ops/tensor.h"

namespace tfmath {

const OpMath& mseMath();
const OpMath& softmaxCrossEntropyMath();

struct LossSums {
  double loss = 0;      // Σ over samples of the per-sample loss
  int64_t correct = 0;  // samples whose arg-max equals the label (classification only)
};

// pred, target: N×D. ℓ = (1/D) Σ_j (ŷ_j − t_j)². dpred (if non-null) = ∂(Σℓ)/∂ŷ.
LossSums mse(const Tensor& pred, const Tensor& target, Tensor* dpred);

// logits: N×K, labels: N×1 holding class numbers. ℓ = logsumexp(z) − z_y, computed with the
// maximum subtracted so it stays finite for any finite logits. dpred (if non-null) = softmax(z) −
// e_y.
LossSums softmaxCrossEntropy(const Tensor& logits, const Tensor& labels, Tensor* dpred);

}  // namespace tfmath
