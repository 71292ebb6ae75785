// check_view.h: what `tfmath check` and `tfmath submit --dry-run` print about a valid job, before
// any training: its data and settings, each op with its output shape, its parameter count and its
// forward rule with the job's shapes put in, the totals, how the parameters start, the loss, and
// the optimizer's update with the job's hyperparameters put in. As text (LaTeX in it) or JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "jobs/dataset.h"
#include "proto/job.capnp.h"

namespace tfmath::cli {

std::string checkText(proto::Job::Reader job, const Data& data);
nlohmann::json checkJson(proto::Job::Reader job, const Data& data);

}  // namespace tfmath::cli
