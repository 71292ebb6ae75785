// gradient_buckets.h: which part of the gradient buffer a device communicator starts summing while
// backward still runs (the allreduce overlapped with backward where the bucket order
// allows). Backward finishes the last layers first, so what is final grows from the end of the
// flat buffer towards its start; a bucket is the stretch between where the last bucket began and
// the newest final offset, once it holds at least the bucket size. Pure arithmetic on offsets, the
// same on every rank for the same calls: ranks must start the same collectives in the same order.
#pragma once

#include <cstddef>

namespace tfmath {

// The bucket size device communicators use. PyTorch DDP uses 25 MB; tfmath's models are small, so
// less, to overlap at all (docs/gpu.md works out the example models' buckets).
constexpr size_t kBucketBytes = 64 * 1024;

// A range [begin, end) of the flat gradient buffer, in floats.
struct FloatRange {
  size_t begin = 0, end = 0;
  bool empty() const { return begin >= end; }
  size_t size() const { return empty() ? 0 : end - begin; }
};

class GradientBuckets {
 public:
  explicit GradientBuckets(size_t bucketFloats) : bucketFloats_(bucketFloats) {}

  // The buffer holds `size` floats, of which [offset, size) are final. Returns the bucket to start
  // summing now, or an empty range while the unsummed final stretch is below the bucket size.
  FloatRange finalFrom(size_t size, size_t offset) {
    const size_t end = started_ ? startedFrom_ : size;
    if (offset >= end || end - offset < bucketFloats_) return {};
    started_ = true;
    startedFrom_ = offset;
    return {offset, end};
  }

  // The end of the step: what no bucket holds, [0, where the lowest bucket began). Starts over.
  FloatRange rest(size_t size) {
    const FloatRange r{0, started_ ? startedFrom_ : size};
    started_ = false;
    return r;
  }

 private:
  size_t bucketFloats_;
  bool started_ = false;  // a bucket began this step
  size_t startedFrom_ = 0;
};

}  // namespace tfmath
