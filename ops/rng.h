// rng.h: the deterministic random stream (SplitMix64) behind initial weights, synthetic data and
// the sample order. One 64-bit state, so it is easy to checkpoint, and identical on every platform.
#pragma once

#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "base/draws.h"

namespace tfmath {

class Rng {
 public:
  explicit Rng(uint64_t state) : state_(state) {}
  // A stream derived from a seed and a purpose (e.g. the epoch), independent of the others.
  static Rng derive(uint64_t seed, uint64_t stream) {
    Rng r(seed ^ (0x9e3779b97f4a7c15ULL * (stream + 1)));
    r.next();
    return r;
  }

  uint64_t state() const { return state_; }

  uint64_t next() { return mixBits(state_ += 0x9e3779b97f4a7c15ULL); }
  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal by Box-Muller (one of the pair is used, so the stream stays simple).
  double normal() {
    double u1 = 1.0 - uniform();  // (0, 1]
    double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>(uniform() * static_cast<double>(n)); }

 private:
  uint64_t state_;
};

// The sample order of one epoch: a Fisher-Yates shuffle of 0..n-1 drawn from (seed, epoch).
inline std::vector<uint32_t> epochPermutation(uint64_t seed, uint32_t epoch, uint32_t n) {
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  Rng rng = Rng::derive(seed, 1000003ULL + epoch);
  for (uint32_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  return order;
}

}  // namespace tfmath
