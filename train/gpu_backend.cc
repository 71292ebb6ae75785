// gpu_backend.cc: the GPU backend (built with CUDA only): the model's layers run as kernels/ on one
// device, with the parameters, gradients, optimizer slots and activations in device memory. The
// CPU model is built first for the layer list, the parameter names and the initial values, so
// both devices start from the same bits and write the same checkpoints.
//
// The step is asynchronous. Kernels run on the legacy default stream. A staged batch goes up
// through pinned memory on a copy stream of its own (two buffers: one trains while the next
// arrives); the kernels wait for it by an event, and the next copy into a buffer waits for the
// kernels of the step that read it. The loss sums come down into pinned memory behind the loss
// kernel: in a world of one the host waits for them (so it runs at most a step ahead) and never
// for backward or the update. NCCL ranks wait for their allreduce, hence for backward; only a
// communicator that sums host memory (Gloo) brings the gradients down, and back up for the update.
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

#include "base/assert.h"
#include "jobs/job_error.h"
#include "kernels/gpu_layer.cuh"
#include "kernels/loss.cuh"
#include "kernels/optimizer.cuh"
#include "train/cpu_backend.h"

namespace tfmath {

namespace {

// Pinned (page-locked) host memory, owned: copies from it can be asynchronous.
struct PinnedFree {
  void operator()(float* p) const { cudaFreeHost(p); }
};
using PinnedArray = std::unique_ptr<float[], PinnedFree>;
PinnedArray pinned(size_t count) {
  void* p = nullptr;
  cuda::check(cudaMallocHost(&p, (count ? count : 1) * sizeof(float)), "cudaMallocHost");
  return PinnedArray(static_cast<float*>(p));
}

// The trainer sizes every buffer for its largest slice before the first step (Backend::reserve),
// so growing one (which waits for the device) happens only then and for evaluation's larger
// chunks, never with a collective in flight.
using Scratch = cuda::Scratch<float>;

// A batch in device memory, with the pinned host buffer it goes up through and the events that
// order its copies against the kernels.
struct DeviceBatch {
  PinnedArray host;
  size_t hostCapacity = 0;
  Scratch x, targets;
  cuda::Scratch<uint32_t> samples;  // each sample's index in the training set (a training batch)
  BatchDraws draws;                 // what dropout draws from, its samples in device memory
  int n = 0;                        // samples
  cuda::Event uploaded;             // after the copy up
  cuda::Event consumed;             // after the last kernel that reads x or the targets
  // Room for `xCount` input and `targetCount` target floats and for `n` sample indices, on the
  // host (the indices' bits in floats' room) and the device.
  void reserve(size_t xCount, size_t targetCount, size_t n) {
    if (xCount + targetCount + n > hostCapacity) {
      cuda::check(cudaEventSynchronize(uploaded.get()), "wait for the last copy up");
      host = pinned(xCount + targetCount + n);
      hostCapacity = xCount + targetCount + n;
    }
    x.reserve(xCount);
    targets.reserve(targetCount);
    samples.reserve(n);
  }
};

// One layer of the model on the GPU: its registry entry's GPU implementation, its sizes per
// sample, and where its parameters are in params().
struct DeviceLayer {
  std::unique_ptr<cuda::GpuLayer> op;
  int64_t inPerSample = 0, outPerSample = 0;
  size_t firstParam = 0, paramCount = 0;
};

class GpuBackend final : public Backend {
 public:
  GpuBackend(proto::Job::Reader job, const Shape& input, int device);
  std::string device() const override { return device_; }
  Memory memory() const override { return Memory::device; }
  // Waits for the copy stream and the kernels, not for a collective: freeing memory then is safe.
  ~GpuBackend() override {
    cudaStreamSynchronize(copies_.get());
    cudaStreamSynchronize(nullptr);
  }
  void reserve(int64_t samples, int64_t targetsPerSample) override;
  void zeroGradients() override {
    cuda::check(cudaMemsetAsync(grads_.get(), 0, size_ * sizeof(float)), "zero the gradients");
  }
  void stage(const Tensor& x, const Tensor& targets, const BatchDraws& draws) override;
  void train(Communicator* overlap) override;
  LossSums trainedLoss() override;
  LossSums evaluate(const Tensor& x, const Tensor& targets) override;
  std::span<float> gradients(Memory where) override;
  double gradientSumOfSquares() override;
  void update(float scale, uint64_t step, double rateFactor) override;
  std::vector<std::string> slotNames() const override { return slotNames_; }
  void read(int slot, float* host) const override;
  void write(int slot, const float* host) override;

 private:
  // Copies x, the targets and the draws' samples (a training batch) into `b` on `stream`.
  void upload(DeviceBatch& b, const Tensor& x, const Tensor& targets, const BatchDraws& draws,
              cudaStream_t stream);
  // Runs every layer on `b`. Returns the output (device memory).
  const float* forward(const DeviceBatch& b);
  // Queues the loss of `b` (and its gradient into `grad`, if non-null) and the copy of its sums
  // into hostSums_; lossReady_ marks them.
  void loss(const DeviceBatch& b, const float* out, float* grad);
  float* slotPointer(int slot) const { return slot < 0 ? values_.get() : slots_.at(slot).get(); }

  std::string device_;
  proto::Job::Reader job_;
  std::unique_ptr<cuda::Blas> blas_;  // made once the device is chosen
  std::vector<DeviceLayer> layers_;
  size_t firstTrainable_ = 0;
  cuda::DeviceArray<float> values_, grads_;
  std::vector<cuda::DeviceArray<float>> slots_;
  std::vector<std::string> slotNames_;
  PinnedArray hostGrads_;
  Memory summedIn_ = Memory::device;  // which copy of the gradients the communicator summed
  // Training batches alternate between the first two; evaluation uses the third.
  DeviceBatch batches_[3];
  int staged_ = -1;   // the training batch stage() filled and train() has not used; −1: none
  int nextSlot_ = 0;  // the training batch the next stage() fills
  cuda::Stream copies_;
  cuda::DeviceArray<double> sums_;            // the loss sums (two doubles)
  cuda::DeviceArray<double> squarePartials_;  // gradientSumOfSquares()'s, made on first use
  std::unique_ptr<double[], void (*)(double*)> hostSums_{nullptr, nullptr};
  cuda::Event lossReady_;
  Scratch dOut_, gradA_, gradB_;
  std::vector<Scratch> acts_;
};

void requireDevice(int device) {
  const int count = cuda::deviceCount();
  if (device >= count)
    throw JobError("device gpu:" + std::to_string(device) + ": this machine has " +
                   std::to_string(count) + " CUDA device(s)");
}

// NVML, loaded at run time when the driver provides it ("when it loads": a machine without it
// still trains, and reports utilization as −1). Declared here: CUDA's toolkit ships no nvml.h.
class Nvml {
 public:
  static Nvml& get() {
    static Nvml nvml;
    return nvml;
  }
  // Fills memory and utilization of the device with this PCI bus id; false if NVML cannot.
  bool read(const char* pciBusId, DeviceReport& report) const {
    void* handle = nullptr;
    unsigned long long memory[3] = {0, 0, 0};  // nvmlMemory_t: total, free, used
    unsigned utilization[2] = {0, 0};          // nvmlUtilization_t: gpu, memory
    if (!ready_ || byPci_(pciBusId, &handle) != 0) return false;
    if (memoryInfo_(handle, memory) == 0) {
      report.memoryTotalBytes = memory[0];
      report.memoryUsedBytes = memory[2];
    }
    if (utilizationRates_(handle, utilization) == 0)
      report.utilizationPercent = static_cast<int>(utilization[0]);
    return true;
  }

 private:
  Nvml() {
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return;
    auto init = reinterpret_cast<int (*)()>(dlsym(lib, "nvmlInit_v2"));
    byPci_ = reinterpret_cast<int (*)(const char*, void**)>(
        dlsym(lib, "nvmlDeviceGetHandleByPciBusId_v2"));
    memoryInfo_ = reinterpret_cast<int (*)(void*, unsigned long long*)>(
        dlsym(lib, "nvmlDeviceGetMemoryInfo"));
    utilizationRates_ =
        reinterpret_cast<int (*)(void*, unsigned*)>(dlsym(lib, "nvmlDeviceGetUtilizationRates"));
    ready_ = init && byPci_ && memoryInfo_ && utilizationRates_ && init() == 0;
  }
  bool ready_ = false;
  int (*byPci_)(const char*, void**) = nullptr;
  int (*memoryInfo_)(void*, unsigned long long*) = nullptr;
  int (*utilizationRates_)(void*, unsigned*) = nullptr;
};

GpuBackend::GpuBackend(proto::Job::Reader job, const Shape& input, int device) : job_(job) {
  requireDevice(device);
  cuda::check(cudaSetDevice(device), "cudaSetDevice");
  cudaDeviceProp properties{};
  cuda::check(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties");
  device_ = "gpu:" + std::to_string(device) + " (" + properties.name + ")";
  blas_ = std::make_unique<cuda::Blas>();

  CpuBackend cpu(job, input);
  params_ = cpu.params();
  size_ = cpu.size();
  FloatBuffer host(size_);
  cpu.read(-1, host.data());
  values_ = cuda::toDevice(std::vector<float>(host.begin(), host.end()));
  grads_ = cuda::deviceArray<float>(size_);
  slotNames_ = cpu.slotNames();
  for (size_t s = 0; s < slotNames_.size(); ++s)
    slots_.push_back(cuda::toDevice(std::vector<float>(size_, 0.0f)));
  hostGrads_ = pinned(size_);
  copies_ = cuda::makeStream();
  for (DeviceBatch& b : batches_) {
    b.uploaded = cuda::makeEvent();
    b.consumed = cuda::makeEvent();
  }
  sums_ = cuda::deviceArray<double>(2);
  void* sums = nullptr;
  cuda::check(cudaMallocHost(&sums, 2 * sizeof(double)), "cudaMallocHost");
  hostSums_ = {static_cast<double*>(sums), [](double* p) { cudaFreeHost(p); }};
  lossReady_ = cuda::makeEvent();

  const Model& model = cpu.model();
  firstTrainable_ = model.firstTrainable();
  auto jobLayers = job.getModel();
  for (size_t i = 0; i < model.layers().size(); ++i) {
    const LayerOp& op = model.op(i);
    if (!op.gpu) throw JobError("the GPU has no kernel for op " + op.math.name);
    DeviceLayer d;
    d.op = op.gpu({jobLayers[model.jobLayer(i)], model.inputShape(i), model.jobLayer(i)});
    d.inPerSample = numel(model.inputShape(i));
    d.outPerSample = numel(model.layers()[i]->outputShape());
    // Parameters are handed over in the order of params(): backward's reports (announceFinal)
    // depend on it, and so does every rank's bucket order.
    std::tie(d.firstParam, d.paramCount) = model.paramsOf(i);
    d.paramCount -= d.firstParam;
    std::vector<cuda::DeviceParam> views;
    for (size_t p = d.firstParam; p < d.firstParam + d.paramCount; ++p)
      views.push_back({values_.get() + params_[p].offset, grads_.get() + params_[p].offset});
    d.op->bindParams(views);
    layers_.push_back(std::move(d));
  }
  acts_.resize(layers_.size());
}

void GpuBackend::upload(DeviceBatch& b, const Tensor& x, const Tensor& targets,
                        const BatchDraws& draws, cudaStream_t stream) {
  // The pinned buffer is free once its last copy up is done (at once, in practice: that batch
  // has been trained on since).
  cuda::check(cudaEventSynchronize(b.uploaded.get()), "wait for the last copy up");
  const size_t n = draws.training ? static_cast<size_t>(x.dim(0)) : 0;
  b.reserve(static_cast<size_t>(x.size()), static_cast<size_t>(targets.size()), n);
  std::memcpy(b.host.get(), x.data(), x.size() * sizeof(float));
  std::memcpy(b.host.get() + x.size(), targets.data(), targets.size() * sizeof(float));
  float* hostSamples = b.host.get() + x.size() + targets.size();
  static_assert(sizeof(float) == sizeof(uint32_t));
  if (n) std::memcpy(hostSamples, draws.samples, n * sizeof(uint32_t));
  // The device buffers are free once the kernels that read them last are done.
  cuda::check(cudaStreamWaitEvent(stream, b.consumed.get(), 0), "wait for the last reader");
  cuda::check(cudaMemcpyAsync(b.x.data.get(), b.host.get(), x.size() * sizeof(float),
                              cudaMemcpyHostToDevice, stream),
              "copy the batch to the device");
  cuda::check(cudaMemcpyAsync(b.targets.data.get(), b.host.get() + x.size(),
                              targets.size() * sizeof(float), cudaMemcpyHostToDevice, stream),
              "copy the targets to the device");
  if (n)
    cuda::check(cudaMemcpyAsync(b.samples.data.get(), hostSamples, n * sizeof(uint32_t),
                                cudaMemcpyHostToDevice, stream),
                "copy the sample indices to the device");
  b.draws = draws;
  b.draws.samples = n ? b.samples.data.get() : nullptr;
  cuda::check(cudaEventRecord(b.uploaded.get(), stream), "cudaEventRecord");
  b.n = static_cast<int>(x.dim(0));
}

void GpuBackend::reserve(int64_t samples, int64_t targetsPerSample) {
  const size_t n = static_cast<size_t>(samples);
  for (int slot = 0; slot < 2; ++slot)
    batches_[slot].reserve(n * static_cast<size_t>(layers_.front().inPerSample),
                           n * static_cast<size_t>(targetsPerSample), n);
  size_t widest = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    DeviceLayer& d = layers_[i];
    acts_[i].reserve(n * static_cast<size_t>(d.outPerSample));
    widest = std::max(widest, n * static_cast<size_t>(d.inPerSample));
    d.op->reserve(static_cast<int>(n));
  }
  gradA_.reserve(widest);
  gradB_.reserve(widest);
  dOut_.reserve(n * static_cast<size_t>(layers_.back().outPerSample));
  cuda::reserveLoss(static_cast<int>(n), static_cast<int>(layers_.back().outPerSample));
}

void GpuBackend::stage(const Tensor& x, const Tensor& targets, const BatchDraws& draws) {
  upload(batches_[nextSlot_], x, targets, draws, copies_.get());
  staged_ = nextSlot_;
  nextSlot_ = 1 - nextSlot_;
}

const float* GpuBackend::forward(const DeviceBatch& b) {
  const int n = b.n;
  const float* from = b.x.data.get();
  for (size_t i = 0; i < layers_.size(); ++i) {
    DeviceLayer& d = layers_[i];
    float* y = acts_[i].reserve(static_cast<size_t>(n * d.outPerSample));
    d.op->setDraws(b.draws);
    d.op->forward(*blas_, n, from, y);
    from = y;
  }
  return from;
}

void GpuBackend::loss(const DeviceBatch& b, const float* out, float* grad) {
  const int k = static_cast<int>(layers_.back().outPerSample);
  if (job_.getLoss() == proto::Loss::MSE)
    cuda::mse(out, b.targets.data.get(), grad, b.n, k, sums_.get());
  else
    cuda::softmaxCrossEntropy(out, b.targets.data.get(), grad, b.n, k, sums_.get());
  cuda::check(
      cudaMemcpyAsync(hostSums_.get(), sums_.get(), 2 * sizeof(double), cudaMemcpyDeviceToHost),
      "copy the loss sums to the host");
  cuda::check(cudaEventRecord(lossReady_.get()), "cudaEventRecord");
}

void GpuBackend::train(Communicator* overlap) {
  TFMATH_ASSERT(staged_ >= 0, staged_);  // train() comes after stage()
  DeviceBatch& b = batches_[staged_];
  staged_ = -1;
  const int n = b.n;
  cuda::check(cudaStreamWaitEvent(nullptr, b.uploaded.get(), 0), "wait for the batch");
  const float* out = forward(b);
  loss(b, out, dOut_.reserve(static_cast<size_t>(n * layers_.back().outPerSample)));
  const float* dy = dOut_.data.get();
  Scratch* buffers[2] = {&gradA_, &gradB_};
  for (size_t i = layers_.size(); i-- > firstTrainable_;) {
    DeviceLayer& d = layers_[i];
    const float* x = i ? acts_[i - 1].data.get() : b.x.data.get();
    float* dx = i > firstTrainable_
                    ? buffers[i % 2]->reserve(static_cast<size_t>(n * d.inPerSample))
                    : nullptr;
    d.op->backward(*blas_, n, x, acts_[i].data.get(), dy, dx);
    if (overlap) announceFinal(*overlap, d.firstParam, d.firstParam + d.paramCount);
    dy = dx;
  }
  cuda::check(cudaEventRecord(b.consumed.get()), "cudaEventRecord");
}

LossSums GpuBackend::trainedLoss() {
  cuda::check(cudaEventSynchronize(lossReady_.get()), "wait for the loss");
  return {hostSums_[0], static_cast<int64_t>(hostSums_[1])};
}

LossSums GpuBackend::evaluate(const Tensor& x, const Tensor& targets) {
  DeviceBatch& b = batches_[2];
  upload(b, x, targets, BatchDraws{}, nullptr);
  loss(b, forward(b), nullptr);
  cuda::check(cudaEventRecord(b.consumed.get()), "cudaEventRecord");
  return trainedLoss();
}

std::span<float> GpuBackend::gradients(Memory where) {
  summedIn_ = where;
  if (where == Memory::device) return {grads_.get(), size_};
  cuda::check(
      cudaMemcpy(hostGrads_.get(), grads_.get(), size_ * sizeof(float), cudaMemcpyDeviceToHost),
      "copy the gradients to the host");
  return {hostGrads_.get(), size_};
}

double GpuBackend::gradientSumOfSquares() {
  if (summedIn_ == Memory::device) {
    if (!squarePartials_) squarePartials_ = cuda::deviceArray<double>(cuda::kSumOfSquaresPartials);
    return cuda::sumOfSquares(grads_.get(), static_cast<long>(size_), squarePartials_.get());
  }
  double sum = 0;
  for (size_t i = 0; i < size_; ++i) sum += static_cast<double>(hostGrads_[i]) * hostGrads_[i];
  return sum;
}

void GpuBackend::update(float scale, uint64_t step, double rateFactor) {
  if (summedIn_ == Memory::host) {  // summed in host memory: bring them back
    float* g = hostGrads_.get();
    for (size_t i = 0; i < size_; ++i) g[i] *= scale;
    cuda::check(cudaMemcpy(grads_.get(), g, size_ * sizeof(float), cudaMemcpyHostToDevice),
                "copy the summed gradients to the device");
  } else {
    cuda::scaleFloats(grads_.get(), static_cast<long>(size_), scale);
  }
  auto o = job_.getOptimizer();
  if (o.isSgd()) {
    const SgdConfig s = sgdConfig(o.getSgd());
    cuda::sgdUpdate(values_.get(), grads_.get(), slots_.empty() ? nullptr : slots_[0].get(),
                    static_cast<long>(size_), static_cast<float>(s.learningRate * rateFactor),
                    static_cast<float>(s.momentum), static_cast<float>(s.weightDecay), s.nesterov);
  } else {
    const AdamConfig a = adamConfig(o);
    cuda::adamUpdate(values_.get(), grads_.get(), slots_[0].get(), slots_[1].get(),
                     static_cast<long>(size_), a.learningRate * rateFactor, a.beta1, a.beta2,
                     a.epsilon, a.weightDecay, step);
  }
}

void GpuBackend::read(int slot, float* host) const {
  cuda::check(cudaMemcpy(host, slotPointer(slot), size_ * sizeof(float), cudaMemcpyDeviceToHost),
              "copy parameters to the host");
}

void GpuBackend::write(int slot, const float* host) {
  cuda::check(cudaMemcpy(slotPointer(slot), host, size_ * sizeof(float), cudaMemcpyHostToDevice),
              "copy parameters to the device");
}

}  // namespace

int cudaDevices() { return cuda::deviceCount(); }

DeviceReport probeGpu(int device) {
  // What never changes (name, total memory, PCI bus id) is read once per device; a GPU worker
  // probes on every heartbeat, and then only NVML is asked.
  struct Fixed {
    DeviceReport report;
    char pciBusId[32] = {0};
  };
  static std::mutex lock;
  static std::map<int, Fixed> known;
  Fixed fixed;
  {
    std::lock_guard<std::mutex> hold(lock);
    auto it = known.find(device);
    if (it == known.end()) {
      requireDevice(device);
      cudaDeviceProp properties{};
      cuda::check(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties");
      Fixed f;
      f.report = {properties.name, properties.totalGlobalMem, 0, -1};
      cudaDeviceGetPCIBusId(f.pciBusId, sizeof f.pciBusId, device);
      it = known.emplace(device, f).first;
    }
    fixed = it->second;
  }
  if (fixed.pciBusId[0]) Nvml::get().read(fixed.pciBusId, fixed.report);
  return fixed.report;
}

std::unique_ptr<Backend> makeGpuBackend(proto::Job::Reader job, const Shape& input, int device) {
  try {
    return std::make_unique<GpuBackend>(job, input, device);
  } catch (const JobError&) {
    throw;
  } catch (const std::exception& e) {
    throw JobError(std::string("gpu:") + std::to_string(device) + ": " + e.what());
  }
}

}  // namespace tfmath
