// layer_params.h: what the op tests share: a layer's parameters with random values, owned, and
// random tensors, all drawn from tfmath's deterministic Rng.
#pragma once

#include <string>
#include <vector>

#include "ops/layer.h"
#include "ops/rng.h"

namespace tfmath::testing {

// Owns the parameter buffers of one layer under test.
struct Params {
  std::vector<std::vector<float>> values, grads;
  std::vector<Param> views;
  Params(Layer& layer, Rng& rng) {
    for (const auto& spec : layer.paramSpecs()) {
      values.emplace_back(static_cast<size_t>(numel(spec.shape)));
      grads.emplace_back(values.back().size(), 0.0f);
      for (float& v : values.back()) v = static_cast<float>(rng.uniform(-1, 1));
    }
    for (size_t i = 0; i < values.size(); ++i)
      views.push_back(
          {std::to_string(i), layer.paramSpecs()[i].shape, values[i].data(), grads[i].data()});
    layer.bindParams(views);
  }
};

inline Tensor randomTensor(const Shape& shape, Rng& rng) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(rng.uniform(-1, 1));
  return t;
}

}  // namespace tfmath::testing
