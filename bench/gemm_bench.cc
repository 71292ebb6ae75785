// gemm_bench.cc: OpenBLAS's cblas_sgemm against oneDNN's dnnl_sgemm on the GEMMs of the examples'
// training steps, at 1 and 2 threads, to choose the library behind gemm(). Prints µs per call,
// the median of REPEATS (default 5) timings of 200 calls each. Usage: gemm_bench
#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench/median_micros.h"

namespace {

struct Shape {
  const char* what;
  bool transA, transB;
  int m, n, k;
};

// fashion_mlp (batch 128) and fashion_cnn's dense layer (batch 64): forward, weight gradient,
// input gradient.
const Shape kShapes[] = {
    {"mlp 784->256 fwd", false, false, 128, 256, 784},
    {"mlp 784->256 dW", true, false, 784, 256, 128},
    {"mlp 256->128 fwd", false, false, 128, 128, 256},
    {"mlp 256->128 dX", false, true, 128, 256, 128},
    {"cnn dense fwd", false, false, 64, 10, 1568},
    {"cnn dense dW", true, false, 1568, 10, 64},
    {"cnn dense dX", false, true, 64, 1568, 10},
};

}  // namespace

int main() {
  const int repeats = std::getenv("REPEATS") ? std::atoi(std::getenv("REPEATS")) : 5;
  std::printf("%-18s %8s %12s %12s %8s\n", "gemm", "threads", "openblas µs", "onednn µs", "ratio");
  for (int threads : {1, 2}) {
    openblas_set_num_threads(threads);
    omp_set_num_threads(threads);
    for (const Shape& s : kShapes) {
      const int rowsA = s.transA ? s.k : s.m, colsA = s.transA ? s.m : s.k;
      const int rowsB = s.transB ? s.n : s.k, colsB = s.transB ? s.k : s.n;
      std::vector<float> a(static_cast<size_t>(rowsA) * colsA, 0.5f),
          b(static_cast<size_t>(rowsB) * colsB, 0.25f), c(static_cast<size_t>(s.m) * s.n);
      const double blas = medianMicros(
          [&] {
            cblas_sgemm(CblasRowMajor, s.transA ? CblasTrans : CblasNoTrans,
                        s.transB ? CblasTrans : CblasNoTrans, s.m, s.n, s.k, 1.0f, a.data(), colsA,
                        b.data(), colsB, 0.0f, c.data(), s.n);
          },
          repeats, 200);
      const double dnnl = medianMicros(
          [&] {
            dnnl_sgemm(s.transA ? 'T' : 'N', s.transB ? 'T' : 'N', s.m, s.n, s.k, 1.0f, a.data(),
                       colsA, b.data(), colsB, 0.0f, c.data(), s.n);
          },
          repeats, 200);
      std::printf("%-18s %8d %12.1f %12.1f %7.2fx\n", s.what, threads, blas, dnnl, blas / dnnl);
    }
  }
}
