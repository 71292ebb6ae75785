// pool.cc: max pooling; forward records each window's arg-max for backward.
#include "ops/pool.h"

namespace tfmath {

const OpMath& maxPool2dMath() {
  static const OpMath m{
      "maxPool2d",
      "layer",
      "Maximum over each pool×pool window, per channel; windows past the border are dropped.",
      R"(Y_{n,i,j,c} = \max_{0 \le p,q < k} X_{n,\,si+p,\,sj+q,\,c})",
      {{"X",
        R"(\frac{\partial L}{\partial X_{n,u,v,c}} = \sum_{i,j} [\,(u,v) = \arg\max_{p,q} X_{n,\,si+p,\,sj+q,\,c}\,]\, \frac{\partial L}{\partial Y_{n,i,j,c}})"}},
      "X: N×H×W×C, Y: N×OH×OW×C with OH = ⌊(H−k)/s⌋+1. Ties go to the first maximum in "
      "row-major window order.",
      "ops/pool.cc",
      "kernels/pool.cu"};
  return m;
}

MaxPool2d::MaxPool2d(const Shape& input, int64_t pool, int64_t stride)
    : h_(input.at(0)), w_(input.at(1)), c_(input.at(2)), pool_(pool), stride_(stride) {
  outputShape_ = {(h_ - pool) / stride + 1, (w_ - pool) / stride + 1, c_};
}

void MaxPool2d::forward(const Tensor& x, Tensor& y) {
  const int64_t n = x.dim(0), oh = outputShape_[0], ow = outputShape_[1];
  y.resize(batched(n));
  argmax_.resize(static_cast<size_t>(y.size()));
  float* out = y.data();
  int32_t* arg = argmax_.data();
  for (int64_t s = 0; s < n; ++s) {
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
}

void MaxPool2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  const int64_t n = x.dim(0), perOut = y.size() / n, perIn = h_ * w_ * c_;
  dx->resize(x.shape());
  dx->setZero();
  for (int64_t s = 0; s < n; ++s) {
    float* grad = dx->data() + s * perIn;
    for (int64_t o = s * perOut; o < (s + 1) * perOut; ++o) grad[argmax_[o]] += dy[o];
  }
}

}  // namespace tfmath
