// dropout.cu: the dropout kernel, one thread per element; forward and backward are the same map.
#include "kernels/dropout.cuh"

namespace tfmath::cuda {

namespace {

__global__ void dropoutKernel(uint64_t seed, uint32_t layer, uint32_t epoch,
                              const uint32_t* samples, long perSample, uint32_t threshold,
                              float scale, const float* in, float* out, long total) {
  const long at = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (at >= total) return;
  const long s = at / perSample;
  const uint32_t e = static_cast<uint32_t>(at - s * perSample);
  const bool keep = dropoutKeeps(drawBits(seed, layer, epoch, samples[s], e), threshold);
  out[at] = keep ? in[at] * scale : 0.0f;
}

class DropoutLayer final : public GpuLayer {
 public:
  DropoutLayer(long perSample, uint32_t threshold, float scale, uint32_t layer)
      : perSample_(perSample), threshold_(threshold), scale_(scale), layer_(layer) {}
  void setDraws(const BatchDraws& draws) override { draws_ = draws; }
  void forward(const Blas&, int n, const float* x, float* y) override {
    trained_ = draws_.training;
    dropout(draws_, layer_, n, perSample_, threshold_, scale_, x, y);
  }
  // The mask of the last forward, drawn again; dy passes unchanged after an evaluation forward.
  void backward(const Blas&, int n, const float*, const float*, const float* dy,
                float* dx) override {
    if (!dx) return;
    BatchDraws draws = draws_;
    draws.training = trained_;
    dropout(draws, layer_, n, perSample_, threshold_, scale_, dy, dx);
  }

 private:
  long perSample_;
  uint32_t threshold_;
  float scale_;
  uint32_t layer_;
  BatchDraws draws_;
  bool trained_ = false;
};

}  // namespace

void dropout(const BatchDraws& draws, uint32_t layer, int n, long perSample, uint32_t threshold,
             float scale, const float* in, float* out) {
  const long total = static_cast<long>(n) * perSample;
  if (total == 0) return;
  if (!draws.training) {
    check(cudaMemcpyAsync(out, in, total * sizeof(float), cudaMemcpyDeviceToDevice), "dropout");
    return;
  }
  dropoutKernel<<<blocksFor(total), kThreads>>>(draws.seed, layer, draws.epoch, draws.samples,
                                                perSample, threshold, scale, in, out, total);
  check(cudaGetLastError(), "dropout");
}

std::unique_ptr<GpuLayer> makeDropoutLayer(long perSample, uint32_t threshold, float scale,
                                           uint32_t layer) {
  return std::make_unique<DropoutLayer>(perSample, threshold, scale, layer);
}

}  // namespace tfmath::cuda
