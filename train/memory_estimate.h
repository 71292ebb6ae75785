// memory_estimate.h: what a job will take in memory on one worker, worked out before anything big
// is allocated: its data, parameters, gradients, optimizer slots and the activations of one local
// batch. The workers refuse a job over their --memory-limit with it, and `tfmath submit` checks it
// against what the workers report before it submits.
#pragma once

#include <cstdint>
#include <string>

#include "jobs/dataset.h"
#include "proto/job.capnp.h"

namespace tfmath {

struct MemoryEstimate {
  // Bytes, as doubles: an absurd job (2e9 units) must not wrap the sums.
  double data = 0, parameters = 0, gradients = 0, optimizerSlots = 0, activations = 0;
  uint32_t localBatch = 0;  // the samples of one rank's step
  double total() const { return data + parameters + gradients + optimizerSlots + activations; }
  // "about 24.0 GiB (data 180 MiB, parameters 6.0 GiB, gradients 6.0 GiB, optimizer slots 12.0
  // GiB, activations 2 MiB at a local batch of 32)".
  std::string describe() const;
};

// The data a job generates before any file is read: a linear source's samples; 0 for files.
double generatedDataBytes(proto::Job::Reader job);

// The whole estimate, once the data is loaded: for one of `worldSize` ranks.
MemoryEstimate estimateMemory(proto::Job::Reader job, const Data& data, uint32_t worldSize);

// "1.5 GiB", "180 MiB", "12 KiB".
std::string byteSize(double bytes);

}  // namespace tfmath
