// loss.cuh: the losses on the GPU (ops/loss.h has the math). Each returns the batch's SUM and
// writes the gradient of that sum, as on the CPU. Softmax cross-entropy is fused (max, log-sum-exp,
// loss, arg-max and gradient in one pass over each row) and subtracts the row maximum, so it stays
// finite for any finite logits. The batch sums are reduced in a fixed order: the same bits every
// run.
#pragma once

#include "cuda_check.cuh"

namespace tfmath::cuda {

struct LossSums {
  double loss = 0;        // Σ over samples of the per-sample loss
  long long correct = 0;  // samples whose arg-max equals the label (classification only)
};

// logits: n×k; labels: n class numbers (as floats, like the CPU's label tensor). dlogits (n×k),
// if non-null, = softmax(z) − e_y.
LossSums softmaxCrossEntropy(const float* logits, const float* labels, float* dlogits, int n,
                             int k);
// pred, target: n×d; ℓ = (1/d) Σ_j (ŷ_j − t_j)². dpred, if non-null, = 2(ŷ − t)/d.
LossSums mse(const float* pred, const float* target, float* dpred, int n, int d);

}  // namespace tfmath::cuda
