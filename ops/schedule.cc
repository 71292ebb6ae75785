// schedule.cc: constant, step decay and cosine decay with a linear warm-up.
#include "ops/schedule.h"

#include <cmath>

namespace tfmath {

const OpMath& constantScheduleMath() {
  static const OpMath m{
      "constant",        "schedule", "The learning rate the optimizer names, at every update.",
      R"(f(t) = 1)",     {},         "t = 1, 2, …, T counts updates; each uses the rate η f(t).",
      "ops/schedule.cc", ""};
  return m;
}

const OpMath& stepDecayMath() {
  static const OpMath m{"stepDecay",
                        "schedule",
                        "Multiplies the rate by γ (factor) after every k (every) updates.",
                        R"(f(t) = \gamma^{\lfloor (t-1)/k \rfloor})",
                        {},
                        "t = 1, 2, …, T counts updates; each uses the rate η f(t).",
                        "ops/schedule.cc",
                        ""};
  return m;
}

const OpMath& cosineDecayMath() {
  static const OpMath m{
      "cosineDecay",
      "schedule",
      "A linear warm-up over w (warmupSteps) updates, then half a cosine from 1 down to φ "
      "(finalFraction) at the last update T.",
      R"(f(t) = \begin{cases} t / w & t \le w \\ \varphi + (1-\varphi)\,\frac{1 + \cos\left(\pi \frac{t-w}{T-w}\right)}{2} & t > w \end{cases})",
      {},
      "t = 1, 2, …, T counts updates, T = epochs · ⌈samples / batch⌉; each uses the rate η f(t).",
      "ops/schedule.cc",
      ""};
  return m;
}

double scheduleFactor(proto::Schedule::Reader schedule, uint64_t t, uint64_t total) {
  switch (schedule.which()) {
    case proto::Schedule::STEP_DECAY: {
      auto s = schedule.getStepDecay();
      return std::pow(s.getFactor(), static_cast<double>((t - 1) / s.getEvery()));
    }
    case proto::Schedule::COSINE_DECAY: {
      auto c = schedule.getCosineDecay();
      const double w = c.getWarmupSteps(), phi = c.getFinalFraction();
      const double at = static_cast<double>(t);
      if (at <= w) return at / w;
      const double progress = (at - w) / (static_cast<double>(total) - w);
      return phi + (1 - phi) * 0.5 * (1 + std::cos(M_PI * progress));
    }
    case proto::Schedule::CONSTANT:
    default:
      return 1;
  }
}

}  // namespace tfmath
