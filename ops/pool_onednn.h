// pool_onednn.h: max pooling's forward and backward through oneDNN, on tfmath's NHWC images.
// oneDNN keeps each window's arg-max in a workspace of its own between the two passes. MaxPool2d
// uses it when the build has oneDNN; the window search in pool.cc stays the reference the tests
// compare it with, ties included.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

namespace tfmath {

// A max pooling's geometry: per-sample input H×W×C, the window, the stride and the output size.
struct PoolGeometry {
  int64_t h, w, c, pool, stride, outH, outW;
};

class OneDnnMaxPool2d {
 public:
  explicit OneDnnMaxPool2d(const PoolGeometry& g);
  ~OneDnnMaxPool2d();
  // Whether oneDNN takes this geometry; if not, the reference must run.
  bool usable() const { return usable_; }
  // y (n×OH×OW×C) = the maximum of each window of x (n×H×W×C).
  void forward(int64_t n, const float* x, float* y);
  // dx (n×H×W×C) written (=): dy routed to the arg-maxes of the last forward of n samples.
  void backward(int64_t n, const float* dy, float* dx);

 private:
  struct Passes;  // the primitives and the workspace for one batch size
  Passes& passes(int64_t n);
  PoolGeometry g_;
  bool usable_ = false;
  std::map<int64_t, std::unique_ptr<Passes>> byBatch_;
};

}  // namespace tfmath
