// model_math.h: a job's model as math, before any training: each op's forward rule with the job's
// shapes put in, its parameters with their shapes, counts and initialisation, then the loss's rule
// and the optimizer's update with the job's hyperparameters put in, the learning-rate schedule and
// the clip. `tfmath check` prints it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ops/op_math.h"
#include "ops/tensor.h"
#include "proto/job.capnp.h"

namespace tfmath {

struct ParamMath {
  std::string symbol;  // LaTeX, from the op's rules: "W", "b", "K"
  std::string name;    // as the parameter file names it: "layer1.w"
  Shape shape;
  std::string init;  // LaTeX: how it starts, with its numbers, e.g. "b = 0"
};

struct OpMathWithShapes {
  const OpMath* math = nullptr;
  std::string field;    // the job layer that built it: "model[1].dense"
  Shape input, output;  // per sample
  std::vector<ParamMath> params;
  int64_t parameters = 0;  // their element count
  std::string rule;        // LaTeX: the forward rule with the shapes for one batch
};

struct ModelMath {
  uint32_t batch = 0;  // the job's global batch, the N of the rules
  std::vector<OpMathWithShapes> ops;
  int64_t parameters = 0;
  const OpMath* loss = nullptr;
  const OpMath* optimizer = nullptr;
  std::string optimizerRule;  // LaTeX: the update with the job's hyperparameters put in
  // The learning-rate schedule, and its settings and T as LaTeX ("w = 500,\ \varphi = 0.05,\ T =
  // 7504").
  const OpMath* schedule = nullptr;
  std::string scheduleSettings;
  // Clipping by the global norm and its c; null and empty when the job does not clip.
  const OpMath* clip = nullptr;
  std::string clipSettings;
};

// The math of a job whose fields and data passed their checks (jobs/data_check.h), for samples of
// `sampleShape` and a training set of `trainingSamples` (the schedule's T).
ModelMath modelMath(proto::Job::Reader job, const Shape& sampleShape, int64_t trainingSamples);

// "\mathbb{R}^{128\times 784}": the LaTeX set of a tensor of `shape`, after `batch` samples
// (none when 0).
std::string latexSpace(const Shape& shape, int64_t batch = 0);

// A number as LaTeX, to 6 significant digits: 0.1, 0.99999, 10^{-8}, 2.5\cdot 10^{-4}.
std::string latexNumber(double value);

}  // namespace tfmath
