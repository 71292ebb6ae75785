// data_check.cc: the checks of a job against its data: the model's shapes and the loss.
#include "jobs/data_check.h"

#include "jobs/job_check.h"
#include "jobs/job_error.h"
#include "ops/conv2d.h"
#include "ops/problems.h"

namespace tfmath {

namespace {

std::string layerField(uint32_t i, const char* kind) {
  return "model[" + std::to_string(i) + "]." + kind;
}

}  // namespace

std::vector<std::string> checkModelAgainstData(proto::Job::Reader job, const Data& data) {
  Problems p;
  Shape shape = data.train.sampleShape();
  auto layers = job.getModel();
  for (uint32_t i = 0; i < layers.size() && p.list.empty(); ++i) {
    auto l = layers[i];
    const std::string got = "gets " + shapeString(shape) + " per sample";
    switch (l.which()) {
      case proto::Layer::DENSE: {
        const auto f = layerField(i, "dense");
        p.check(l.getDense().getUnits() > 0, f + ".units", "must be > 0");
        p.check(shape.size() == 1, f,
                "needs a 1-D input per sample but " + got + "; put (flatten = void) before it");
        shape = {l.getDense().getUnits()};
        break;
      }
      case proto::Layer::CONV2D: {
        const auto f = layerField(i, "conv2d");
        auto c = l.getConv2d();
        p.check(c.getFilters() > 0, f + ".filters", "must be > 0");
        p.check(c.getKernelSize() > 0, f + ".kernelSize", "must be > 0");
        p.check(c.getStride() > 0, f + ".stride", "must be > 0");
        p.check(shape.size() == 3, f, "needs an H×W×C input per sample but " + got);
        if (!p.list.empty()) break;
        const bool same = c.getPadding() == proto::Padding::SAME;
        const int64_t k = c.getKernelSize();
        p.check(same || (k <= shape[0] && k <= shape[1]), f + ".kernelSize",
                "kernel " + std::to_string(k) + " is larger than its " + std::to_string(shape[0]) +
                    "×" + std::to_string(shape[1]) + " input (valid padding)");
        shape = {convAxis(shape[0], k, c.getStride(), same).out,
                 convAxis(shape[1], k, c.getStride(), same).out, c.getFilters()};
        break;
      }
      case proto::Layer::MAX_POOL2D: {
        const auto f = layerField(i, "maxPool2d");
        auto m = l.getMaxPool2d();
        const int64_t k = m.getPoolSize(), s = m.getStride() ? m.getStride() : k;
        p.check(k > 0, f + ".poolSize", "must be > 0");
        p.check(shape.size() == 3, f, "needs an H×W×C input per sample but " + got);
        if (!p.list.empty()) break;
        p.check(k <= shape[0] && k <= shape[1], f + ".poolSize",
                "window " + std::to_string(k) + " pools its " + std::to_string(shape[0]) + "×" +
                    std::to_string(shape[1]) + " input to nothing");
        shape = {(shape[0] - k) / s + 1, (shape[1] - k) / s + 1, shape[2]};
        break;
      }
      case proto::Layer::FLATTEN:
        shape = {numel(shape)};
        break;
      case proto::Layer::ACTIVATION:
        break;
    }
  }
  if (!p.list.empty()) return p.list;

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

Data validateJob(proto::Job::Reader job) {
  auto fail = [](const std::vector<std::string>& problems) {
    std::string message;
    for (const auto& m : problems) message += (message.empty() ? "" : "\n") + m;
    throw JobError(message);
  };
  if (auto problems = checkJobFields(job); !problems.empty()) fail(problems);
  Data data = loadData(job.getData(), job.getSeed());
  if (auto problems = checkModelAgainstData(job, data); !problems.empty()) fail(problems);
  return data;
}

}  // namespace tfmath
