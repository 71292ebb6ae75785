// threads.cc: one process-wide count, pushed to OpenBLAS and to the OpenMP runtime oneDNN uses,
// and the default count.
#include "ops/threads.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>

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

int defaultComputeThreads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1 && n <= 1024) return static_cast<int>(n);
  }
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0) return std::max(1, CPU_COUNT(&cpus));
  return 1;
}

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
