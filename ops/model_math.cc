// model_math.cc: the model's math with the job's shapes and hyperparameters put in.
#include "ops/model_math.h"

#include <capnp/dynamic.h>
#include <capnp/schema.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

#include "base/assert.h"
#include "ops/model.h"
#include "ops/optimizer.h"
#include "ops/registry.h"
#include "ops/schedule.h"

namespace tfmath {

namespace {

// The symbols of each optimizer's update rule (optimizer.cc) and the fields of its job settings
// that give their values.
const std::map<std::string, std::vector<std::pair<std::string, std::string>>>& hyperparameters() {
  static const std::map<std::string, std::vector<std::pair<std::string, std::string>>> table{
      {"sgd", {{"\\eta", "learningRate"}, {"\\mu", "momentum"}, {"\\lambda", "weightDecay"}}},
      {"adam",
       {{"\\eta", "learningRate"},
        {"\\beta_1", "beta1"},
        {"\\beta_2", "beta2"},
        {"\\epsilon", "epsilon"}}},
      {"adamW",
       {{"\\eta", "learningRate"},
        {"\\beta_1", "beta1"},
        {"\\beta_2", "beta2"},
        {"\\epsilon", "epsilon"},
        {"\\lambda", "weightDecay"}}}};
  return table;
}

// `rule` with every `symbol` that is not the start of a longer command replaced by `value`.
std::string substitute(std::string rule, const std::string& symbol, const std::string& value) {
  for (size_t at = rule.find(symbol); at != std::string::npos; at = rule.find(symbol, at)) {
    const size_t end = at + symbol.size();
    if (end < rule.size() && std::isalpha(static_cast<unsigned char>(rule[end]))) {
      at = end;
      continue;
    }
    // Braces keep a value with a power of ten whole under the rule's own power (\beta_1^t).
    const std::string put = end < rule.size() && rule[end] == '^' ? "{" + value + "}" : value;
    rule.replace(at, symbol.size(), put);
    at += put.size();
  }
  return rule;
}

// The schema's name of an enumerant, e.g. "softmaxCrossEntropy".
template <typename S>
std::string enumName(S value) {
  const auto all = capnp::Schema::from<S>().getEnumerants();
  const auto i = static_cast<uint16_t>(value);
  return i < all.size() ? all[i].getProto().getName().cStr() : "";
}

std::string initRule(const Model::InitRule& rule, const std::string& symbol) {
  const std::string in = std::to_string(rule.fanIn), out = std::to_string(rule.fanOut);
  switch (rule.kind) {
    case Model::InitRule::zeros:
      return symbol + " = 0";
    case Model::InitRule::heNormal:
      return symbol + R"(\sim\mathcal{N}(0,\sigma^2),\ \sigma=\sqrt{2/)" + in +
             "}=" + latexNumber(rule.spread);
    case Model::InitRule::glorotUniform:
      return symbol + R"(\sim\mathcal{U}(-a,a),\ a=\sqrt{6/()" + in + "+" + out +
             ")}=" + latexNumber(rule.spread);
  }
  return "";
}

}  // namespace

std::string latexSpace(const Shape& shape, int64_t batch) {
  std::string dims = batch ? std::to_string(batch) : "";
  for (int64_t d : shape) dims.append(dims.empty() ? "" : "\\times ").append(std::to_string(d));
  return "\\mathbb{R}^{" + dims + "}";
}

std::string latexNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  std::string s = text;
  const size_t e = s.find('e');
  if (e == std::string::npos) return s;
  const std::string mantissa = s.substr(0, e);
  const int exponent = std::stoi(s.substr(e + 1));
  const std::string power = "10^{" + std::to_string(exponent) + "}";
  return mantissa == "1" ? power : mantissa + "\\cdot " + power;
}

ModelMath modelMath(proto::Job::Reader job, const Shape& sampleShape, int64_t trainingSamples) {
  ModelMath out;
  out.batch = job.getBatchSize();
  const Model model(job.getModel(), sampleShape);
  for (size_t i = 0; i < model.layers().size(); ++i) {
    OpMathWithShapes op;
    op.math = &model.op(i).math;
    const uint32_t jobLayer = model.jobLayer(i);
    op.field = layerField(jobLayer, job.getModel()[jobLayer]);
    op.input = model.inputShape(i);
    op.output = model.layers()[i]->outputShape();
    const auto [first, end] = model.paramsOf(i);
    // An op's gradient rules name its parameters first, in the order it lays them out.
    TFMATH_ASSERT(op.math->gradients.size() >= end - first, op.math->name);
    std::string given = "X\\in" + latexSpace(op.input, out.batch);
    if (model.op(i).settings) given += ",\\; " + model.op(i).settings(job.getModel()[jobLayer]);
    for (size_t p = first; p < end; ++p) {
      const Param& param = model.params()[p];
      const std::string symbol = op.math->gradients[p - first].first;
      op.params.push_back({symbol, param.name, param.shape, initRule(model.initRule(p), symbol)});
      op.parameters += param.size();
      given += ",\\; " + symbol + "\\in" + latexSpace(param.shape);
    }
    out.parameters += op.parameters;
    op.rule =
        op.math->kind == "activation"
            ? op.math->forward + "\\ \\text{element-wise on}\\ " + latexSpace(op.output, out.batch)
            : given + ":\\quad " + op.math->forward + ",\\quad Y\\in" +
                  latexSpace(op.output, out.batch);
    out.ops.push_back(std::move(op));
  }
  out.loss = findOp(enumName(job.getLoss()));
  TFMATH_ASSERT(out.loss, static_cast<int>(job.getLoss()));
  const auto optimizer = capnp::toDynamic(job.getOptimizer());
  KJ_IF_MAYBE (chosen, optimizer.which()) {
    const std::string name = chosen->getProto().getName().cStr();
    out.optimizer = findOp(name);
    TFMATH_ASSERT(out.optimizer, name);
    out.optimizerRule = out.optimizer->forward;
    const auto settings = optimizer.get(*chosen).as<capnp::DynamicStruct>();
    for (const auto& [symbol, field] : hyperparameters().at(name))
      out.optimizerRule =
          substitute(out.optimizerRule, symbol, latexNumber(settings.get(field).as<double>()));
  }
  TFMATH_ASSERT(out.optimizer, "a validated job names an optimizer");

  const uint64_t batch = job.getBatchSize(), samples = static_cast<uint64_t>(trainingSamples);
  const uint64_t total = (samples + batch - 1) / batch * job.getEpochs();
  auto schedule = job.getSchedule();
  const std::string run = "T = " + std::to_string(total);
  if (schedule.isStepDecay()) {
    out.schedule = &stepDecayMath();
    out.scheduleSettings = "\\gamma = " + latexNumber(schedule.getStepDecay().getFactor()) +
                           ",\\ k = " + std::to_string(schedule.getStepDecay().getEvery()) +
                           ",\\ " + run;
  } else if (schedule.isCosineDecay()) {
    out.schedule = &cosineDecayMath();
    out.scheduleSettings =
        "w = " + std::to_string(schedule.getCosineDecay().getWarmupSteps()) +
        ",\\ \\varphi = " + latexNumber(schedule.getCosineDecay().getFinalFraction()) + ",\\ " +
        run;
  } else {
    out.schedule = &constantScheduleMath();
    out.scheduleSettings = run;
  }
  if (job.getClipGlobalNorm() > 0) {
    out.clip = &clipGlobalNormMath();
    out.clipSettings = "c = " + latexNumber(job.getClipGlobalNorm());
  }
  return out;
}

}  // namespace tfmath
