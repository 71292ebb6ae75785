// report_markdown.h: a job's report as Markdown that renders on GitHub, with its SVG plots: the
// job, the model layer by layer with each op's rule and the job's shapes put in, the results
// epoch by epoch, and the math checked against the numbers (learned against generating values,
// and backpropagation against finite differences). Display formulas go in ```math blocks and
// inline ones in $`...`$, so that Markdown leaves their _ and \ alone.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "jobs/dataset.h"
#include "proto/metrics.capnp.h"
#include "proto/params.capnp.h"
#include "train/gradient_check.h"

namespace tfmath::cli {

struct ReportInputs {
  std::string source;                   // what the report is of: "linreg.params", or "job 12"
  proto::ParameterState::Reader state;  // its job and trained parameters
  const Data* data = nullptr;           // the job's data, loaded
  std::vector<proto::MetricsPoint::Reader> history;  // the run's metrics, oldest first
  std::vector<OpGradientCheck> gradients;
  std::string ended;     // how the job ended, when it failed or was cancelled ("FAILED: why")
  bool running = false;  // still running: the report is of its latest checkpoint
};

// The report's files: "report.md", "job.capnp" (the job, to run again) and the plots, by name.
std::map<std::string, std::string> markdownReport(const ReportInputs& in);

}  // namespace tfmath::cli
