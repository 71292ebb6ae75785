// data_linear.cc: the synthetic regression source, y = x·w + b + noise, x ~ U[-1, 1]^d.
#include <cmath>

#include "jobs/dataset.h"
#include "jobs/job_error.h"
#include "ops/rng.h"

namespace tfmath {

namespace {

Dataset generate(proto::Linear::Reader linear, uint32_t samples, Rng rng) {
  const auto weights = linear.getWeights();
  const int64_t d = weights.size();
  Dataset out;
  out.inputs.resize({samples, d});
  out.targets.resize({samples, 1});
  for (uint32_t i = 0; i < samples; ++i) {
    double y = linear.getBias();
    for (int64_t j = 0; j < d; ++j) {
      const double x = rng.uniform(-1.0, 1.0);
      out.inputs[i * d + j] = static_cast<float>(x);
      y += x * weights[j];
    }
    out.targets[i] = static_cast<float>(y + linear.getNoise() * rng.normal());
  }
  return out;
}

}  // namespace

Data loadLinear(proto::Linear::Reader linear, uint64_t seed, const std::string& field) {
  require(linear.getSamples() > 0, field + ".samples", "must be > 0");
  require(linear.getWeights().size() > 0, field + ".weights", "must list at least one weight");
  require(std::isfinite(linear.getNoise()) && linear.getNoise() >= 0, field + ".noise",
          "must be a finite number >= 0");
  Data data;
  data.train = generate(linear, linear.getSamples(), Rng::derive(seed, 1));
  if (linear.getTestSamples() > 0)
    data.test = generate(linear, linear.getTestSamples(), Rng::derive(seed, 2));
  return data;
}

}  // namespace tfmath
