// cpu_backend.cc: the CPU backend, and makeBackend's choice of device.
#include "train/cpu_backend.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "base/assert.h"
#include "jobs/job_error.h"

namespace tfmath {

std::unique_ptr<Optimizer> makeOptimizer(proto::Optimizer::Reader o, size_t size) {
  if (o.isSgd()) {
    auto s = o.getSgd();
    return makeSgd({s.getLearningRate(), s.getMomentum(), s.getWeightDecay(), s.getNesterov()},
                   size);
  }
  auto a = o.getAdam();
  return makeAdam({a.getLearningRate(), a.getBeta1(), a.getBeta2(), a.getEpsilon()}, size);
}

CpuBackend::CpuBackend(proto::Job::Reader job, const Shape& input)
    : lossKind_(job.getLoss()), model_(job.getModel(), input) {
  model_.initialize(job.getSeed());
  size_ = model_.values().size();
  optimizer_ = makeOptimizer(job.getOptimizer(), size_);
  for (const Param& p : model_.params())
    params_.push_back({p.name, p.shape, static_cast<size_t>(p.value - model_.values().data())});
}

LossSums CpuBackend::loss(const Tensor& out, const Tensor& targets, Tensor* grad) const {
  return lossKind_ == proto::Loss::MSE ? mse(out, targets, grad)
                                       : softmaxCrossEntropy(out, targets, grad);
}

void CpuBackend::train(Communicator*) {
  TFMATH_ASSERT(stagedX_ != nullptr);  // train() comes after stage()
  trained_ = loss(model_.forward(*stagedX_), *stagedTargets_, &dOut_);
  model_.backward(dOut_);
  stagedX_ = stagedTargets_ = nullptr;
}

LossSums CpuBackend::evaluate(const Tensor& x, const Tensor& targets) {
  return loss(model_.forward(x), targets, nullptr);
}

void CpuBackend::update(float scale, uint64_t step) {
  FloatBuffer& g = model_.grads();
  VectorMap(g.data(), static_cast<int64_t>(g.size())) *= scale;
  optimizer_->update(model_.values().data(), g.data(), step);
}

void CpuBackend::read(int slot, float* host) const {
  const float* from = slot < 0 ? model_.values().data() : optimizer_->slot(slot).data();
  std::memcpy(host, from, size_ * sizeof(float));
}

void CpuBackend::write(int slot, const float* host) {
  float* to = slot < 0 ? model_.values().data() : optimizer_->slot(slot).data();
  std::memcpy(to, host, size_ * sizeof(float));
}

#ifdef TFMATH_HAVE_CUDA
// gpu_backend.cc
std::unique_ptr<Backend> makeGpuBackend(proto::Job::Reader job, const Shape& input, int device);
DeviceReport probeGpu(int device);
int cudaDevices();
#endif

int gpuIndex(const std::string& device) {
  if (device == "cpu") return -1;
  int index = -1;
  if (device.starts_with("gpu:")) {
    try {
      size_t used = 0;
      index = std::stoi(device.substr(4), &used);
      if (used != device.size() - 4) index = -1;
    } catch (const std::exception&) {
    }
  }
  if (index < 0) throw JobError("device '" + device + "': expected cpu or gpu:N");
  return index;
}

int gpuCount() {
#ifdef TFMATH_HAVE_CUDA
  return cudaDevices();
#else
  return 0;
#endif
}

DeviceReport probeDevice(const std::string& device) {
  const int index = gpuIndex(device);
  if (index < 0) return {};
#ifdef TFMATH_HAVE_CUDA
  return probeGpu(index);
#else
  throw JobError("device '" + device + "': this tfmath was built without CUDA (no nvcc)");
#endif
}

std::unique_ptr<Backend> makeBackend(proto::Job::Reader job, const Shape& input,
                                     const std::string& device) {
  const int index = gpuIndex(device);
  if (index < 0) return std::make_unique<CpuBackend>(job, input);
#ifdef TFMATH_HAVE_CUDA
  return makeGpuBackend(job, input, index);
#else
  throw JobError("device '" + device + "': this tfmath was built without CUDA (no nvcc)");
#endif
}

}  // namespace tfmath
