// loss.cuh: the losses on the GPU (ops/loss.h has the math). Each sums the batch's loss and
// writes the gradient of that SUM, as on the CPU. Softmax cross-entropy is fused (max, log-sum-exp,
// loss, arg-max and gradient in one pass over each row) and subtracts the row maximum, so it stays
// finite for any finite logits. The batch sums are reduced in a fixed order: the same bits every
// run.
#pragma once

#include "kernels/cuda_check.cuh"

namespace tfmath::cuda {

// Both losses queue their work on the default stream and return without waiting: the batch's sums
// land in `sums` (device memory, two doubles): sums[0] = Σ over samples of the per-sample loss,
// sums[1] = samples whose arg-max equals the label (classification only; 0 for mse). The caller
// copies them back when it needs them, so a training step does not stall the device for its loss.

// Sizes this thread's scratch for batches of up to n rows of k outputs, so that a later loss does
// not grow it (growing waits for the whole device).
void reserveLoss(int n, int k);

// logits: n×k; labels: n class numbers (as floats, like the CPU's label tensor). dlogits (n×k),
// if non-null, = softmax(z) − e_y.
void softmaxCrossEntropy(const float* logits, const float* labels, float* dlogits, int n, int k,
                         double* sums);
// pred, target: n×d; ℓ = (1/d) Σ_j (ŷ_j − t_j)². dpred, if non-null, = 2(ŷ − t)/d.
void mse(const float* pred, const float* target, float* dpred, int n, int d, double* sums);

}  // namespace tfmath::cuda
