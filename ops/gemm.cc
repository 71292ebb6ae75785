// gemm.cc: gemm() over oneDNN's dnnl_sgemm when TFMATH_ONEDNN is set (its GEMMs share one
// OpenMP pool with the convolutions, and measure faster on every shape of the examples), else over
// OpenBLAS's cblas_sgemm when TFMATH_OPENBLAS is set, else over Eigen.
#include "ops/gemm.h"

#include <Eigen/Core>

#include "base/assert.h"
#include "ops/threads.h"

#if defined(TFMATH_ONEDNN)
#include <oneapi/dnnl/dnnl.h>
#elif defined(TFMATH_OPENBLAS)
#include <cblas.h>
#endif

namespace tfmath {

#if defined(TFMATH_ONEDNN)

void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  applyComputeThreads();
  const dnnl_status_t status = dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', M, N, K, alpha, A,
                                          lda, B, ldb, beta, C, ldc);
  TFMATH_ASSERT(status == dnnl_success, status, M, N, K);
}
const char* gemmBackend() { return "onednn"; }

#elif defined(TFMATH_OPENBLAS)

void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  applyComputeThreads();
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
const char* gemmBackend() { return "openblas"; }

#else

namespace {
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Stride = Eigen::OuterStride<>;
using ConstMap = Eigen::Map<const RowMajor, 0, Stride>;
}  // namespace

void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  Eigen::Map<RowMajor, 0, Stride> c(C, M, N, Stride(ldc));
  if (beta == 0.0f)
    c.setZero();
  else if (beta != 1.0f)
    c *= beta;
  ConstMap a(A, transA ? K : M, transA ? M : K, Stride(lda));
  ConstMap b(B, transB ? N : K, transB ? K : N, Stride(ldb));
  if (!transA && !transB)
    c.noalias() += alpha * a * b;
  else if (transA && !transB)
    c.noalias() += alpha * a.transpose() * b;
  else if (!transA && transB)
    c.noalias() += alpha * a * b.transpose();
  else
    c.noalias() += alpha * a.transpose() * b.transpose();
}
const char* gemmBackend() { return "eigen"; }  // built without OpenMP, so Eigen is single-threaded

#endif

}  // namespace tfmath
