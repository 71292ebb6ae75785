// job_check.cc: the checks of a job's fields that need no data.
#include "jobs/job_check.h"

#include <cmath>

#include "base/printable.h"
#include "ops/optimizer.h"
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

std::string_view view(capnp::Text::Reader text) { return {text.begin(), text.size()}; }

// Free text that a user controls is shown on other users' terminals: printable UTF-8, bounded.
void checkText(Problems& p, std::string_view text, size_t limit, const std::string& field) {
  if (p.check(text.size() <= limit, field,
              "must be at most " + std::to_string(limit) + " bytes, not " +
                  std::to_string(text.size())))
    p.check(isPrintableUtf8(text), field, "must be printable UTF-8 without control characters");
}

void checkSchedule(Problems& p, proto::Schedule::Reader schedule) {
  if (schedule.isStepDecay()) {
    auto s = schedule.getStepDecay();
    p.check(s.getEvery() > 0, "schedule.stepDecay.every", "must be > 0");
    p.check(std::isfinite(s.getFactor()) && s.getFactor() > 0 && s.getFactor() <= 1,
            "schedule.stepDecay.factor", "must be in (0, 1], not " + std::to_string(s.getFactor()));
  } else if (schedule.isCosineDecay()) {
    const double f = schedule.getCosineDecay().getFinalFraction();
    p.check(std::isfinite(f) && f >= 0 && f <= 1, "schedule.cosineDecay.finalFraction",
            "must be in [0, 1], not " + std::to_string(f));
  } else {
    p.check(schedule.isConstant(), "schedule", "a schedule this tfmath does not know");
  }
}

constexpr size_t kNameBytes = 256, kPathBytes = 4096;

void checkTexts(Problems& p, proto::Job::Reader job) {
  checkText(p, view(job.getName()), kNameBytes, "name");
  for (const auto& [field, path] : dataPaths(job.getData())) checkText(p, path, kPathBytes, field);
  if (job.getData().isCsv())
    checkText(p, view(job.getData().getCsv().getTarget()), kNameBytes, "data.csv.target");
}

}  // namespace

std::vector<std::string> checkJobFields(proto::Job::Reader job) {
  Problems p;
  checkTexts(p, job);
  p.check(job.getBatchSize() > 0, "batchSize", "must be > 0");
  p.check(job.getEpochs() > 0, "epochs", "must be > 0");
  p.check(job.getWorkers() > 0, "workers", "must be > 0");
  p.check(job.getMinWorkers() > 0 && job.getMinWorkers() <= job.getWorkers(), "minWorkers",
          "must be in [1, workers = " + std::to_string(job.getWorkers()) + "], not " +
              std::to_string(job.getMinWorkers()));
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
  } else if (opt.isAdam() || opt.isAdamW()) {
    const std::string field = opt.isAdam() ? "optimizer.adam" : "optimizer.adamW";
    const AdamConfig a = adamConfig(opt);
    checkRate(p, a.learningRate, field + ".learningRate");
    checkUnit(p, a.beta1, field + ".beta1");
    checkUnit(p, a.beta2, field + ".beta2");
    checkRate(p, a.epsilon, field + ".epsilon");
    if (opt.isAdamW())
      p.check(std::isfinite(a.weightDecay) && a.weightDecay >= 0, field + ".weightDecay",
              "must be a finite number >= 0, not " + std::to_string(a.weightDecay));
  } else {
    p.check(false, "optimizer", "an optimizer this tfmath does not know");
  }
  checkSchedule(p, job.getSchedule());
  p.check(std::isfinite(job.getClipGlobalNorm()) && job.getClipGlobalNorm() >= 0, "clipGlobalNorm",
          "must be a finite number >= 0 (0: no clipping), not " +
              std::to_string(job.getClipGlobalNorm()));
  return p.list;
}

std::vector<DataPath> dataPaths(proto::DataSource::Reader data) {
  std::vector<DataPath> paths;
  auto add = [&](const char* field, capnp::Text::Reader path) {
    if (path.size()) paths.push_back({field, std::string(path.begin(), path.size())});
  };
  if (data.isIdx()) {
    auto idx = data.getIdx();
    add("data.idx.trainImages", idx.getTrainImages());
    add("data.idx.trainLabels", idx.getTrainLabels());
    add("data.idx.testImages", idx.getTestImages());
    add("data.idx.testLabels", idx.getTestLabels());
  } else if (data.isCsv()) {
    auto csv = data.getCsv();
    add("data.csv.train", csv.getTrain());
    add("data.csv.test", csv.getTest());
  }
  return paths;
}

std::vector<std::string> checkDataPaths(proto::Job::Reader job, const DataAccess& access) {
  std::vector<std::string> problems;
  for (const auto& [field, path] : dataPaths(job.getData()))
    if (std::string problem = access.check(path, field); !problem.empty())
      problems.push_back(problem);
  return problems;
}

}  // namespace tfmath
