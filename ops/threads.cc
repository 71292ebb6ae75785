// threads.cc: one process-wide count, pushed to OpenBLAS and to the OpenMP runtime oneDNN uses.
#include "ops/threads.h"

#include <atomic>

#include "base/assert.h"

#ifdef TFMATH_OPENBLAS
#include <cblas.h>
#endif
#ifdef TFMATH_ONEDNN
#include <omp.h>
#endif

namespace tfmath {

namespace {
std::atomic<int> wanted{1};
#ifdef TFMATH_OPENBLAS
std::atomic<int> openblasThreads{0};  // what OpenBLAS was last told; 0: nothing yet
#endif
}  // namespace

int computeThreads() { return wanted.load(); }

void setComputeThreads(int n) {
  TFMATH_ASSERT(n >= 1, n);
  wanted.store(n);
}

void applyComputeThreads() {
  const int n = wanted.load();
#ifdef TFMATH_OPENBLAS
  if (openblasThreads.load(std::memory_order_relaxed) != n) {  // a load, not a write, per call
    openblasThreads.store(n, std::memory_order_relaxed);
    openblas_set_num_threads(n);
  }
#endif
#ifdef TFMATH_ONEDNN
  // OpenMP's count is per calling thread: the trainer's thread sets its own.
  if (omp_get_max_threads() != n) omp_set_num_threads(n);
#endif
}

}  // namespace tfmath
