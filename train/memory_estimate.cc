// memory_estimate.cc: a job's memory on one worker, from its model's shapes.
#include "train/memory_estimate.h"

#include <cstdio>

#include "ops/registry.h"

namespace tfmath {

namespace {

constexpr double kFloat = 4;

double datasetBytes(const Dataset& d) {
  return kFloat * (static_cast<double>(d.inputs.size()) + static_cast<double>(d.targets.size()));
}

}  // namespace

std::string byteSize(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (bytes >= 1024 && u < 5) bytes /= 1024, ++u;
  char text[48];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return text;
}

std::string MemoryEstimate::describe() const {
  return "about " + byteSize(total()) + " (data " + byteSize(data) + ", parameters " +
         byteSize(parameters) + ", gradients " + byteSize(gradients) + ", optimizer slots " +
         byteSize(optimizerSlots) + ", activations " + byteSize(activations) +
         " at a local batch of " + std::to_string(localBatch) + ")";
}

double generatedDataBytes(proto::Job::Reader job) {
  if (!job.getData().isLinear()) return 0;
  auto linear = job.getData().getLinear();
  return kFloat * static_cast<double>(linear.getSamples()) *
         (static_cast<double>(linear.getWeights().size()) + 1);
}

MemoryEstimate estimateMemory(proto::Job::Reader job, const Data& data, uint32_t worldSize) {
  MemoryEstimate e;
  e.data = datasetBytes(data.train) + (data.test ? datasetBytes(*data.test) : 0);
  const uint32_t world = worldSize ? worldSize : 1;
  e.localBatch = (job.getBatchSize() + world - 1) / world;
  double params = 0, outputs = static_cast<double>(numel(data.train.sampleShape()));
  Shape shape = data.train.sampleShape();
  auto layers = job.getModel();
  for (uint32_t i = 0; i < layers.size(); ++i)
    for (const LayerOp* op : opsOf(layers[i])) {
      // Building a CPU layer takes its shapes only; its parameters are allocated later.
      const auto layer = op->cpu({layers[i], shape});
      for (const auto& spec : layer->paramSpecs()) params += static_cast<double>(numel(spec.shape));
      shape = layer->outputShape();
      outputs += static_cast<double>(numel(shape));
    }
  e.parameters = kFloat * params;
  e.gradients = e.parameters;
  auto opt = job.getOptimizer();
  const int slots = !opt.isSgd() ? 2 : (opt.getSgd().getMomentum() > 0 ? 1 : 0);
  e.optimizerSlots = slots * e.parameters;
  // Each op's output and its gradient, for one local batch.
  e.activations = 2 * kFloat * outputs * e.localBatch;
  return e;
}

}  // namespace tfmath
