// conv2d.cc: convolution as im2col + one GEMM per pass, or through oneDNN. The patch matrix from
// forward is kept for the weight gradient in backward.
#include "ops/conv2d.h"

#include <algorithm>
#include <string_view>

#include "base/assert.h"
#include "ops/gemm.h"

#ifdef TFMATH_HAVE_CUDA
#include "kernels/conv2d.cuh"
#endif

namespace tfmath {

namespace {

// The input checks of a conv2d layer whose settings are valid, and its output shape.
Shape conv2dShape(const LayerArgs& a, const std::string& field, Problems& p) {
  auto c = a.layer.getConv2d();
  if (!p.check(a.input.size() == 3, field,
               "needs an H×W×C input per sample but gets " + shapeString(a.input) + " per sample"))
    return {};
  const bool same = c.getPadding() == proto::Padding::SAME;
  const int64_t k = c.getKernelSize();
  if (!p.check(same || (k <= a.input[0] && k <= a.input[1]), field + ".kernelSize",
               "kernel " + std::to_string(k) + " is larger than its " + std::to_string(a.input[0]) +
                   "×" + std::to_string(a.input[1]) + " input (valid padding)"))
    return {};
  return {convAxis(a.input[0], k, c.getStride(), same).out,
          convAxis(a.input[1], k, c.getStride(), same).out, c.getFilters()};
}

}  // namespace

const LayerOp& conv2dOp() {
  static const LayerOp op{
      .math =
          {"conv2d",
           "layer",
           "2-D convolution (cross-correlation), channels last, with stride and valid or same "
           "padding.",
           R"(Y_{n,i,j,f} = b_f + \sum_{p,q,c} X_{n,\,si+p-t,\,sj+q-l,\,c}\, K_{p,q,c,f})",
           {{"K",
             R"(\frac{\partial L}{\partial K_{p,q,c,f}} = \sum_{n,i,j} X_{n,\,si+p-t,\,sj+q-l,\,c}\, \frac{\partial L}{\partial Y_{n,i,j,f}})"},
            {"b",
             R"(\frac{\partial L}{\partial b_f} = \sum_{n,i,j} \frac{\partial L}{\partial Y_{n,i,j,f}})"},
            {"X",
             R"(\frac{\partial L}{\partial X_{n,u,v,c}} = \sum_{\substack{i,j,p,q,f \\ si+p-t=u,\ sj+q-l=v}} K_{p,q,c,f}\, \frac{\partial L}{\partial Y_{n,i,j,f}})"}},
           "X: N×H×W×C, K: k×k×C×F, Y: N×OH×OW×F; s is the stride, t and l the top and left "
           "padding "
           "(X is zero outside its bounds). Computed as im2col followed by one GEMM: Y = col(X)·K.",
           "ops/conv2d.cc",
           "kernels/conv2d.cu"},
      .schemaCase = proto::Layer::CONV2D,
      .checkFields =
          [](proto::Layer::Reader l, const std::string& field, Problems& p) {
            auto c = l.getConv2d();
            p.check(c.getFilters() > 0, field + ".filters", "must be > 0");
            p.check(c.getKernelSize() > 0, field + ".kernelSize", "must be > 0");
            p.check(c.getStride() > 0, field + ".stride", "must be > 0");
          },
      .outputShape = conv2dShape,
      .fusedActivation = [](proto::Layer::Reader l) { return l.getConv2d().getActivation(); },
      .cpu = [](const LayerArgs& a) -> std::unique_ptr<Layer> {
        auto c = a.layer.getConv2d();
        return std::make_unique<Conv2d>(a.input, c.getFilters(), c.getKernelSize(), c.getStride(),
                                        c.getPadding() == proto::Padding::SAME);
      },
      .gpu = TFMATH_GPU_FACTORY([](const LayerArgs& a) {
        auto c = a.layer.getConv2d();
        const bool same = c.getPadding() == proto::Padding::SAME;
        const ConvAxis rows = convAxis(a.input.at(0), c.getKernelSize(), c.getStride(), same);
        const ConvAxis cols = convAxis(a.input.at(1), c.getKernelSize(), c.getStride(), same);
        return cuda::makeConv2dLayer(
            {0, static_cast<int>(a.input[0]), static_cast<int>(a.input[1]),
             static_cast<int>(a.input[2]), static_cast<int>(c.getFilters()),
             static_cast<int>(c.getKernelSize()), static_cast<int>(c.getStride()),
             static_cast<int>(rows.out), static_cast<int>(cols.out),
             static_cast<int>(rows.padBefore), static_cast<int>(cols.padBefore)});
      }),
  };
  return op;
}

ConvAxis convAxis(int64_t in, int64_t kernel, int64_t stride, bool same) {
  if (!same) return {in >= kernel ? (in - kernel) / stride + 1 : 0, 0};
  int64_t out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>((out - 1) * stride + kernel - in, 0);
  return {out, total / 2};
}

ConvEngine fastestConvEngine() {
#ifdef TFMATH_ONEDNN
  return ConvEngine::onednn;
#else
  return ConvEngine::im2col;
#endif
}

Conv2d::Conv2d(const Shape& input, int64_t filters, int64_t kernel, int64_t stride, bool same,
               ConvEngine engine)
    : h_(input.at(0)),
      w_(input.at(1)),
      c_(input.at(2)),
      filters_(filters),
      k_(kernel),
      stride_(stride),
      rows_(convAxis(h_, kernel, stride, same)),
      cols_(convAxis(w_, kernel, stride, same)) {
  outputShape_ = {rows_.out, cols_.out, filters_};
  if (engine == ConvEngine::onednn) {
#ifdef TFMATH_ONEDNN
    const int64_t padBottom = (rows_.out - 1) * stride_ + k_ - h_ - rows_.padBefore;
    const int64_t padRight = (cols_.out - 1) * stride_ + k_ - w_ - cols_.padBefore;
    onednn_ = std::make_unique<OneDnnConv2d>(ConvGeometry{
        h_, w_, c_, filters_, k_, stride_, rows_.out, cols_.out, rows_.padBefore, cols_.padBefore,
        std::max<int64_t>(padBottom, 0), std::max<int64_t>(padRight, 0)});
#else
    TFMATH_ASSERT(false, "this build has no oneDNN");
#endif
  }
}

Conv2d::~Conv2d() = default;

std::vector<ParamSpec> Conv2d::paramSpecs() const {
  const int64_t fanIn = k_ * k_ * c_, fanOut = k_ * k_ * filters_;
  return {{"w", {k_, k_, c_, filters_}, fanIn, fanOut, Init::fanScaled},
          {"b", {filters_}, fanIn, fanOut, Init::zeros}};
}

void Conv2d::bindParams(std::vector<Param> params) {
  kernel_ = params.at(0);
  bias_ = params.at(1);
}

// Walks the patch matrix col[(n·OH + i)·OW + j, (p·K + q)·C + c] = X[n, s·i + p − t, s·j + q − l,
// c] one kernel row (fixed n, i, j, p) at a time. Within a kernel row, consecutive q are
// consecutive pixels, so the entries that fall inside the image, [lo, hi), are one contiguous run
// of X starting at `pixels`; the rest are padding. visit(row, pixels, lo, hi) sees each of the
// K·C-entry rows in order.
template <typename Pixel, typename Visit>
void Conv2d::forEachKernelRow(int64_t n, float* col, Pixel* image, Visit visit) const {
  const int64_t rowLength = k_ * c_;
  for (int64_t s = 0; s < n; ++s) {
    Pixel* img = image + s * h_ * w_ * c_;
    for (int64_t i = 0; i < rows_.out; ++i) {
      for (int64_t j = 0; j < cols_.out; ++j) {
        const int64_t v0 = j * stride_ - cols_.padBefore;  // the column under q = 0
        const int64_t qLo = std::max<int64_t>(0, -v0), qHi = std::min<int64_t>(k_, w_ - v0);
        for (int64_t p = 0; p < k_; ++p, col += rowLength) {
          const int64_t u = i * stride_ + p - rows_.padBefore;
          if (u < 0 || u >= h_ || qLo >= qHi)
            visit(col, img, 0, 0);
          else
            visit(col, img + (u * w_ + v0 + qLo) * c_, qLo * c_, qHi * c_);
        }
      }
    }
  }
}

void Conv2d::im2col(const Tensor& x) {
  const int64_t n = x.dim(0), rowLength = k_ * c_;
  col_.resize(static_cast<size_t>(n * rows_.out * cols_.out * k_ * rowLength));
  forEachKernelRow(n, col_.data(), x.data(),
                   [rowLength](float* row, const float* pixels, int64_t lo, int64_t hi) {
                     for (int64_t t = 0; t < lo; ++t) row[t] = 0.0f;
                     for (int64_t t = lo; t < hi; ++t) row[t] = pixels[t - lo];
                     for (int64_t t = hi; t < rowLength; ++t) row[t] = 0.0f;
                   });
}

void Conv2d::forward(const Tensor& x, Tensor& y) {
  const int64_t n = x.dim(0), m = n * rows_.out * cols_.out, patch = k_ * k_ * c_;
  y.resize(batched(n));
#ifdef TFMATH_ONEDNN
  if (onednn_) return onednn_->forward(n, x.data(), kernel_.value, bias_.value, y.data());
#endif
  im2col(x);
  gemm(false, false, m, filters_, patch, 1.0f, col_.data(), patch, kernel_.value, filters_, 0.0f,
       y.data(), filters_);
  MatrixMap(y.data(), m, filters_).rowwise() += ConstVectorMap(bias_.value, filters_).transpose();
}

bool Conv2d::fusesNext(const char* next) const {
#ifdef TFMATH_ONEDNN
  return onednn_ && std::string_view(next) == "relu";
#else
  (void)next;
  return false;
#endif
}

void Conv2d::forwardFused(const Tensor& x, Tensor& y) {
  TFMATH_ASSERT(fusesNext("relu"), "forwardFused follows fusesNext");
#ifdef TFMATH_ONEDNN
  y.resize(batched(x.dim(0)));
  onednn_->forward(x.dim(0), x.data(), kernel_.value, bias_.value, y.data(), true);
#endif
}

void Conv2d::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const int64_t n = x.dim(0), m = n * rows_.out * cols_.out, patch = k_ * k_ * c_;
#ifdef TFMATH_ONEDNN
  if (onednn_) {
    dKernel_.resize(static_cast<size_t>(kernel_.size()));
    dBias_.resize(static_cast<size_t>(filters_));
    onednn_->backwardWeights(n, x.data(), dy.data(), dKernel_.data(), dBias_.data());
    VectorMap(kernel_.grad, kernel_.size()) += ConstVectorMap(dKernel_.data(), kernel_.size());
    VectorMap(bias_.grad, filters_) += ConstVectorMap(dBias_.data(), filters_);
    if (!dx) return;
    dx->resize(x.shape());
    return onednn_->backwardData(n, dy.data(), kernel_.value, dx->data());
  }
#endif
  // dK ((K·K·C)×F) += colᵀ · dY
  gemm(true, false, patch, filters_, m, 1.0f, col_.data(), patch, dy.data(), filters_, 1.0f,
       kernel_.grad, filters_);
  VectorMap(bias_.grad, filters_) +=
      ConstMatrixMap(dy.data(), m, filters_).colwise().sum().transpose();
  if (!dx) return;
  // dcol = dY · Kᵀ, then col2im: each patch entry adds back into the pixel it was copied from.
  dcol_.resize(col_.size());
  gemm(false, true, m, patch, filters_, 1.0f, dy.data(), filters_, kernel_.value, filters_, 0.0f,
       dcol_.data(), patch);
  dx->resize(x.shape());
  dx->setZero();
  forEachKernelRow(n, dcol_.data(), dx->data(),
                   [](float* row, float* pixels, int64_t lo, int64_t hi) {
                     for (int64_t t = lo; t < hi; ++t) pixels[t - lo] += row[t];
                   });
}

}  // namespace tfmath
