// activation.cu: the activation kernels: one pair per function, from its forward f(x) and its
// derivative written in terms of y = f(x).
#include "kernels/activation.cuh"

namespace tfmath::cuda {

namespace {

struct Relu {
  __device__ static float f(float x) { return x > 0.0f ? x : 0.0f; }
  __device__ static float dfFromY(float y, float g) { return y > 0.0f ? g : 0.0f; }
};
struct Sigmoid {
  __device__ static float f(float x) { return 1.0f / (1.0f + expf(-x)); }
  __device__ static float dfFromY(float y, float g) { return g * y * (1.0f - y); }
};
struct Tanh {
  __device__ static float f(float x) { return tanhf(x); }
  __device__ static float dfFromY(float y, float g) { return g * (1.0f - y * y); }
};

template <typename F>
__global__ void forwardKernel(const float* x, float* y, long n) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = F::f(x[i]);
}

template <typename F>
__global__ void backwardKernel(const float* y, const float* dy, float* dx, long n) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i < n) dx[i] = F::dfFromY(y[i], dy[i]);
}

template <typename F>
class ActivationLayer final : public GpuLayer {
 public:
  explicit ActivationLayer(long perSample) : perSample_(perSample) {}
  void forward(const Blas&, int n, const float* x, float* y) override {
    const long count = n * perSample_;
    if (count == 0) return;
    forwardKernel<F><<<blocksFor(count), kThreads>>>(x, y, count);
    check(cudaGetLastError(), "activation forward");
  }
  void backward(const Blas&, int n, const float*, const float* y, const float* dy,
                float* dx) override {
    const long count = n * perSample_;
    if (!dx || count == 0) return;
    backwardKernel<F><<<blocksFor(count), kThreads>>>(y, dy, dx, count);
    check(cudaGetLastError(), "activation backward");
  }

 private:
  long perSample_;
};

}  // namespace

std::unique_ptr<GpuLayer> makeReluLayer(long perSample) {
  return std::make_unique<ActivationLayer<Relu>>(perSample);
}
std::unique_ptr<GpuLayer> makeSigmoidLayer(long perSample) {
  return std::make_unique<ActivationLayer<Sigmoid>>(perSample);
}
std::unique_ptr<GpuLayer> makeTanhLayer(long perSample) {
  return std::make_unique<ActivationLayer<Tanh>>(perSample);
}

}  // namespace tfmath::cuda
