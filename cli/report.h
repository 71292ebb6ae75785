// report.h: turning jobs and parameter states into what users read: learned values, JSON records.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "proto/params.capnp.h"
#include "proto/protocol.capnp.h"

namespace tfmath::cli {

// "w = 2.9981  b = 2.0113" when the state holds at most `limit` parameters; empty otherwise.
// The layer prefix is dropped when there is only one layer with parameters.
std::string learnedValues(proto::ParameterState::Reader state, size_t limit = 20);

// "1:05" or "1:02:03".
std::string formatDuration(double seconds);

// A figure for JSON, which has no NaN: an unmeasured one is null.
nlohmann::json jsonNumber(double v);

nlohmann::json toJson(proto::JobInfo::Reader info);
nlohmann::json toJson(proto::WorkerInfo::Reader worker);
nlohmann::json metricsJson(proto::Metrics::Reader metrics);

}  // namespace tfmath::cli
