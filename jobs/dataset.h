// dataset.h: training and test samples in memory, loaded from a job's data source. Loading is also
// validation: missing, truncated or malformed files raise JobError naming the field and the file.
#pragma once

#include <cstdint>
#include <optional>

#include "jobs/data_access.h"
#include "ops/tensor.h"
#include "proto/job.capnp.h"

namespace tfmath {

struct Dataset {
  Tensor inputs;   // N × sample shape
  Tensor targets;  // N × T (T = 1 for a class label)
  int64_t size() const { return inputs.shape().empty() ? 0 : inputs.dim(0); }
  // The per-sample input shape.
  Shape sampleShape() const { return Shape(inputs.shape().begin() + 1, inputs.shape().end()); }
  // Copies the samples at indices[0..n) into x and t (resized to n samples).
  void gather(const uint32_t* indices, int64_t n, Tensor& x, Tensor& t) const;
};

struct Data {
  Dataset train;
  std::optional<Dataset> test;
  // True when targets are class labels by nature (IDX). Such data cannot be used with mse.
  bool labels = false;
  // True when every target is a whole number >= 0, so it can serve as a class number.
  bool integralTargets = false;
  // 1 + the largest target, when integralTargets.
  int64_t classes = 0;
};

// Loads the job's data source, opening files through `access`. Relative paths must already be
// resolved (see job_file.h).
Data loadData(proto::DataSource::Reader source, uint64_t seed, const DataAccess& access);

// Loaders for each source; `field` prefixes error messages (e.g. "data.idx"). Their errors quote
// what a file holds only when `access.quotesContent()`.
Data loadLinear(proto::Linear::Reader linear, uint64_t seed, const std::string& field);
Data loadIdx(proto::Idx::Reader idx, const std::string& field, const DataAccess& access);
Data loadCsv(proto::Csv::Reader csv, const std::string& field, const DataAccess& access);

}  // namespace tfmath
