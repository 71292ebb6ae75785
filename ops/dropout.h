// dropout.h: inverted dropout. While training it zeroes each element with probability `rate` and
// scales the rest by 1/(1 − rate); at evaluation it is the identity. The draws come from the
// batch's BatchDraws (base/draws.h), so they do not depend on the rank that computes a sample.
#pragma once

#include <cstdint>
#include <vector>

#include "ops/layer.h"
#include "ops/layer_op.h"

namespace tfmath {

const LayerOp& dropoutOp();

class Dropout : public Layer {
 public:
  // input: the per-sample shape; layer: the job layer's index, which its draws depend on.
  Dropout(const Shape& input, double rate, uint32_t layer);
  const char* op() const override { return "dropout"; }
  void setDraws(const BatchDraws& draws) override { draws_ = draws; }
  // Training: y = x / (1 − rate) where the draw keeps the element, else 0. Otherwise y = x.
  void forward(const Tensor& x, Tensor& y) override;
  // dx = dy / (1 − rate) where the last forward kept the element, else 0 (dy after an evaluation
  // forward).
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  uint32_t threshold_, layer_;
  float scale_;                // 1/(1 − rate), rounded to float once
  BatchDraws draws_;           // the next forward's
  std::vector<uint8_t> keep_;  // the last training forward's decisions; empty after an evaluation
};

}  // namespace tfmath
