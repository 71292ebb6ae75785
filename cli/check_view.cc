// check_view.cc: the text and JSON of a job's check.
#include "cli/check_view.h"

#include "cli/report.h"
#include "ops/model_math.h"
#include "train/memory_estimate.h"

namespace tfmath::cli {

namespace {

// 203530 → "203,530"
std::string grouped(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// `text` then spaces to `width` characters (UTF-8: "×" is one), on the left or right.
std::string padded(const std::string& text, size_t width, bool right = false) {
  size_t characters = 0;
  for (unsigned char c : text) characters += (c & 0xC0) != 0x80;
  const std::string fill(width > characters ? width - characters : 0, ' ');
  return right ? fill + text : text + fill;
}

}  // namespace

std::string checkText(proto::Job::Reader job, const Data& data) {
  const ModelMath m = modelMath(job, data.train.sampleShape(), data.train.size());
  std::string out = shown(job.getName()) + ": valid\n";
  out += "data: " + dataSourceName(job.getData()) + ", " + grouped(data.train.size()) +
         " training samples of " + dimsText(data.train.sampleShape()) +
         (data.test ? ", " + grouped(data.test->size()) + " test" : ", no test set") + "\n";
  out += "batch " + std::to_string(job.getBatchSize()) + " (global), epochs " +
         std::to_string(job.getEpochs()) + ", workers " + std::to_string(job.getWorkers()) +
         ", seed " + std::to_string(job.getSeed()) + "\n\n";
  out += padded("layer", 22) + " " + padded("op", 12) + " " + padded("output", 16) + " " +
         padded("parameters", 12, true) + "\n";
  std::string previous;
  for (const auto& op : m.ops) {
    out += padded(op.field == previous ? "" : op.field, 22) + " " + padded(op.math->name, 12) +
           " " + padded(dimsText(op.output), 16) + " " + padded(grouped(op.parameters), 12, true) +
           "\n";
    previous = op.field;
  }
  out += padded("total", 52) + " " + padded(grouped(m.parameters), 12, true) + "  (" +
         byteSize(static_cast<double>(m.parameters) * 4) + " as float32)\n";
  out += "\nforward rules, for a batch of " + std::to_string(m.batch) + " (LaTeX):\n";
  for (const auto& op : m.ops) {
    out += "  " + op.field + " " + op.math->name + ": " + op.rule + "\n";
    for (const auto& p : op.params) out += "      " + p.name + ": " + p.init + "\n";
  }
  out += "loss " + m.loss->name + ": " + m.loss->forward + "\n";
  out += "optimizer " + m.optimizer->name + ": " + m.optimizerRule + "\n";
  out += "learning rate: \\eta_t = \\eta\\, f(t),\\ " + m.schedule->name + ": " +
         m.schedule->forward + ",\\ " + m.scheduleSettings + "\n";
  if (m.clip)
    out += "clip " + m.clip->name + ": " + m.clip->forward + ",\\ " + m.clipSettings + "\n";
  return out;
}

nlohmann::json checkJson(proto::Job::Reader job, const Data& data) {
  const ModelMath m = modelMath(job, data.train.sampleShape(), data.train.size());
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& op : m.ops) {
    nlohmann::json params = nlohmann::json::array();
    for (const auto& p : op.params)
      params.push_back(
          {{"symbol", p.symbol}, {"name", p.name}, {"shape", p.shape}, {"init", p.init}});
    ops.push_back({{"layer", op.field},
                   {"op", op.math->name},
                   {"input", op.input},
                   {"output", op.output},
                   {"parameters", op.parameters},
                   {"params", params},
                   {"rule", op.rule}});
  }
  return {{"job", job.getName().cStr()},
          {"valid", true},
          {"data",
           {{"source", dataSourceName(job.getData())},
            {"train", data.train.size()},
            {"test", data.test ? data.test->size() : 0},
            {"sample_shape", data.train.sampleShape()}}},
          {"batch", m.batch},
          {"epochs", job.getEpochs()},
          {"workers", job.getWorkers()},
          {"seed", job.getSeed()},
          {"ops", ops},
          {"parameters", m.parameters},
          {"loss", {{"name", m.loss->name}, {"rule", m.loss->forward}}},
          {"optimizer", {{"name", m.optimizer->name}, {"rule", m.optimizerRule}}},
          {"schedule",
           {{"name", m.schedule->name},
            {"rule", m.schedule->forward},
            {"settings", m.scheduleSettings}}},
          {"clip", m.clip ? nlohmann::json{{"name", m.clip->name},
                                           {"rule", m.clip->forward},
                                           {"settings", m.clipSettings}}
                          : nlohmann::json()}};
}

}  // namespace tfmath::cli
