// sweep_table.h: `tfmath result ARRAY_ID`: one table for the jobs of a sweep (their overrides and
// final figures), sorted so that the best configuration comes first.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "proto/protocol.capnp.h"

namespace tfmath::cli {

// The columns a sweep sorts by; a leading '-' sorts the largest first. The default, test_loss,
// puts the lowest test loss first. A job without the figure (NaN: not yet evaluated) goes last.
inline const std::vector<std::string> kSweepSortKeys{"test_loss", "test_accuracy", "loss",
                                                     "samples_per_s", "id"};

// The jobs of array `arrayId` (ids ARRAY_0, ARRAY_1, ...) in `status`, sorted by `key`. Throws
// JobError naming --sort for a key not in kSweepSortKeys. Empty when the array has no jobs.
std::vector<proto::JobInfo::Reader> sweepJobs(proto::StatusReply::Reader status,
                                              const std::string& arrayId, const std::string& key);

// A table: id, state, test loss and accuracy, train loss, samples/s, and the overrides.
std::string sweepTable(const std::vector<proto::JobInfo::Reader>& jobs);

// The same as {"jobs": [records of status --json, each with its "overrides"]}.
nlohmann::json sweepJson(const std::vector<proto::JobInfo::Reader>& jobs);

}  // namespace tfmath::cli
