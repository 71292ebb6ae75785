// cuda_check.cuh: what every kernel file shares: checked CUDA and cuBLAS calls (a failure throws
// std::runtime_error naming the call and CUDA's error string), device memory, streams and events
// owned by unique_ptrs, the row-major GEMM every layer uses, and whether a device is present at
// all.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <memory>
#include <string>
#include <vector>

// Marks small helpers that both host code (compiled by g++ too) and kernels call.
#ifdef __CUDACC__
#define TFMATH_HOST_DEVICE __host__ __device__
#else
#define TFMATH_HOST_DEVICE
#endif

namespace tfmath::cuda {

// Throws std::runtime_error("WHAT: CUDA's message") unless `status` is cudaSuccess.
void check(cudaError_t status, const char* what);
void check(cublasStatus_t status, const char* what);

// Devices this process can use; 0 when there is no driver or no GPU (never throws).
int deviceCount();

struct DeviceFree {
  void operator()(void* p) const { cudaFree(p); }
};

// `count` floats (or ints) of device memory, owned.
template <typename T>
using DeviceArray = std::unique_ptr<T[], DeviceFree>;
template <typename T>
DeviceArray<T> deviceArray(size_t count) {
  void* p = nullptr;
  check(cudaMalloc(&p, (count ? count : 1) * sizeof(T)), "cudaMalloc");
  return DeviceArray<T>(static_cast<T*>(p));
}

// A device buffer that keeps its allocation while the batch shrinks. Growing waits for the device
// first: queued kernels may still read the old buffer.
template <typename T>
struct Scratch {
  DeviceArray<T> data;
  size_t capacity = 0;
  T* reserve(size_t count) {
    if (count > capacity) {
      check(cudaDeviceSynchronize(), "wait for the device before growing a buffer");
      data = deviceArray<T>(count);
      capacity = count;
    }
    return data.get();
  }
};

// A CUDA stream and an event, owned. Streams are made non-blocking: they do not wait for the
// legacy default stream, on which the kernels run, so work on them overlaps the kernels; ordering
// between them is by events. Events keep no timing (cheaper to record and wait for).
struct StreamDestroy {
  void operator()(cudaStream_t s) const { cudaStreamDestroy(s); }
};
using Stream = std::unique_ptr<CUstream_st, StreamDestroy>;
Stream makeStream();
struct EventDestroy {
  void operator()(cudaEvent_t e) const { cudaEventDestroy(e); }
};
using Event = std::unique_ptr<CUevent_st, EventDestroy>;
Event makeEvent();
// `waiter` starts its next work only once the work queued on `stream` so far is done (nullptr is
// the legacy default stream). Does not block the host.
void order(cudaStream_t stream, cudaEvent_t marker, cudaStream_t waiter);

// Copies between host vectors and device memory (synchronous; for set-up, tests and checkpoints).
template <typename T>
DeviceArray<T> toDevice(const std::vector<T>& host) {
  auto d = deviceArray<T>(host.size());
  check(cudaMemcpy(d.get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
        "cudaMemcpy to the device");
  return d;
}
template <typename T>
std::vector<T> toHost(const T* device, size_t count) {
  std::vector<T> host(count);
  check(cudaMemcpy(host.data(), device, count * sizeof(T), cudaMemcpyDeviceToHost),
        "cudaMemcpy to the host");
  return host;
}

// One cuBLAS handle, owned.
class Blas {
 public:
  Blas();
  ~Blas();
  Blas(const Blas&) = delete;
  Blas& operator=(const Blas&) = delete;
  cublasHandle_t handle() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

// C (m×n, row-major, leading dimension ldc) = α·op(A)·op(B) + β·C with row-major A and B, as
// ops/gemm.h defines it for the CPU. cuBLAS is column-major, so this computes Cᵀ = op(B)ᵀ·op(A)ᵀ.
void gemm(const Blas& blas, bool transA, bool transB, int m, int n, int k, float alpha,
          const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc);

// Threads per block for the element-wise kernels, and the blocks that cover `n` elements.
constexpr int kThreads = 256;
inline int blocksFor(long n) { return static_cast<int>((n + kThreads - 1) / kThreads); }

}  // namespace tfmath::cuda
