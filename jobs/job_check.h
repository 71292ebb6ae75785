// job_check.h: the checks of a job's fields that need no data: sizes, layer settings and
// hyperparameters. Each failure names the field, e.g. "optimizer.sgd.momentum: ...". The
// coordinator runs them on every submission; data_check.h adds the checks that need the data.
#pragma once

#include <string>
#include <vector>

#include "jobs/data_access.h"
#include "proto/job.capnp.h"

namespace tfmath {

// Returns every problem found, one message each.
std::vector<std::string> checkJobFields(proto::Job::Reader job);

struct DataPath {
  std::string field;  // e.g. "data.csv.train"
  std::string path;
};
// The file paths a data source names, with their fields; unset ones left out.
std::vector<DataPath> dataPaths(proto::DataSource::Reader data);

// Every data path checked against `access` without reading (DataAccess::check), one message each.
std::vector<std::string> checkDataPaths(proto::Job::Reader job, const DataAccess& access);

}  // namespace tfmath
