// cpu_backend.cc: the CPU backend, and makeBackend's choice of device.
#include "train/cpu_backend.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "base/assert.h"
#include "jobs/job_error.h"

namespace tfmath {

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
  trained_ = loss(model_.forward(*stagedX_, stagedDraws_), *stagedTargets_, &dOut_);
  model_.backward(dOut_);
  stagedX_ = stagedTargets_ = nullptr;
}

LossSums CpuBackend::evaluate(const Tensor& x, const Tensor& targets) {
  return loss(model_.forward(x), targets, nullptr);
}

double CpuBackend::gradientSumOfSquares() {
  double sum = 0;
  for (float g : model_.grads()) sum += static_cast<double>(g) * g;
  return sum;
}

void CpuBackend::update(float scale, uint64_t step, double rateFactor) {
  FloatBuffer& g = model_.grads();
  VectorMap(g.data(), static_cast<int64_t>(g.size())) *= scale;
  optimizer_->update(model_.values().data(), g.data(), step, rateFactor);
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

namespace {

// N of "PREFIXN" (digits only), or -1.
int indexAfter(const std::string& device, const std::string& prefix) {
  if (!device.starts_with(prefix) || device.size() == prefix.size()) return -1;
  for (size_t i = prefix.size(); i < device.size(); ++i)
    if (device[i] < '0' || device[i] > '9' || i - prefix.size() >= 6) return -1;
  return std::stoi(device.substr(prefix.size()));
}

}  // namespace

int gpuIndex(const std::string& device) {
  // cpu:N is the CPU as well: it names one of several CPU workers (slots) on a host.
  if (device == "cpu" || indexAfter(device, "cpu:") >= 0) return -1;
  const int index = indexAfter(device, "gpu:");
  if (index < 0) throw JobError("device '" + device + "': expected cpu, cpu:N or gpu:N");
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
