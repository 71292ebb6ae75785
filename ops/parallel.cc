// parallel.cc: parallelChunks on OpenMP. The only file built with -fopenmp: elsewhere Eigen and
// the ops stay single-threaded, and the thread count is the one threads.h sets.
#include "ops/parallel.h"

#include <algorithm>

#include "ops/threads.h"

namespace tfmath {

void parallelChunks(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  const int64_t chunks =
      std::min<int64_t>(computeThreads(), std::max<int64_t>(1, n / std::max<int64_t>(grain, 1)));
  if (chunks <= 1) {
    body(0, n);
    return;
  }
#ifdef _OPENMP
  applyComputeThreads();
  const int team = static_cast<int>(chunks);
#pragma omp parallel for num_threads(team) schedule(static, 1)
  for (int64_t c = 0; c < chunks; ++c) body(n * c / chunks, n * (c + 1) / chunks);
#else
  body(0, n);
#endif
}

}  // namespace tfmath
