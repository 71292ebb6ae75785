// dense.cu: the dense layer's kernels and the two bias helpers conv2d shares.
#include "kernels/dense.cuh"

namespace tfmath::cuda {

namespace {

__global__ void addRowVectorKernel(float* y, const float* b, long total, int cols) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i < total) y[i] += b[i % cols];
}

// One block per column: each thread sums a fixed stride of rows, then a fixed tree adds the
// threads' sums. No atomics, so the order, and the bits, never change.
__global__ void addColumnSumsKernel(const float* m, long rows, int cols, float* out) {
  __shared__ float partial[kThreads];
  const int c = blockIdx.x;
  float sum = 0.0f;
  for (long r = threadIdx.x; r < rows; r += blockDim.x) sum += m[r * cols + c];
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[c] += partial[0];
}

}  // namespace

void addRowVector(float* y, const float* b, long rows, int cols) {
  const long total = rows * cols;
  if (total == 0) return;
  addRowVectorKernel<<<blocksFor(total), kThreads>>>(y, b, total, cols);
  check(cudaGetLastError(), "addRowVector");
}

void addColumnSums(const float* m, long rows, int cols, float* out) {
  if (cols == 0) return;
  addColumnSumsKernel<<<cols, kThreads>>>(m, rows, cols, out);
  check(cudaGetLastError(), "addColumnSums");
}

void denseForward(const Blas& blas, const float* x, const float* w, const float* b, float* y, int n,
                  int d, int u) {
  gemm(blas, false, false, n, u, d, 1.0f, x, d, w, u, 0.0f, y, u);
  addRowVector(y, b, n, u);
}

void denseBackward(const Blas& blas, const float* x, const float* w, const float* dy, float* dw,
                   float* db, float* dx, int n, int d, int u) {
  gemm(blas, true, false, d, u, n, 1.0f, x, d, dy, u, 1.0f, dw, u);
  addColumnSums(dy, n, u, db);
  if (dx) gemm(blas, false, true, n, d, u, 1.0f, dy, u, w, u, 0.0f, dx, d);
}

namespace {

class DenseLayer final : public GpuLayer {
 public:
  DenseLayer(int inputs, int units) : inputs_(inputs), units_(units) {}
  void bindParams(const std::vector<DeviceParam>& params) override {
    w_ = params.at(0);
    b_ = params.at(1);
  }
  void forward(const Blas& blas, int n, const float* x, float* y) override {
    denseForward(blas, x, w_.value, b_.value, y, n, inputs_, units_);
  }
  void backward(const Blas& blas, int n, const float* x, const float*, const float* dy,
                float* dx) override {
    denseBackward(blas, x, w_.value, dy, w_.grad, b_.grad, dx, n, inputs_, units_);
  }

 private:
  int inputs_, units_;
  DeviceParam w_, b_;
};

}  // namespace

std::unique_ptr<GpuLayer> makeDenseLayer(int inputs, int units) {
  return std::make_unique<DenseLayer>(inputs, units);
}

}  // namespace tfmath::cuda
