// average_pool.cc: average pooling and global average pooling. Each output is a sum in a fixed
// order divided by the window's size, so the GPU kernels, which add in the same order, agree.
#include "ops/average_pool.h"

#include <algorithm>

#include "ops/model_math.h"
#include "ops/parallel.h"
#include "ops/pool.h"

#ifdef TFMATH_HAVE_CUDA
#include "kernels/average_pool.cuh"
#endif

namespace tfmath {

namespace {

int64_t strideOf(proto::AveragePool2d::Reader a) {
  return a.getStride() ? a.getStride() : a.getPoolSize();  // 0: as wide as the window
}

}  // namespace

const LayerOp& averagePool2dOp() {
  static const LayerOp op{
      .math =
          {"averagePool2d",
           "layer",
           "Mean over each pool×pool window, per channel; windows past the border are dropped.",
           R"(Y_{n,i,j,c} = \frac{1}{k^2} \sum_{0 \le p,q < k} X_{n,\,si+p,\,sj+q,\,c})",
           {{"X",
             R"(\frac{\partial L}{\partial X_{n,u,v,c}} = \frac{1}{k^2} \sum_{i,j\,:\,0 \le u-si < k,\ 0 \le v-sj < k} \frac{\partial L}{\partial Y_{n,i,j,c}})"}},
           "X: N×H×W×C, Y: N×OH×OW×C with OH = ⌊(H−k)/s⌋+1.",
           "ops/average_pool.cc",
           "kernels/average_pool.cu"},
      .schemaCase = proto::Layer::AVERAGE_POOL2D,
      .checkFields =
          [](proto::Layer::Reader l, const std::string& field, Problems& p) {
            p.check(l.getAveragePool2d().getPoolSize() > 0, field + ".poolSize", "must be > 0");
          },
      .outputShape = [](const LayerArgs& a, const std::string& field, Problems& p) -> Shape {
        auto m = a.layer.getAveragePool2d();
        return pooledShape(a.input, m.getPoolSize(), strideOf(m), field, p);
      },
      .settings =
          [](proto::Layer::Reader l) {
            auto m = l.getAveragePool2d();
            return "k = " + std::to_string(m.getPoolSize()) +
                   ",\\ s = " + std::to_string(strideOf(m));
          },
      .cpu = [](const LayerArgs& a) -> std::unique_ptr<Layer> {
        auto m = a.layer.getAveragePool2d();
        return std::make_unique<AveragePool2d>(a.input, m.getPoolSize(), strideOf(m));
      },
      .gpu = TFMATH_GPU_FACTORY([](const LayerArgs& a) {
        auto m = a.layer.getAveragePool2d();
        return cuda::makeAveragePool2dLayer(gpuPoolShape(a.input, m.getPoolSize(), strideOf(m)));
      }),
  };
  return op;
}

const LayerOp& globalAveragePool2dOp() {
  static const LayerOp op{
      .math =
          {"globalAveragePool2d",
           "layer",
           "Mean of each channel over all H×W positions.",
           R"(Y_{n,c} = \frac{1}{HW} \sum_{u,v} X_{n,u,v,c})",
           {{"X",
             R"(\frac{\partial L}{\partial X_{n,u,v,c}} = \frac{1}{HW} \frac{\partial L}{\partial Y_{n,c}})"}},
           "X: N×H×W×C, Y: N×C.",
           "ops/average_pool.cc",
           "kernels/average_pool.cu"},
      .schemaCase = proto::Layer::GLOBAL_AVERAGE_POOL2D,
      .outputShape = [](const LayerArgs& a, const std::string& field, Problems& p) -> Shape {
        if (!p.check(
                a.input.size() == 3, field,
                "needs an H×W×C input per sample but gets " + shapeString(a.input) + " per sample"))
          return {};
        return {a.input[2]};
      },
      .cpu = [](const LayerArgs& a) -> std::unique_ptr<Layer> {
        return std::make_unique<GlobalAveragePool2d>(a.input);
      },
      .gpu = TFMATH_GPU_FACTORY([](const LayerArgs& a) {
        return cuda::makeGlobalAveragePool2dLayer(static_cast<int>(a.input.at(0) * a.input.at(1)),
                                                  static_cast<int>(a.input.at(2)));
      }),
  };
  return op;
}

AveragePool2d::AveragePool2d(const Shape& input, int64_t pool, int64_t stride)
    : h_(input.at(0)), w_(input.at(1)), c_(input.at(2)), pool_(pool), stride_(stride) {
  outputShape_ = {poolAxis(h_, pool, stride), poolAxis(w_, pool, stride), c_};
}

void AveragePool2d::forward(const Tensor& x, Tensor& y) {
  const int64_t n = x.dim(0), oh = outputShape_[0], ow = outputShape_[1];
  const float area = static_cast<float>(pool_ * pool_);
  y.resize(batched(n));
  parallelChunks(n, 1, [&](int64_t first, int64_t end) {
    float* out = y.data() + first * oh * ow * c_;
    for (int64_t s = first; s < end; ++s) {
      const float* img = x.data() + s * h_ * w_ * c_;
      for (int64_t i = 0; i < oh; ++i) {
        for (int64_t j = 0; j < ow; ++j, out += c_) {
          std::fill_n(out, c_, 0.0f);
          for (int64_t p = 0; p < pool_; ++p)
            for (int64_t q = 0; q < pool_; ++q) {
              const float* at = img + ((i * stride_ + p) * w_ + j * stride_ + q) * c_;
              for (int64_t c = 0; c < c_; ++c) out[c] += at[c];
            }
          for (int64_t c = 0; c < c_; ++c) out[c] /= area;
        }
      }
    }
  });
}

void AveragePool2d::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  const int64_t n = x.dim(0), oh = outputShape_[0], ow = outputShape_[1];
  const float area = static_cast<float>(pool_ * pool_);
  dx->resize(x.shape());
  const int64_t perIn = h_ * w_ * c_;
  parallelChunks(n, 1, [&](int64_t first, int64_t end) {
    std::fill(dx->data() + first * perIn, dx->data() + end * perIn, 0.0f);
    const float* grad = dy.data() + first * oh * ow * c_;
    for (int64_t s = first; s < end; ++s) {
      float* img = dx->data() + s * perIn;
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j, grad += c_)
          for (int64_t p = 0; p < pool_; ++p)
            for (int64_t q = 0; q < pool_; ++q) {
              float* at = img + ((i * stride_ + p) * w_ + j * stride_ + q) * c_;
              for (int64_t c = 0; c < c_; ++c) at[c] += grad[c];
            }
    }
    for (int64_t e = first * perIn; e < end * perIn; ++e) (*dx)[e] /= area;
  });
}

GlobalAveragePool2d::GlobalAveragePool2d(const Shape& input)
    : positions_(input.at(0) * input.at(1)), c_(input.at(2)) {
  outputShape_ = {c_};
}

void GlobalAveragePool2d::forward(const Tensor& x, Tensor& y) {
  const int64_t n = x.dim(0);
  const float area = static_cast<float>(positions_);
  y.resize(batched(n));
  y.setZero();
  for (int64_t s = 0; s < n; ++s) {
    float* out = y.data() + s * c_;
    const float* img = x.data() + s * positions_ * c_;
    for (int64_t at = 0; at < positions_; ++at)
      for (int64_t c = 0; c < c_; ++c) out[c] += img[at * c_ + c];
    for (int64_t c = 0; c < c_; ++c) out[c] /= area;
  }
}

void GlobalAveragePool2d::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  const int64_t n = x.dim(0);
  const float area = static_cast<float>(positions_);
  dx->resize(x.shape());
  for (int64_t s = 0; s < n; ++s)
    for (int64_t at = 0; at < positions_; ++at)
      for (int64_t c = 0; c < c_; ++c)
        (*dx)[(s * positions_ + at) * c_ + c] = dy[s * c_ + c] / area;
}

}  // namespace tfmath
