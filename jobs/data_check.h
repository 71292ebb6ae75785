// data_check.h: the checks of a job against its data, before any training starts: shapes that
// follow one another from the data's sample shape, and a loss that fits the targets. Each failure
// names the field, e.g. "model[2].conv2d.kernelSize: ...". Run where the data is read: by the CLI
// before it submits and by `tfmath run`, and by every worker before step 0.
#pragma once

#include <string>
#include <vector>

#include "jobs/dataset.h"
#include "ops/tensor.h"
#include "proto/job.capnp.h"

namespace tfmath {

// Checks the model's shapes against the data's sample shape, a cosine schedule's warm-up against
// the run's updates, and the loss against the targets.
// Returns every problem found (the first bad layer stops the shape walk).
std::vector<std::string> checkModelAgainstData(proto::Job::Reader job, const Data& data);

// All of it: the field checks (job_check.h), then loading the data through `access` (which checks
// the files), then the shapes. Throws JobError with every message, one per line. Returns the data.
Data validateJob(proto::Job::Reader job, const DataAccess& access = DataAccess::ownRights());

// The same checks on data already loaded for the same data source and seed (a sweep's jobs share
// it): the fields, then the shapes. Throws as validateJob does.
void validateJobWithData(proto::Job::Reader job, const Data& data);

}  // namespace tfmath
