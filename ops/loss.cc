// loss.cc: mean squared error and fused, numerically stable softmax cross-entropy.
#include "ops/loss.h"

#include <cmath>

#include "base/assert.h"

namespace tfmath {

const OpMath& mseMath() {
  static const OpMath m{
      "mse",
      "loss",
      "Mean squared error over the output's D elements, for continuous targets.",
      R"(\ell = \frac{1}{D} \sum_{j=1}^{D} (\hat y_j - t_j)^2)",
      {{"\\hat y", R"(\frac{\partial \ell}{\partial \hat y_j} = \frac{2}{D} (\hat y_j - t_j))"}},
      "The batch loss is the mean of ℓ over the global batch B: L = (1/B) Σ ℓ.",
      "ops/loss.cc",
      "kernels/loss.cu"};
  return m;
}

const OpMath& softmaxCrossEntropyMath() {
  static const OpMath m{
      "softmaxCrossEntropy",
      "loss",
      "Cross-entropy of softmax(z) against a class label y, fused and numerically stable.",
      R"(\ell = -\log \frac{e^{z_y}}{\sum_k e^{z_k}} = \log \sum_k e^{z_k - m} + m - z_y,\quad m = \max_k z_k)",
      {{"z", R"(\frac{\partial \ell}{\partial z_k} = \operatorname{softmax}(z)_k - [k = y])"}},
      "z: N×K logits, y: class numbers. The batch loss is the mean over the global batch B.",
      "ops/loss.cc",
      "kernels/loss.cu"};
  return m;
}

LossSums mse(const Tensor& pred, const Tensor& target, Tensor* dpred) {
  TFMATH_ASSERT(pred.size() == target.size(), pred.size(), target.size());
  const int64_t n = pred.dim(0), d = pred.size() / n;
  const float* y = pred.data();
  const float* t = target.data();
  if (dpred) dpred->resize(pred.shape());
  LossSums sums;
  for (int64_t i = 0; i < n * d; ++i) {
    const float diff = y[i] - t[i];
    sums.loss += static_cast<double>(diff) * diff / d;
    if (dpred) (*dpred)[i] = 2.0f * diff / static_cast<float>(d);
  }
  return sums;
}

LossSums softmaxCrossEntropy(const Tensor& logits, const Tensor& labels, Tensor* dpred) {
  const int64_t n = logits.dim(0), k = logits.size() / n;
  TFMATH_ASSERT(labels.size() == n, labels.size(), n);
  if (dpred) dpred->resize(logits.shape());
  LossSums sums;
  for (int64_t s = 0; s < n; ++s) {
    const float* z = logits.data() + s * k;
    const int64_t y = static_cast<int64_t>(labels[s]);
    int64_t best = 0;
    for (int64_t j = 1; j < k; ++j) best = z[j] > z[best] ? j : best;
    const float m = z[best];
    double total = 0;
    for (int64_t j = 0; j < k; ++j) total += std::exp(static_cast<double>(z[j] - m));
    const double logTotal = std::log(total);
    sums.loss += logTotal + m - z[y];
    sums.correct += best == y;
    if (dpred) {
      float* g = dpred->data() + s * k;
      for (int64_t j = 0; j < k; ++j)
        g[j] = static_cast<float>(std::exp(z[j] - m - logTotal)) - (j == y ? 1.0f : 0.0f);
    }
  }
  return sums;
}

}  // namespace tfmath
