// job_check.cc: the checks of a job's fields that need no data.
#include "jobs/job_check.h"

#include <cmath>

#include "base/printable.h"
#include "ops/problems.h"
#include "ops/registry.h"

namespace tfmath {

namespace {

void checkRate(Problems& p, double rate, const std::string& field) {
  p.check(std::isfinite(rate) && rate > 0, field,
          "must be a finite number > 0, not " + std::to_string(rate));
}

void checkUnit(Problems& p, double v, const std::string& field) {
  p.check(std::isfinite(v) && v >= 0 && v < 1, field,
          "must be in [0, 1), not " + std::to_string(v));
}

// Free text that a user controls is shown on other users' terminals: printable UTF-8, bounded.
void checkText(Problems& p, capnp::Text::Reader text, size_t limit, const std::string& field) {
  if (p.check(text.size() <= limit, field,
              "must be at most " + std::to_string(limit) + " bytes, not " +
                  std::to_string(text.size())))
    p.check(isPrintableUtf8({text.begin(), text.size()}), field,
            "must be printable UTF-8 without control characters");
}

constexpr size_t kNameBytes = 256, kPathBytes = 4096;

void checkTexts(Problems& p, proto::Job::Reader job) {
  checkText(p, job.getName(), kNameBytes, "name");
  auto data = job.getData();
  if (data.isIdx()) {
    auto idx = data.getIdx();
    checkText(p, idx.getTrainImages(), kPathBytes, "data.idx.trainImages");
    checkText(p, idx.getTrainLabels(), kPathBytes, "data.idx.trainLabels");
    checkText(p, idx.getTestImages(), kPathBytes, "data.idx.testImages");
    checkText(p, idx.getTestLabels(), kPathBytes, "data.idx.testLabels");
  } else if (data.isCsv()) {
    auto csv = data.getCsv();
    checkText(p, csv.getTrain(), kPathBytes, "data.csv.train");
    checkText(p, csv.getTest(), kPathBytes, "data.csv.test");
    checkText(p, csv.getTarget(), kNameBytes, "data.csv.target");
  }
}

}  // namespace

std::vector<std::string> checkJobFields(proto::Job::Reader job) {
  Problems p;
  checkTexts(p, job);
  p.check(job.getBatchSize() > 0, "batchSize", "must be > 0");
  p.check(job.getEpochs() > 0, "epochs", "must be > 0");
  p.check(job.getWorkers() > 0, "workers", "must be > 0");
  p.check(job.getModel().size() > 0, "model", "must have at least one layer");
  for (uint32_t i = 0; i < job.getModel().size(); ++i) checkLayerFields(job.getModel()[i], i, p);
  auto opt = job.getOptimizer();
  if (opt.isSgd()) {
    auto s = opt.getSgd();
    checkRate(p, s.getLearningRate(), "optimizer.sgd.learningRate");
    checkUnit(p, s.getMomentum(), "optimizer.sgd.momentum");
    p.check(!s.getNesterov() || s.getMomentum() > 0, "optimizer.sgd.nesterov",
            "needs momentum > 0");
    p.check(std::isfinite(s.getWeightDecay()) && s.getWeightDecay() >= 0,
            "optimizer.sgd.weightDecay", "must be a finite number >= 0");
  } else {
    auto a = opt.getAdam();
    checkRate(p, a.getLearningRate(), "optimizer.adam.learningRate");
    checkUnit(p, a.getBeta1(), "optimizer.adam.beta1");
    checkUnit(p, a.getBeta2(), "optimizer.adam.beta2");
    checkRate(p, a.getEpsilon(), "optimizer.adam.epsilon");
  }
  return p.list;
}

}  // namespace tfmath
