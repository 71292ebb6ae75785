// gpu_backend.cc: the GPU backend (built with CUDA only): the model's layers run as kernels/ on one
// device, with the parameters, gradients, optimizer slots and activations in device memory. The
// CPU model is built first for the layer list, the parameter names and the initial values, so
// both devices start from the same bits and write the same checkpoints. Batches go up through a
// pinned host buffer; the summed gradients come down to a pinned buffer for the communicator
// (Gloo) and go back up for the update.
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <cstring>
#include <map>
#include <mutex>

#include "activation.cuh"
#include "activation.h"
#include "conv2d.cuh"
#include "conv2d.h"
#include "cpu_backend.h"
#include "dense.cuh"
#include "dense.h"
#include "flatten.h"
#include "job_error.h"
#include "loss.cuh"
#include "optimizer.cuh"
#include "pool.cuh"
#include "pool.h"

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

// A device buffer that keeps its allocation while the batch shrinks.
struct Scratch {
  cuda::DeviceArray<float> data;
  size_t capacity = 0;
  float* reserve(size_t count) {
    if (count > capacity) {
      data = cuda::deviceArray<float>(count);
      capacity = count;
    }
    return data.get();
  }
};

// One layer of the model on the GPU: the CPU layer's shape, its parameters' offsets, and scratch.
struct GpuLayer {
  enum class Kind { dense, conv2d, maxPool2d, activation, flatten } kind;
  int64_t inPerSample = 0, outPerSample = 0;
  size_t weight = 0, bias = 0;    // offsets into the flat buffers
  int64_t inputs = 0, units = 0;  // dense
  cuda::ConvShape conv{};         // conv2d (n set per batch)
  cuda::PoolShape pool{};         // maxPool2d (n set per batch)
  cuda::Activation activation = cuda::Activation::relu;
  Scratch col, dcol;              // conv2d
  cuda::DeviceArray<int> argmax;  // maxPool2d
  size_t argmaxCapacity = 0;
};

class GpuBackend final : public Backend {
 public:
  GpuBackend(proto::Job::Reader job, const Shape& input, int device);
  std::string device() const override { return device_; }
  void zeroGradients() override {
    cuda::check(cudaMemset(grads_.get(), 0, size_ * sizeof(float)), "zero the gradients");
  }
  LossSums train(const Tensor& x, const Tensor& targets) override;
  LossSums evaluate(const Tensor& x, const Tensor& targets) override;
  std::span<float> gradients() override;
  std::span<float> deviceGradients() override;
  void update(float scale, uint64_t step) override;
  std::vector<std::string> slotNames() const override { return slotNames_; }
  void read(int slot, float* host) const override;
  void write(int slot, const float* host) override;

 private:
  // Uploads x and the targets; runs every layer. Returns the output (device memory).
  const float* forward(const Tensor& x, const Tensor& targets);
  LossSums loss(const float* out, float* grad);
  float* slotPointer(int slot) const { return slot < 0 ? values_.get() : slots_.at(slot).get(); }

  std::string device_;
  proto::Job::Reader job_;
  std::unique_ptr<cuda::Blas> blas_;  // made once the device is chosen
  std::vector<GpuLayer> layers_;
  size_t firstTrainable_ = 0;
  cuda::DeviceArray<float> values_, grads_;
  std::vector<cuda::DeviceArray<float>> slots_;
  std::vector<std::string> slotNames_;
  PinnedArray hostGrads_;
  bool hostGradients_ = true;  // which copy the communicator summed
  PinnedArray hostBatch_;
  size_t hostBatchCapacity_ = 0;
  Scratch input_, targets_, dOut_, gradA_, gradB_;
  std::vector<Scratch> acts_;
  int n_ = 0;  // samples in the last forward
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

  const Model& model = cpu.model();
  firstTrainable_ = model.firstTrainable();
  Shape shape = input;
  size_t param = 0;
  for (const auto& layer : model.layers()) {
    GpuLayer g;
    g.inPerSample = numel(shape);
    g.outPerSample = numel(layer->outputShape());
    if (auto* d = dynamic_cast<const Dense*>(layer.get())) {
      g.kind = GpuLayer::Kind::dense;
      g.inputs = d->inputs();
      g.units = d->units();
    } else if (auto* c = dynamic_cast<const Conv2d*>(layer.get())) {
      g.kind = GpuLayer::Kind::conv2d;
      const Shape in = c->input();
      g.conv = {0,
                static_cast<int>(in[0]),
                static_cast<int>(in[1]),
                static_cast<int>(in[2]),
                static_cast<int>(c->filters()),
                static_cast<int>(c->kernel()),
                static_cast<int>(c->stride()),
                static_cast<int>(c->rows().out),
                static_cast<int>(c->cols().out),
                static_cast<int>(c->rows().padBefore),
                static_cast<int>(c->cols().padBefore)};
    } else if (auto* p = dynamic_cast<const MaxPool2d*>(layer.get())) {
      g.kind = GpuLayer::Kind::maxPool2d;
      const Shape in = p->input();
      g.pool = {0,
                static_cast<int>(in[0]),
                static_cast<int>(in[1]),
                static_cast<int>(in[2]),
                static_cast<int>(p->pool()),
                static_cast<int>(p->stride())};
    } else if (auto* a = dynamic_cast<const Activation*>(layer.get())) {
      g.kind = GpuLayer::Kind::activation;
      g.activation = a->kind() == ActivationKind::kRelu      ? cuda::Activation::relu
                     : a->kind() == ActivationKind::kSigmoid ? cuda::Activation::sigmoid
                                                             : cuda::Activation::tanh;
    } else if (dynamic_cast<const Flatten*>(layer.get())) {
      g.kind = GpuLayer::Kind::flatten;
    } else {
      throw JobError(std::string("the GPU has no kernel for op ") + layer->op());
    }
    if (!layer->paramSpecs().empty()) {
      g.weight = params_.at(param++).offset;
      g.bias = params_.at(param++).offset;
    }
    shape = layer->outputShape();
    layers_.push_back(std::move(g));
  }
  acts_.resize(layers_.size());
}

const float* GpuBackend::forward(const Tensor& x, const Tensor& targets) {
  n_ = static_cast<int>(x.dim(0));
  // Up through pinned memory, asynchronously; the kernels that follow on the same stream wait.
  const size_t count = static_cast<size_t>(x.size() + targets.size());
  if (count > hostBatchCapacity_) {
    hostBatch_ = pinned(count);
    hostBatchCapacity_ = count;
  }
  std::memcpy(hostBatch_.get(), x.data(), x.size() * sizeof(float));
  std::memcpy(hostBatch_.get() + x.size(), targets.data(), targets.size() * sizeof(float));
  float* in = input_.reserve(x.size());
  float* t = targets_.reserve(targets.size());
  cuda::check(
      cudaMemcpyAsync(in, hostBatch_.get(), x.size() * sizeof(float), cudaMemcpyHostToDevice),
      "copy the batch to the device");
  cuda::check(cudaMemcpyAsync(t, hostBatch_.get() + x.size(), targets.size() * sizeof(float),
                              cudaMemcpyHostToDevice),
              "copy the targets to the device");
  const float* from = in;
  for (size_t i = 0; i < layers_.size(); ++i) {
    GpuLayer& g = layers_[i];
    float* y = acts_[i].reserve(static_cast<size_t>(n_ * g.outPerSample));
    switch (g.kind) {
      case GpuLayer::Kind::dense:
        cuda::denseForward(*blas_, from, values_.get() + g.weight, values_.get() + g.bias, y, n_,
                           static_cast<int>(g.inputs), static_cast<int>(g.units));
        break;
      case GpuLayer::Kind::conv2d:
        g.conv.n = n_;
        cuda::conv2dForward(*blas_, g.conv, from, values_.get() + g.weight, values_.get() + g.bias,
                            g.col.reserve(g.conv.patchRows() * g.conv.patchLength()), y);
        break;
      case GpuLayer::Kind::maxPool2d: {
        g.pool.n = n_;
        const size_t outputs = static_cast<size_t>(n_ * g.outPerSample);
        if (outputs > g.argmaxCapacity) {
          g.argmax = cuda::deviceArray<int>(outputs);
          g.argmaxCapacity = outputs;
        }
        cuda::maxPoolForward(g.pool, from, y, g.argmax.get());
        break;
      }
      case GpuLayer::Kind::activation:
        cuda::activationForward(g.activation, from, y, n_ * g.outPerSample);
        break;
      case GpuLayer::Kind::flatten:
        cuda::copyFloats(from, y, n_ * g.outPerSample);
        break;
    }
    from = y;
  }
  return from;
}

LossSums GpuBackend::loss(const float* out, float* grad) {
  const int k = static_cast<int>(layers_.back().outPerSample);
  const cuda::LossSums s = job_.getLoss() == proto::Loss::MSE
                               ? cuda::mse(out, targets_.data.get(), grad, n_, k)
                               : cuda::softmaxCrossEntropy(out, targets_.data.get(), grad, n_, k);
  return {s.loss, static_cast<int64_t>(s.correct)};
}

LossSums GpuBackend::train(const Tensor& x, const Tensor& targets) {
  const float* out = forward(x, targets);
  const LossSums sums =
      loss(out, dOut_.reserve(static_cast<size_t>(n_ * layers_.back().outPerSample)));
  const float* dy = dOut_.data.get();
  Scratch* buffers[2] = {&gradA_, &gradB_};
  for (size_t i = layers_.size(); i-- > firstTrainable_;) {
    GpuLayer& g = layers_[i];
    const float* x = i ? acts_[i - 1].data.get() : input_.data.get();
    const float* y = acts_[i].data.get();
    float* dx = i > firstTrainable_
                    ? buffers[i % 2]->reserve(static_cast<size_t>(n_ * g.inPerSample))
                    : nullptr;
    switch (g.kind) {
      case GpuLayer::Kind::dense:
        cuda::denseBackward(*blas_, x, values_.get() + g.weight, dy, grads_.get() + g.weight,
                            grads_.get() + g.bias, dx, n_, static_cast<int>(g.inputs),
                            static_cast<int>(g.units));
        break;
      case GpuLayer::Kind::conv2d:
        cuda::conv2dBackward(
            *blas_, g.conv, g.col.data.get(), values_.get() + g.weight, dy, grads_.get() + g.weight,
            grads_.get() + g.bias,
            dx ? g.dcol.reserve(g.conv.patchRows() * g.conv.patchLength()) : nullptr, dx);
        break;
      case GpuLayer::Kind::maxPool2d:
        if (dx) cuda::maxPoolBackward(g.pool, g.argmax.get(), dy, dx);
        break;
      case GpuLayer::Kind::activation:
        if (dx) cuda::activationBackward(g.activation, y, dy, dx, n_ * g.outPerSample);
        break;
      case GpuLayer::Kind::flatten:
        if (dx) cuda::copyFloats(dy, dx, n_ * g.outPerSample);
        break;
    }
    dy = dx;
  }
  return sums;
}

LossSums GpuBackend::evaluate(const Tensor& x, const Tensor& targets) {
  return loss(forward(x, targets), nullptr);
}

std::span<float> GpuBackend::deviceGradients() {
  hostGradients_ = false;
  return {grads_.get(), size_};
}

std::span<float> GpuBackend::gradients() {
  hostGradients_ = true;
  cuda::check(
      cudaMemcpy(hostGrads_.get(), grads_.get(), size_ * sizeof(float), cudaMemcpyDeviceToHost),
      "copy the gradients to the host");
  return {hostGrads_.get(), size_};
}

void GpuBackend::update(float scale, uint64_t step) {
  if (hostGradients_) {  // summed in host memory: bring them back
    float* g = hostGrads_.get();
    for (size_t i = 0; i < size_; ++i) g[i] *= scale;
    cuda::check(cudaMemcpy(grads_.get(), g, size_ * sizeof(float), cudaMemcpyHostToDevice),
                "copy the summed gradients to the device");
  } else {
    cuda::scaleFloats(grads_.get(), static_cast<long>(size_), scale);
  }
  auto o = job_.getOptimizer();
  if (o.isSgd()) {
    auto s = o.getSgd();
    cuda::sgdUpdate(values_.get(), grads_.get(), slots_.empty() ? nullptr : slots_[0].get(),
                    static_cast<long>(size_), static_cast<float>(s.getLearningRate()),
                    static_cast<float>(s.getMomentum()), static_cast<float>(s.getWeightDecay()),
                    s.getNesterov());
  } else {
    auto a = o.getAdam();
    cuda::adamUpdate(values_.get(), grads_.get(), slots_[0].get(), slots_[1].get(),
                     static_cast<long>(size_), a.getLearningRate(), a.getBeta1(), a.getBeta2(),
                     a.getEpsilon(), step);
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
