// job_detail.h: the detail of one job in `tfmath top`: its state, each rank's timings, its train
// and test loss drawn as a plot in text, the formula of each of its layers from the op registry,
// and the last lines of its log. Pure functions of what the coordinator answered, so the tests
// check them on replies built by hand.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "cli/top_view.h"
#include "proto/metrics.capnp.h"
#include "proto/protocol.capnp.h"

namespace tfmath::cli {

// A point of a curve: (step, loss).
using CurvePoint = std::pair<double, double>;

// Two loss curves on one plot `width` by `height` characters (axes and labels included; at least
// 20 by 4): the train loss as '*', the test loss as 'o' (drawn over it). The y axis runs from the
// smallest to the largest finite loss, labelled at its ends; the x axis from step 0 to the last.
std::vector<std::string> lossPlot(const std::vector<CurvePoint>& train,
                                  const std::vector<CurvePoint>& test, int width, int height);

// Each layer of the job with the forward rule of each op it builds, then its loss's rule: from the
// `model` and `lossRule` of a status reply that named this job. Formulas wrap to `width`.
std::vector<std::string> layerFormulas(proto::JobInfo::Reader job, int width);

// What the detail view shows of one job.
struct JobDetailInput {
  proto::JobInfo::Reader job;                        // from a status reply naming the job
  capnp::List<proto::MetricsPoint>::Reader points;   // its metrics history; may be empty
  std::string metricsProblem;                        // why there is no history, if there is none
  const std::deque<std::string>* logTail = nullptr;  // its last log lines, escaped; may be null
  std::string logProblem;                            // why there is no log, if there is none
  int64_t nowMs = 0;                                 // ms since 1970
};

// The detail as lines for a terminal `width` columns wide (at least 70).
std::vector<std::string> jobDetailLines(const JobDetailInput& in, int width, Glyphs glyphs);

}  // namespace tfmath::cli
