// job_check.h: the checks of a job's fields that need no data: sizes, layer settings and
// hyperparameters. Each failure names the field, e.g. "optimizer.sgd.momentum: ...". The
// coordinator runs them on every submission; data_check.h adds the checks that need the data.
#pragma once

#include <string>
#include <vector>

#include "proto/job.capnp.h"

namespace tfmath {

// Returns every problem found, one message each.
std::vector<std::string> checkJobFields(proto::Job::Reader job);

}  // namespace tfmath
