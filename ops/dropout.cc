// dropout.cc: inverted dropout with counter-based draws (base/draws.h).
#include "ops/dropout.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"
#include "ops/model_math.h"
#include "ops/parallel.h"

#ifdef TFMATH_HAVE_CUDA
#include "kernels/dropout.cuh"
#endif

namespace tfmath {

const LayerOp& dropoutOp() {
  static const LayerOp op{
      .math =
          {"dropout",
           "layer",
           "Inverted dropout: while training, zeroes each element with probability r and scales "
           "the others by 1/(1−r); at evaluation, the identity.",
           R"(Y_{n,e} = \frac{M_{n,e}}{1-r} X_{n,e},\quad M_{n,e} = [\,u(\text{seed},\ \text{layer},\ \text{epoch},\ i_n,\ e) \ge r\,])",
           {{"X",
             R"(\frac{\partial L}{\partial X_{n,e}} = \frac{M_{n,e}}{1-r} \frac{\partial L}{\partial Y_{n,e}})"}},
           "Any per-sample shape, kept. u is a uniform draw in [0, 1) hashed from the job's seed, "
           "the layer's index, the epoch, the sample's index i_n in the training set and the "
           "element e: the mask does not depend on the number of workers. At evaluation, Y = X.",
           "ops/dropout.cc",
           "kernels/dropout.cu"},
      .schemaCase = proto::Layer::DROPOUT,
      .checkFields =
          [](proto::Layer::Reader l, const std::string& field, Problems& p) {
            const double r = l.getDropout().getRate();
            p.check(std::isfinite(r) && r >= 0 && r < 1, field + ".rate",
                    "must be in [0, 1), not " + std::to_string(r));
          },
      .outputShape = [](const LayerArgs& a, const std::string&, Problems&) -> Shape {
        return a.input;
      },
      .settings =
          [](proto::Layer::Reader l) { return "r = " + latexNumber(l.getDropout().getRate()); },
      .cpu = [](const LayerArgs& a) -> std::unique_ptr<Layer> {
        return std::make_unique<Dropout>(a.input, a.layer.getDropout().getRate(), a.index);
      },
      .gpu = TFMATH_GPU_FACTORY([](const LayerArgs& a) {
        const double rate = a.layer.getDropout().getRate();
        return cuda::makeDropoutLayer(numel(a.input), dropThreshold(rate),
                                      static_cast<float>(1.0 / (1.0 - rate)), a.index);
      }),
  };
  return op;
}

Dropout::Dropout(const Shape& input, double rate, uint32_t layer)
    : threshold_(dropThreshold(rate)),
      layer_(layer),
      scale_(static_cast<float>(1.0 / (1.0 - rate))) {
  outputShape_ = input;
}

void Dropout::forward(const Tensor& x, Tensor& y) {
  const int64_t n = x.dim(0), per = x.size() / std::max<int64_t>(n, 1);
  y.resize(x.shape());
  if (!draws_.training) {
    keep_.clear();
    std::copy_n(x.data(), x.size(), y.data());
    return;
  }
  TFMATH_ASSERT(draws_.samples != nullptr, "a training forward names its samples");
  keep_.resize(static_cast<size_t>(x.size()));
  parallelChunks(n, 1, [&](int64_t first, int64_t end) {
    for (int64_t s = first; s < end; ++s) {
      const uint32_t sample = draws_.samples[s];
      for (int64_t e = 0; e < per; ++e) {
        const int64_t at = s * per + e;
        const bool keep = dropoutKeeps(
            drawBits(draws_.seed, layer_, draws_.epoch, sample, static_cast<uint32_t>(e)),
            threshold_);
        keep_[static_cast<size_t>(at)] = keep;
        y[at] = keep ? x[at] * scale_ : 0.0f;
      }
    }
  });
}

void Dropout::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->resize(x.shape());
  if (keep_.empty()) {
    std::copy_n(dy.data(), dy.size(), dx->data());
    return;
  }
  parallelChunks(dy.size(), 16384, [&](int64_t begin, int64_t end) {
    for (int64_t at = begin; at < end; ++at)
      (*dx)[at] = keep_[static_cast<size_t>(at)] ? dy[at] * scale_ : 0.0f;
  });
}

}  // namespace tfmath
