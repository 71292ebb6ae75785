// gemm.h: the one matrix multiply every op uses, so the backend (oneDNN, OpenBLAS or Eigen) is
// chosen in one place. Row-major throughout. Thread-safe; runs on computeThreads() threads
// (ops/threads.h).
#pragma once

namespace tfmath {

// C = alpha · op(A) · op(B) + beta · C, where op(A) is M×K, op(B) is K×N and C is M×N, all
// row-major with leading dimensions lda, ldb, ldc. beta = 0 overwrites C; beta = 1 accumulates into
// it.
void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);

// The backend's name, for benchmarks and `tfmath --version`.
const char* gemmBackend();

}  // namespace tfmath
