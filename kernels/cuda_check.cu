// cuda_check.cu: checked calls, the device count, streams and events, the cuBLAS handle and the
// row-major GEMM.
#include <stdexcept>

#include "kernels/cuda_check.cuh"

namespace tfmath::cuda {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + ": " + cublasGetStatusString(status));
}

int deviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return count;
}

Stream makeStream() {
  cudaStream_t s = nullptr;
  check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
  return Stream(s);
}

Event makeEvent() {
  cudaEvent_t e = nullptr;
  check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate");
  return Event(e);
}

void order(cudaStream_t stream, cudaEvent_t marker, cudaStream_t waiter) {
  check(cudaEventRecord(marker, stream), "cudaEventRecord");
  check(cudaStreamWaitEvent(waiter, marker, 0), "cudaStreamWaitEvent");
}

Blas::Blas() {
  check(cublasCreate(&handle_), "cublasCreate");
  // Deterministic: no atomics-based algorithms, the same bits on every run.
  check(cublasSetAtomicsMode(handle_, CUBLAS_ATOMICS_NOT_ALLOWED), "cublasSetAtomicsMode");
  // Full float32: no TF32 tensor-core rounding, so the GPU stays within float rounding of the CPU.
  check(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
}

Blas::~Blas() { cublasDestroy(handle_); }

void gemm(const Blas& blas, bool transA, bool transB, int m, int n, int k, float alpha,
          const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  check(cublasSgemm(blas.handle(), transB ? CUBLAS_OP_T : CUBLAS_OP_N,
                    transA ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, ldb, a, lda, &beta, c,
                    ldc),
        "cublasSgemm");
}

}  // namespace tfmath::cuda
