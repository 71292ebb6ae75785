// report_markdown.cc: the report's sections, in the order a reader checks a model: what was run,
// what it computes, what came out, and whether the math and the numbers agree.
#include "cli/report_markdown.h"

#include <kj/string.h>

#include <cmath>
#include <cstring>
#include <map>

#include "base/version.h"
#include "cli/report.h"
#include "cli/svg_plot.h"
#include "ops/model_math.h"

namespace tfmath::cli {

namespace {

// Text with Markdown's own characters escaped, so that a job name reads as written.
std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c != '\0' && std::strchr("\\`*_{}[]<>()#+-!|~$&", c)) out += '\\';
    out += c;
  }
  return out;
}

std::string mathBlock(const std::string& latex) { return "```math\n" + latex + "\n```\n"; }
std::string inlineMath(const std::string& latex) { return "$`" + latex + "`$"; }

std::string fixed(double value, int digits = 4) {
  if (std::isnan(value)) return "–";
  char text[48];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

std::string jobSection(const ReportInputs& in, proto::Job::Reader job) {
  const Data& data = *in.data;
  std::string out = "## The job\n\n";
  out += "| | |\n| --- | --- |\n";
  out += "| name | " + escaped(shown(job.getName())) + " |\n";
  out +=
      "| data | " + dataSourceName(job.getData()) + ": " + std::to_string(data.train.size()) +
      " training samples of " + dimsText(data.train.sampleShape()) +
      (data.test ? ", " + std::to_string(data.test->size()) + " test samples" : ", no test set") +
      " |\n";
  out += "| global batch | " + std::to_string(job.getBatchSize()) + " |\n";
  out += "| epochs | " + std::to_string(job.getEpochs()) + " |\n";
  out += "| workers | " + std::to_string(job.getWorkers()) + " |\n";
  out += "| seed | " + std::to_string(job.getSeed()) + " |\n";
  if (!in.ended.empty()) out += "| ended | " + escaped(in.ended) + " |\n";
  if (in.running)
    out += "| state | running: this report is of its latest checkpoint, step " +
           std::to_string(in.state.getStep()) + " |\n";
  out += "\nTo run it again: `tfmath run job.capnp` (the job as it ran, beside this report).\n\n";
  return out;
}

std::string modelSection(const ModelMath& m) {
  std::string out =
      "## The model\n\n| layer | op | output per sample | parameters |\n"
      "| --- | --- | --- | ---: |\n";
  for (const auto& op : m.ops)
    out += "| " + op.field + " | " + op.math->name + " | " + dimsText(op.output) + " | " +
           std::to_string(op.parameters) + " |\n";
  out += "| **total** | | | **" + std::to_string(m.parameters) + "** |\n\n";
  out += "Each op's forward rule, with this job's shapes for a batch of " +
         std::to_string(m.batch) + ":\n\n";
  for (const auto& op : m.ops) {
    out += "**" + op.field + "**, " + op.math->name + " (" + op.math->summary + ")\n\n";
    out += mathBlock(op.rule);
    for (const auto& [wrt, rule] : op.math->gradients) out.append("\n").append(mathBlock(rule));
    if (!op.params.empty()) {
      out += "\nStarts as: ";
      for (size_t i = 0; i < op.params.size(); ++i)
        out += (i ? "; " : "") + inlineMath(op.params[i].init);
      out += ".\n";
    }
    out += "\n";
  }
  out += "**Loss**, " + m.loss->name + " (" + m.loss->summary + "), per sample:\n\n" +
         mathBlock(m.loss->forward) + "\n";
  out += "**Optimizer**, " + m.optimizer->name + ", with this job's hyperparameters:\n\n" +
         mathBlock(m.optimizerRule) + "\n";
  out += "**Learning rate**, " + m.schedule->name + " (" + m.schedule->summary +
         "): update t uses the rate " + inlineMath("\\eta\\, f(t)") + " with\n\n" +
         mathBlock(m.schedule->forward + ",\\quad " + m.scheduleSettings) + "\n";
  if (m.clip)
    out += "**Clipping**, " + m.clip->name + " (" + m.clip->summary + "):\n\n" +
           mathBlock(m.clip->forward + ",\\quad " + m.clipSettings) + "\n";
  return out;
}

std::string resultsSection(const ReportInputs& in, std::map<std::string, std::string>& files) {
  std::string out = "## Results\n\n";
  std::vector<proto::MetricsPoint::Reader> epochs;
  std::map<uint32_t, std::vector<proto::MetricsPoint::Reader>> windows;  // by rank
  for (auto p : in.history) {
    if (p.getKind() == proto::MetricsPoint::Kind::EPOCH)
      epochs.push_back(p);
    else
      windows[p.getRank()].push_back(p);
  }
  const bool accuracy = !epochs.empty() && !std::isnan(epochs.back().getTestAccuracy());
  if (epochs.empty())
    out += "No epoch finished, so there is nothing to plot.\n\n";
  else
    out += "| epoch | train loss | test loss |" + std::string(accuracy ? " test accuracy |" : "") +
           " samples/s |\n| ---: | ---: | ---: |" + (accuracy ? " ---: |" : "") + " ---: |\n";
  PlotSeries train{"train loss", "#1f77b4", {}}, test{"test loss", "#d62728", {}},
      acc{"test accuracy", "#2ca02c", {}}, speed{"samples/s", "#9467bd", {}};
  for (auto e : epochs) {
    const double x = e.getEpoch() + 1;
    out += "| " + std::to_string(e.getEpoch() + 1) + " | " + fixed(e.getTrainLoss()) + " | " +
           fixed(e.getTestLoss()) + " |" +
           (accuracy ? std::string(" ").append(fixed(100 * e.getTestAccuracy(), 2)).append("% |")
                     : "") +
           " " + fixed(e.getSamplesPerSecond(), 0) + " |\n";
    train.points.emplace_back(x, e.getTrainLoss());
    test.points.emplace_back(x, e.getTestLoss());
    acc.points.emplace_back(x, 100 * e.getTestAccuracy());
    speed.points.emplace_back(x, e.getSamplesPerSecond());
  }
  if (!epochs.empty()) {
    out +=
        "\nThe plots show every epoch's own value, joined by straight lines; nothing is "
        "smoothed.\n\n";
    files["loss.svg"] =
        svgLineChart("Loss per epoch", "epoch", "mean loss per sample", {train, test});
    out += "![loss per epoch](loss.svg)\n";
    if (accuracy) {
      files["accuracy.svg"] = svgLineChart("Test accuracy per epoch", "epoch", "%", {acc});
      out += "![test accuracy per epoch](accuracy.svg)\n";
    }
    files["throughput.svg"] = svgLineChart("Training throughput", "epoch", "samples/s", {speed});
    out += "![samples per second](throughput.svg)\n\n";
  }
  if (windows.size() > 1) {
    out +=
        "Each worker's mean times per step, over the windows it reported:\n\n"
        "| rank | step (ms) | allreduce (ms) | input (ms) |\n| ---: | ---: | ---: | ---: |\n";
    for (const auto& [rank, points] : windows) {
      double steps = 0, step = 0, allreduce = 0, input = 0;
      for (auto p : points) {
        steps += p.getSteps();
        step += p.getSteps() * p.getStepSeconds();
        allreduce += p.getSteps() * p.getAllreduceSeconds();
        input += p.getSteps() * p.getInputSeconds();
      }
      if (steps == 0) continue;
      out += "| " + std::to_string(rank) + " | " + fixed(1000 * step / steps, 2) + " | " +
             fixed(1000 * allreduce / steps, 2) + " | " + fixed(1000 * input / steps, 2) + " |\n";
    }
    out += "\n";
  }
  return out;
}

// The learned weights and bias beside those that generated the data, for a single dense unit
// fitted to a linear source.
std::string generatingValues(proto::Job::Reader job, proto::ParameterState::Reader state) {
  if (!job.getData().isLinear() || state.getTensors().size() != 2) return "";
  auto linear = job.getData().getLinear();
  auto w = state.getTensors()[0], b = state.getTensors()[1];
  const size_t d = linear.getWeights().size();
  if (w.getData().size() != d * sizeof(float) || b.getData().size() != sizeof(float)) return "";
  std::vector<float> learned(d + 1);
  std::memcpy(learned.data(), w.getData().begin(), d * sizeof(float));
  std::memcpy(learned.data() + d, b.getData().begin(), sizeof(float));
  std::string out = "The data is " + inlineMath("y = x^\\top w + b + \\varepsilon") +
                    " with known " + inlineMath("w") + " and " + inlineMath("b") +
                    "; the model learned:\n\n| parameter | learned | generated the data |\n"
                    "| --- | ---: | ---: |\n";
  for (size_t j = 0; j < d; ++j)
    out += "| " + inlineMath(d == 1 ? "w" : "w_{" + std::to_string(j + 1) + "}") + " | " +
           fixed(learned[j], 3) + " | " + fixed(linear.getWeights()[static_cast<unsigned>(j)], 3) +
           " |\n";
  out += "| " + inlineMath("b") + " | " + fixed(learned[d], 3) + " | " +
         fixed(linear.getBias(), 3) + " |\n\n";
  return out;
}

std::string checkSection(const ReportInputs& in, proto::Job::Reader job) {
  std::string out = "## Checking the math against the numbers\n\n";
  if (in.state.getTensors().size() == 0)
    return out + "The job ended before its first checkpoint: there are no parameters to check.\n";
  out += generatingValues(job, in.state);
  out += "Backpropagation against central differences " + inlineMath("(L(w+h)-L(w-h))/2h") +
         ", with h = 10⁻³·max(1, |w|), of the mean loss of the first 8 samples (fewer when the "
         "batch is smaller), at the trained parameters, on "
         "the elements of each parameter whose gradients are largest:\n\n| layer | op | elements | "
         "largest relative error |\n"
         "| --- | --- | ---: | ---: |\n";
  for (const auto& g : in.gradients) {
    char error[32];
    std::snprintf(error, sizeof error, "%.2e", g.maxRelativeError);
    out +=
        "| " + g.field + " | " + g.op + " | " + std::to_string(g.checked) + " | " + error + " |\n";
  }
  out +=
      "\nEach relu and max pooling stays on the branch the unperturbed forward took (the side of "
      "0, the window's maximum element), so the differences measure the slope of the same piece "
      "backpropagation differentiated, never a step across a kink. The error left is float32's "
      "rounding: the rules above are the ones that trained the model.\n";
  return out;
}

}  // namespace

std::map<std::string, std::string> markdownReport(const ReportInputs& in) {
  const auto job = in.state.getJob();
  std::map<std::string, std::string> files;
  const ModelMath m = modelMath(job, in.data->train.sampleShape(), in.data->train.size());
  std::string md = "# " + escaped(shown(job.getName())) + "\n\n";
  md += "A report by tfmath " + std::string(kTfmathVersion) + " of " + escaped(shown(in.source)) +
        ": the job, its math with the job's shapes, its results, and the math checked against "
        "the numbers.\n\n";
  md += jobSection(in, job) + modelSection(m) + resultsSection(in, files) + checkSection(in, job);
  files["report.md"] = md;
  files["job.capnp"] = "# The job of " + shown(in.source) + ", as it ran.\nusing T = import " +
                       "\"/tfmath/job.capnp\";\nconst job :T.Job = " + kj::str(job).cStr() + ";\n";
  return files;
}

}  // namespace tfmath::cli
