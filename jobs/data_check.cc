// data_check.cc: the checks of a job against its data: the model's shapes, the schedule's length
// and the loss.
#include "jobs/data_check.h"

#include "jobs/job_check.h"
#include "jobs/job_error.h"
#include "ops/problems.h"
#include "ops/registry.h"

namespace tfmath {

std::vector<std::string> checkModelAgainstData(proto::Job::Reader job, const Data& data) {
  Problems p;
  Shape shape = data.train.sampleShape();
  auto layers = job.getModel();
  size_t ops = 0;
  for (uint32_t i = 0; i < layers.size() && p.empty(); ++i) {
    const std::string field = layerField(i, layers[i]);
    for (const LayerOp* op : opsOf(layers[i])) {
      shape = op->outputShape({layers[i], shape}, field, p);
      ++ops;
      if (!p.empty()) break;
    }
  }
  p.check(ops > 0 || !p.empty(), "model", "has only identities (activation = none); add a layer");
  if (!p.list.empty()) return p.list;

  if (job.getSchedule().isCosineDecay()) {
    const uint64_t batch = job.getBatchSize(), samples = static_cast<uint64_t>(data.train.size());
    const uint64_t total = (samples + batch - 1) / batch * job.getEpochs();
    const uint32_t warmup = job.getSchedule().getCosineDecay().getWarmupSteps();
    p.check(warmup <= total, "schedule.cosineDecay.warmupSteps",
            std::to_string(warmup) + " is longer than the run's " + std::to_string(total) +
                " updates (epochs × ⌈samples / batchSize⌉)");
  }

  const std::string last =
      layers.size() ? "model[" + std::to_string(layers.size() - 1) + "]" : "model";
  if (job.getLoss() == proto::Loss::MSE) {
    p.check(
        !data.labels, "loss",
        "mse needs continuous targets, but the data holds class labels; use softmaxCrossEntropy");
    const int64_t width = data.train.targets.dim(1);
    p.check(numel(shape) == width, last,
            "gives " + shapeString(shape) + " per sample but the target has " +
                std::to_string(width) + " value(s)");
  } else {
    p.check(data.integralTargets, "loss",
            "softmaxCrossEntropy needs class labels (whole numbers >= 0), but the target is "
            "continuous; "
            "use mse");
    if (!p.list.empty()) return p.list;
    p.check(shape.size() == 1 && shape[0] >= data.classes, last,
            "gives " + shapeString(shape) + " per sample but the labels go up to " +
                std::to_string(data.classes - 1) + ", so it needs at least " +
                std::to_string(data.classes) + " outputs");
  }
  return p.list;
}

namespace {

void fail(const std::vector<std::string>& problems) {
  std::string message;
  for (const auto& m : problems) message += (message.empty() ? "" : "\n") + m;
  throw JobError(message);
}

}  // namespace

Data validateJob(proto::Job::Reader job, const DataAccess& access) {
  if (auto problems = checkJobFields(job); !problems.empty()) fail(problems);
  Data data = loadData(job.getData(), job.getSeed(), access);
  if (auto problems = checkModelAgainstData(job, data); !problems.empty()) fail(problems);
  return data;
}

void validateJobWithData(proto::Job::Reader job, const Data& data) {
  if (auto problems = checkJobFields(job); !problems.empty()) fail(problems);
  if (auto problems = checkModelAgainstData(job, data); !problems.empty()) fail(problems);
}

}  // namespace tfmath
