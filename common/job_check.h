// job_check.h: the semantic checks a job must pass before any training starts: sizes, shapes that
// follow one another and the data, hyperparameters, and a loss that fits the targets. Each failure
// names the field, e.g. "model[2].conv2d.kernelSize: ...". The CLI runs it, and so does the
// coordinator, which trusts no client.
#pragma once

#include <string>
#include <vector>

#include "dataset.h"
#include "job.capnp.h"
#include "tensor.h"

namespace tfmath {

// Checks that need no data. Returns every problem found, one message each.
std::vector<std::string> checkJobFields(proto::Job::Reader job);

// Checks the model's shapes against the data's sample shape and the loss against the targets.
// Returns every problem found (the first bad layer stops the shape walk).
std::vector<std::string> checkModelAgainstData(proto::Job::Reader job, const Data& data);

// All of it: the field checks, then loading the data (which checks the files), then the shapes.
// Throws JobError with every message, one per line. Returns the loaded data.
Data validateJob(proto::Job::Reader job);

}  // namespace tfmath
