// report.h: turning jobs and parameter states into what users read: learned values, JSON records.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ops/tensor.h"
#include "proto/params.capnp.h"
#include "proto/protocol.capnp.h"

namespace tfmath::cli {

// "28×28×1"
std::string dimsText(const Shape& shape);
// The data source's kind as the schema names it: "linear", "idx" or "csv".
std::string dataSourceName(proto::DataSource::Reader data);

// "w = 2.9981  b = 2.0113" when the state holds at most `limit` parameters; empty otherwise.
// The layer prefix is dropped when there is only one layer with parameters.
std::string learnedValues(proto::ParameterState::Reader state, size_t limit = 20);

// "1:05" or "1:02:03".
std::string formatDuration(double seconds);

// Text from the coordinator (names, reasons, hosts: what other users and peers wrote), escaped for
// the terminal.
std::string shown(capnp::Text::Reader text);
std::string shown(const std::string& text);

// `v` printed with a printf `pattern` for one double ("%.4f").
std::string format(const char* pattern, double v);

// A figure for JSON, which has no NaN: an unmeasured one is null.
nlohmann::json jsonNumber(double v);

// One line on where a job is: "job 3 COMPLETED in 0:42: epoch 3/3, loss 0.3124, test loss 0.3501,
// test accuracy 87.10%, 75012 samples/s", with the reason after a FAILED or CANCELLED.
std::string jobSummary(proto::JobInfo::Reader info, int64_t nowMs);

// The exit status of `tfmath wait` and `submit --wait` (docs/batch.md): 0 when every job in
// `ended` COMPLETED, 1 when one FAILED, else 3 when one was CANCELLED. kExitTimedOut when the wait
// ran out first; kExitUsage for a bad command line or job.
int exitStatusFor(const std::vector<proto::JobState>& ended);
constexpr int kExitUsage = 2, kExitCancelled = 3, kExitTimedOut = 124;

nlohmann::json toJson(proto::JobInfo::Reader info);
nlohmann::json toJson(proto::WorkerInfo::Reader worker);
nlohmann::json metricsJson(proto::Metrics::Reader metrics);

}  // namespace tfmath::cli
