// parallel.h: element-wise passes split over the compute threads (threads.h), on the OpenMP pool
// oneDNN's convolutions and GEMMs use, so the passes and the convolutions never compete for the
// cores. Each chunk writes only its own outputs, in the order a single thread would, so the result
// is the same bits for any thread count.
#pragma once

#include <cstdint>
#include <functional>

namespace tfmath {

// Calls body(begin, end) on contiguous chunks that cover [0, n), at most one per compute thread,
// each of at least `grain` items (fewer chunks when n is small). Serial in a build without OpenMP.
void parallelChunks(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body);

}  // namespace tfmath
