// conv2d.cc: convolution as im2col + one GEMM per pass. The patch matrix from forward is kept for
// the weight gradient in backward.
#include "conv2d.h"

#include <algorithm>

#include "gemm.h"

namespace tfmath {

const OpMath& conv2dMath() {
  static const OpMath m{
      "conv2d",
      "layer",
      "2-D convolution (cross-correlation), channels last, with stride and valid or same padding.",
      R"(Y_{n,i,j,f} = b_f + \sum_{p,q,c} X_{n,\,si+p-t,\,sj+q-l,\,c}\, K_{p,q,c,f})",
      {{"K",
        R"(\frac{\partial L}{\partial K_{p,q,c,f}} = \sum_{n,i,j} X_{n,\,si+p-t,\,sj+q-l,\,c}\, \frac{\partial L}{\partial Y_{n,i,j,f}})"},
       {"b",
        R"(\frac{\partial L}{\partial b_f} = \sum_{n,i,j} \frac{\partial L}{\partial Y_{n,i,j,f}})"},
       {"X",
        R"(\frac{\partial L}{\partial X_{n,u,v,c}} = \sum_{\substack{i,j,p,q,f \\ si+p-t=u,\ sj+q-l=v}} K_{p,q,c,f}\, \frac{\partial L}{\partial Y_{n,i,j,f}})"}},
      "X: N×H×W×C, K: k×k×C×F, Y: N×OH×OW×F; s is the stride, t and l the top and left padding "
      "(X is zero outside its bounds). Computed as im2col followed by one GEMM: Y = col(X)·K."};
  return m;
}

ConvAxis convAxis(int64_t in, int64_t kernel, int64_t stride, bool same) {
  if (!same) return {in >= kernel ? (in - kernel) / stride + 1 : 0, 0};
  int64_t out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>((out - 1) * stride + kernel - in, 0);
  return {out, total / 2};
}

Conv2d::Conv2d(const Shape& input, int64_t filters, int64_t kernel, int64_t stride, bool same)
    : h_(input.at(0)),
      w_(input.at(1)),
      c_(input.at(2)),
      filters_(filters),
      k_(kernel),
      stride_(stride),
      rows_(convAxis(h_, kernel, stride, same)),
      cols_(convAxis(w_, kernel, stride, same)) {
  outputShape_ = {rows_.out, cols_.out, filters_};
}

std::vector<ParamSpec> Conv2d::paramSpecs() const {
  const int64_t fanIn = k_ * k_ * c_, fanOut = k_ * k_ * filters_;
  return {{"w", {k_, k_, c_, filters_}, fanIn, fanOut, false},
          {"b", {filters_}, fanIn, fanOut, true}};
}

void Conv2d::bindParams(std::vector<Param> params) {
  kernel_ = params.at(0);
  bias_ = params.at(1);
}

// col[(n·OH + i)·OW + j, (p·K + q)·C + c] = X[n, s·i + p − t, s·j + q − l, c], or 0 off the image.
void Conv2d::im2col(const Tensor& x) {
  const int64_t n = x.dim(0), patch = k_ * k_ * c_;
  col_.resize(static_cast<size_t>(n * rows_.out * cols_.out * patch));
  float* out = col_.data();
  for (int64_t s = 0; s < n; ++s) {
    const float* img = x.data() + s * h_ * w_ * c_;
    for (int64_t i = 0; i < rows_.out; ++i) {
      for (int64_t j = 0; j < cols_.out; ++j) {
        for (int64_t p = 0; p < k_; ++p) {
          const int64_t u = i * stride_ + p - rows_.padBefore;
          for (int64_t q = 0; q < k_; ++q, out += c_) {
            const int64_t v = j * stride_ + q - cols_.padBefore;
            if (u < 0 || u >= h_ || v < 0 || v >= w_)
              std::fill(out, out + c_, 0.0f);
            else
              std::copy_n(img + (u * w_ + v) * c_, c_, out);
          }
        }
      }
    }
  }
}

void Conv2d::forward(const Tensor& x, Tensor& y) {
  const int64_t n = x.dim(0), m = n * rows_.out * cols_.out, patch = k_ * k_ * c_;
  im2col(x);
  y.resize(batched(n));
  gemm(false, false, m, filters_, patch, 1.0f, col_.data(), patch, kernel_.value, filters_, 0.0f,
       y.data(), filters_);
  MatrixMap(y.data(), m, filters_).rowwise() += ConstVectorMap(bias_.value, filters_).transpose();
}

void Conv2d::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const int64_t n = x.dim(0), m = n * rows_.out * cols_.out, patch = k_ * k_ * c_;
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
  const float* in = dcol_.data();
  for (int64_t s = 0; s < n; ++s) {
    float* img = dx->data() + s * h_ * w_ * c_;
    for (int64_t i = 0; i < rows_.out; ++i) {
      for (int64_t j = 0; j < cols_.out; ++j) {
        for (int64_t p = 0; p < k_; ++p) {
          const int64_t u = i * stride_ + p - rows_.padBefore;
          for (int64_t q = 0; q < k_; ++q, in += c_) {
            const int64_t v = j * stride_ + q - cols_.padBefore;
            if (u < 0 || u >= h_ || v < 0 || v >= w_) continue;
            float* px = img + (u * w_ + v) * c_;
            for (int64_t c = 0; c < c_; ++c) px[c] += in[c];
          }
        }
      }
    }
  }
}

}  // namespace tfmath
