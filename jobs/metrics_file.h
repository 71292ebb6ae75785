// metrics_file.h: a metrics history on disk (proto/metrics.capnp): MetricsPoint messages appended
// one at a time. Bounded: past `maxWindows` window points, each rank's consecutive windows of one
// epoch are merged pairwise and the file is replaced atomically, so a long run keeps its whole span
// at a coarser grain. Epoch points are all kept. Not thread-safe.
#pragma once

#include <capnp/message.h>

#include <cstddef>
#include <memory>
#include <string>

#include "proto/metrics.capnp.h"

namespace tfmath {

class MetricsFileWriter {
 public:
  // When a point reaches the disk: every one (a crash loses at most the point being written), or
  // only epoch points and what came before them (for a writer on an event loop, which must not wait
  // on the disk every second per rank).
  enum class Sync { everyPoint, epochPoints };
  // Starts the file afresh, or with `append` continues the history already there (a resumed run).
  MetricsFileWriter(std::string path, bool append, Sync sync = Sync::everyPoint,
                    size_t maxWindows = 4096);
  // Appends one point (and merges windows if there are too many). Throws std::runtime_error naming
  // the path when the disk refuses it.
  void append(proto::MetricsPoint::Reader point);
  const std::string& path() const { return path_; }

 private:
  void compact();

  std::string path_;
  Sync sync_;
  size_t maxWindows_, windows_ = 0;
};

// Where `tfmath run` writes the metrics of a run whose parameters go to `paramsPath`:
// NAME.params → NAME.metrics, anything else → PATH.metrics.
std::string metricsPathFor(const std::string& paramsPath);

// Every point of a metrics file, oldest first, as one MetricsSeries. Throws JobError naming the
// path when it is missing or is not a metrics file.
std::unique_ptr<capnp::MallocMessageBuilder> readMetricsFile(const std::string& path);

// One window covering `a` then `b` (consecutive windows of one rank in one epoch): their steps add
// up, and each mean is weighted by what it averages (losses by samples, times by steps).
void mergeWindows(proto::MetricsPoint::Reader a, proto::MetricsPoint::Reader b,
                  proto::MetricsPoint::Builder into);

}  // namespace tfmath
