// metrics_table.h: how `tfmath metrics` prints a metrics history (proto/metrics.capnp).
#pragma once

#include "proto/metrics.capnp.h"

namespace tfmath::cli {

enum class MetricsFormat { table, json, csv };

// A table (epochs 1-based, times in ms and shares of the step), one JSON array of points (NaN as
// null), or CSV with a header row (NaN as an empty cell), on stdout.
void printMetrics(proto::MetricsSeries::Reader series, MetricsFormat format);

}  // namespace tfmath::cli
