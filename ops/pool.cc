// pool.cc: max pooling: the reference window search, which records each window's arg-max for
// backward, and the choice of oneDNN where the build has it.
#include "ops/pool.h"

#include "base/assert.h"
#include "ops/model_math.h"
#include "ops/parallel.h"

#ifdef TFMATH_ONEDNN
#include "ops/pool_onednn.h"
#endif

namespace tfmath {

namespace {

int64_t strideOf(proto::MaxPool2d::Reader m) {
  return m.getStride() ? m.getStride() : m.getPoolSize();  // 0: as wide as the window
}

}  // namespace

#ifdef TFMATH_HAVE_CUDA
cuda::PoolShape gpuPoolShape(const Shape& input, int64_t k, int64_t s) {
  return {0,
          static_cast<int>(input.at(0)),
          static_cast<int>(input.at(1)),
          static_cast<int>(input.at(2)),
          static_cast<int>(k),
          static_cast<int>(s),
          static_cast<int>(poolAxis(input[0], k, s)),
          static_cast<int>(poolAxis(input[1], k, s))};
}
#endif

Shape pooledShape(const Shape& input, int64_t k, int64_t s, const std::string& field, Problems& p) {
  if (!p.check(input.size() == 3, field,
               "needs an H×W×C input per sample but gets " + shapeString(input) + " per sample"))
    return {};
  if (!p.check(k <= input[0] && k <= input[1], field + ".poolSize",
               "window " + std::to_string(k) + " pools its " + std::to_string(input[0]) + "×" +
                   std::to_string(input[1]) + " input to nothing"))
    return {};
  return {poolAxis(input[0], k, s), poolAxis(input[1], k, s), input[2]};
}

const LayerOp& maxPool2dOp() {
  static const LayerOp op{
      .math =
          {"maxPool2d",
           "layer",
           "Maximum over each pool×pool window, per channel; windows past the border are dropped.",
           R"(Y_{n,i,j,c} = \max_{0 \le p,q < k} X_{n,\,si+p,\,sj+q,\,c})",
           {{"X",
             R"(\frac{\partial L}{\partial X_{n,u,v,c}} = \sum_{i,j} [\,(u,v) = \arg\max_{p,q} X_{n,\,si+p,\,sj+q,\,c}\,]\, \frac{\partial L}{\partial Y_{n,i,j,c}})"}},
           "X: N×H×W×C, Y: N×OH×OW×C with OH = ⌊(H−k)/s⌋+1. Ties go to the first maximum in "
           "row-major window order.",
           "ops/pool.cc",
           "kernels/pool.cu"},
      .schemaCase = proto::Layer::MAX_POOL2D,
      .checkFields =
          [](proto::Layer::Reader l, const std::string& field, Problems& p) {
            p.check(l.getMaxPool2d().getPoolSize() > 0, field + ".poolSize", "must be > 0");
          },
      .outputShape = [](const LayerArgs& a, const std::string& field, Problems& p) -> Shape {
        auto m = a.layer.getMaxPool2d();
        return pooledShape(a.input, m.getPoolSize(), strideOf(m), field, p);
      },
      .settings =
          [](proto::Layer::Reader l) {
            auto m = l.getMaxPool2d();
            return "k = " + std::to_string(m.getPoolSize()) +
                   ",\\ s = " + std::to_string(strideOf(m));
          },
      .cpu = [](const LayerArgs& a) -> std::unique_ptr<Layer> {
        auto m = a.layer.getMaxPool2d();
        return std::make_unique<MaxPool2d>(a.input, m.getPoolSize(), strideOf(m));
      },
      .gpu = TFMATH_GPU_FACTORY([](const LayerArgs& a) {
        auto m = a.layer.getMaxPool2d();
        return cuda::makeMaxPool2dLayer(gpuPoolShape(a.input, m.getPoolSize(), strideOf(m)));
      }),
  };
  return op;
}

PoolEngine fastestPoolEngine() {
#ifdef TFMATH_ONEDNN
  return PoolEngine::onednn;
#else
  return PoolEngine::reference;
#endif
}

MaxPool2d::MaxPool2d(const Shape& input, int64_t pool, int64_t stride, PoolEngine engine)
    : h_(input.at(0)), w_(input.at(1)), c_(input.at(2)), pool_(pool), stride_(stride) {
  outputShape_ = {poolAxis(h_, pool, stride), poolAxis(w_, pool, stride), c_};
#ifdef TFMATH_ONEDNN
  // Only where windows do not overlap: where they do, oneDNN adds an element's gradients from its
  // windows in another order than the reference and the GPU (within 1.2e-7, not bit for bit).
  if (engine == PoolEngine::onednn && stride_ >= pool_) {
    onednn_ = std::make_unique<OneDnnMaxPool2d>(
        PoolGeometry{h_, w_, c_, pool_, stride_, outputShape_[0], outputShape_[1]});
    if (!onednn_->usable()) onednn_.reset();
  }
#else
  (void)engine;
#endif
}

MaxPool2d::~MaxPool2d() = default;

void MaxPool2d::forward(const Tensor& x, Tensor& y) {
  const int64_t n = x.dim(0);
  y.resize(batched(n));
  lastX_ = &x;
  if (held_) {
    TFMATH_ASSERT(static_cast<int64_t>(argmax_.size()) == y.size());
    const int64_t perOut = y.size() / n, perIn = h_ * w_ * c_;
    for (int64_t o = 0; o < y.size(); ++o) y[o] = x[o / perOut * perIn + argmax_[o]];
    return;
  }
#ifdef TFMATH_ONEDNN
  if (onednn_) {
    onednn_->forward(n, x.data(), y.data());
    argmaxOfLastForward_ = false;
    return;
  }
#endif
  searchWindows(x, y);
}

void MaxPool2d::holdBranches(const Tensor&) {
  // oneDNN keeps its arg-maxes to itself: search the last forward's windows for the same ones.
  if (!argmaxOfLastForward_) {
    TFMATH_ASSERT(lastX_ != nullptr, "holdBranches follows a forward");
    Tensor y;
    searchWindows(*lastX_, y);
  }
  held_ = true;
}

void MaxPool2d::searchWindows(const Tensor& x, Tensor& y) {
  const int64_t n = x.dim(0), oh = outputShape_[0], ow = outputShape_[1];
  y.resize(batched(n));
  argmaxOfLastForward_ = true;
  argmax_.resize(static_cast<size_t>(y.size()));
  const int64_t perOut = oh * ow * c_;
  parallelChunks(n, 1, [&](int64_t first, int64_t end) {
    float* out = y.data() + first * perOut;
    int32_t* arg = argmax_.data() + first * perOut;
    for (int64_t s = first; s < end; ++s) {
      const float* img = x.data() + s * h_ * w_ * c_;
      for (int64_t i = 0; i < oh; ++i) {
        for (int64_t j = 0; j < ow; ++j, out += c_, arg += c_) {
          const int64_t first = (i * stride_ * w_ + j * stride_) * c_;
          for (int64_t c = 0; c < c_; ++c) {
            out[c] = img[first + c];
            arg[c] = static_cast<int32_t>(first + c);
          }
          for (int64_t p = 0; p < pool_; ++p) {
            for (int64_t q = 0; q < pool_; ++q) {
              const int64_t at = ((i * stride_ + p) * w_ + j * stride_ + q) * c_;
              for (int64_t c = 0; c < c_; ++c) {
                if (img[at + c] > out[c]) {
                  out[c] = img[at + c];
                  arg[c] = static_cast<int32_t>(at + c);
                }
              }
            }
          }
        }
      }
    }
  });
}

void MaxPool2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  const int64_t n = x.dim(0), perOut = y.size() / n, perIn = h_ * w_ * c_;
  dx->resize(x.shape());
#ifdef TFMATH_ONEDNN
  if (onednn_ && !argmaxOfLastForward_) return onednn_->backward(n, dy.data(), dx->data());
#endif
  parallelChunks(n, 1, [&](int64_t first, int64_t end) {
    std::fill(dx->data() + first * perIn, dx->data() + end * perIn, 0.0f);
    for (int64_t s = first; s < end; ++s) {
      float* grad = dx->data() + s * perIn;
      for (int64_t o = s * perOut; o < (s + 1) * perOut; ++o) grad[argmax_[o]] += dy[o];
    }
  });
}

}  // namespace tfmath
