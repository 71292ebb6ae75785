// pool.h: 2-D max pooling, channels last. Windows that would run past the input are dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ops/layer.h"
#include "ops/layer_op.h"

#ifdef TFMATH_HAVE_CUDA
#include "kernels/pool.cuh"
#endif

namespace tfmath {

const LayerOp& maxPool2dOp();

// Windows of `pool` every `stride` along an axis of `in`: ⌊(in − pool)/stride⌋ + 1 (a window that
// would run past the end is dropped). The one definition, for the CPU, the GPU and the checks.
inline int64_t poolAxis(int64_t in, int64_t pool, int64_t stride) {
  return (in - pool) / stride + 1;
}

// The shape rule of a pooling layer (`field`, e.g. "model[1].maxPool2d"): an H×W×C input and a
// window that fits it give OH×OW×C; otherwise a problem is recorded and {} returned.
Shape pooledShape(const Shape& input, int64_t pool, int64_t stride, const std::string& field,
                  Problems& problems);

#ifdef TFMATH_HAVE_CUDA
// The GPU kernels' shape of a pooling of `input` by pool×pool windows every `stride` (its n is set
// per batch), for both poolings' registry entries.
cuda::PoolShape gpuPoolShape(const Shape& input, int64_t pool, int64_t stride);
#endif

// Who runs max pooling: the window search below (the reference), or oneDNN (pool_onednn.h), which
// takes the same first maximum in row-major window order. oneDNN runs only windows that do not
// overlap (stride ≥ pool); overlapping ones stay on the reference, whose backward adds an element's
// gradients in the order the GPU does.
enum class PoolEngine { reference, onednn };
// oneDNN in a build that has it.
PoolEngine fastestPoolEngine();

class OneDnnMaxPool2d;

class MaxPool2d : public Layer {
 public:
  // input: per-sample shape [H, W, C]; windows of pool×pool every `stride`.
  MaxPool2d(const Shape& input, int64_t pool, int64_t stride,
            PoolEngine engine = fastestPoolEngine());
  ~MaxPool2d() override;
  const char* op() const override { return "maxPool2d"; }
  // x: N×H×W×C, y: N×OH×OW×C with OH = ⌊(H − pool)/stride⌋ + 1.
  void forward(const Tensor& x, Tensor& y) override;
  // dx = 0 except at each window's arg-max, which receives that window's gradient.
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  // While held, each output is the input element that was its window's arg-max in the last plain
  // forward, even where another element of the window has since grown larger.
  void holdBranches(const Tensor& y) override;
  void releaseBranches() override { held_ = false; }
  // The per-sample input [H, W, C], window and stride.
  Shape input() const { return {h_, w_, c_}; }
  int64_t pool() const { return pool_; }
  int64_t stride() const { return stride_; }

 private:
  // The reference forward: searches each window, recording argmax_.
  void searchWindows(const Tensor& x, Tensor& y);

  int64_t h_, w_, c_, pool_, stride_;
  std::vector<int32_t> argmax_;  // per output element: index into its sample's input
  bool held_ = false;            // forward reuses argmax_ instead of searching the windows
  std::unique_ptr<OneDnnMaxPool2d> onednn_;  // set when the engine is oneDNN
  const Tensor* lastX_ = nullptr;            // the last forward's input
  bool argmaxOfLastForward_ = false;         // whether argmax_ belongs to the last forward
};

}  // namespace tfmath
