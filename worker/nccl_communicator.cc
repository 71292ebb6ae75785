// nccl_communicator.cc: NCCL set-up through the store, and the checked, deadline-bound allreduce.
#include "nccl_communicator.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "cuda_check.cuh"

namespace tfmath {

struct NcclCommunicator::State {
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  cuda::DeviceArray<double> stats;
  double* hostStats = nullptr;  // pinned: a copy into it never blocks the host
  size_t statsSize = 0;
  bool aborted = false;
  ~State() {
    if (comm && !aborted) ncclCommDestroy(comm);
    if (stream) cudaStreamDestroy(stream);
    if (hostStats) cudaFreeHost(hostStats);
  }
  void abort() {
    if (comm && !aborted) ncclCommAbort(comm);
    aborted = true;
  }
  // Waits until the communicator has no operation in progress, within `deadline`; aborts and
  // throws on an NCCL error or at the deadline.
  void settle(std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds timeout,
              const char* what) {
    for (;;) {
      ncclResult_t status = ncclSuccess;
      const ncclResult_t asked = ncclCommGetAsyncError(comm, &status);
      if (asked != ncclSuccess) status = asked;
      if (status == ncclSuccess) return;
      if (status != ncclInProgress) {
        abort();
        throw std::runtime_error(std::string("NCCL ") + what +
                                 " failed: " + ncclGetErrorString(status));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        abort();
        throw std::runtime_error(std::string("NCCL ") + what + " timed out after " +
                                 std::to_string(timeout.count() / 1000) + " s");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
};

namespace {

constexpr const char* kUniqueIdKey = "nccl-unique-id";

void checkNccl(ncclResult_t result, const char* what) {
  if (result != ncclSuccess && result != ncclInProgress)
    throw std::runtime_error(std::string("NCCL ") + what + ": " + ncclGetErrorString(result));
}

}  // namespace

NcclCommunicator::NcclCommunicator(gloo::rendezvous::Store& store, int rank, int size, int device,
                                   std::chrono::milliseconds timeout)
    : rank_(rank), size_(size), timeout_(timeout), state_(std::make_unique<State>()) {
  cuda::check(cudaSetDevice(device), "cudaSetDevice");
  ncclUniqueId id;
  if (rank == 0) {
    checkNccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    store.set(kUniqueIdKey, std::vector<char>(id.internal, id.internal + sizeof id.internal));
  } else {
    store.wait({kUniqueIdKey}, timeout);
    const std::vector<char> bytes = store.get(kUniqueIdKey);
    if (bytes.size() != sizeof id.internal)
      throw std::runtime_error("the job's store holds a malformed NCCL id (" +
                               std::to_string(bytes.size()) + " bytes)");
    std::memcpy(id.internal, bytes.data(), sizeof id.internal);
  }
  cuda::check(cudaStreamCreateWithFlags(&state_->stream, cudaStreamNonBlocking),
              "cudaStreamCreate");
  // Non-blocking initialisation, so that a rank that never arrives is a timeout, not a hang.
  // (State's destructor frees the stream and aborts or destroys the communicator on every path.)
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  const ncclResult_t started = ncclCommInitRankConfig(&state_->comm, size, id, rank, &config);
  if (started != ncclSuccess && started != ncclInProgress) {
    state_->abort();
    throw std::runtime_error(std::string("NCCL ncclCommInitRank: ") + ncclGetErrorString(started));
  }
  state_->settle(std::chrono::steady_clock::now() + timeout, timeout,
                 "initialisation (did every rank join?)");
}

NcclCommunicator::~NcclCommunicator() = default;

void NcclCommunicator::allreduceSum(std::span<float> grads, std::span<double> stats) {
  if (stats.size() > state_->statsSize) {
    state_->stats = cuda::deviceArray<double>(stats.size());
    if (state_->hostStats) cudaFreeHost(state_->hostStats);
    state_->hostStats = nullptr;
    cuda::check(
        cudaMallocHost(reinterpret_cast<void**>(&state_->hostStats), stats.size() * sizeof(double)),
        "cudaMallocHost");
    state_->statsSize = stats.size();
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  // The gradients were written on the default stream: this stream starts after them.
  cuda::check(cudaStreamSynchronize(nullptr), "wait for backward");
  cuda::check(cudaMemcpyAsync(state_->stats.get(), stats.data(), stats.size() * sizeof(double),
                              cudaMemcpyHostToDevice, state_->stream),
              "copy the statistics to the device");
  checkNccl(ncclGroupStart(), "ncclGroupStart");
  checkNccl(ncclAllReduce(grads.data(), grads.data(), grads.size(), ncclFloat, ncclSum,
                          state_->comm, state_->stream),
            "ncclAllReduce (gradients)");
  checkNccl(ncclAllReduce(state_->stats.get(), state_->stats.get(), stats.size(), ncclDouble,
                          ncclSum, state_->comm, state_->stream),
            "ncclAllReduce (statistics)");
  checkNccl(ncclGroupEnd(), "ncclGroupEnd");
  // Non-blocking: the group may still be being enqueued. Only then is the stream's order final.
  state_->settle(deadline, timeout_, "allreduce");
  cuda::check(cudaMemcpyAsync(state_->hostStats, state_->stats.get(), stats.size() * sizeof(double),
                              cudaMemcpyDeviceToHost, state_->stream),
              "copy the statistics to the host");
  // Wait with a deadline, watching for NCCL's asynchronous errors (a peer that died).
  while (cudaStreamQuery(state_->stream) == cudaErrorNotReady) {
    state_->settle(deadline, timeout_, "allreduce");
    if (std::chrono::steady_clock::now() > deadline) {
      state_->abort();
      throw std::runtime_error("NCCL allreduce timed out after " +
                               std::to_string(timeout_.count() / 1000) + " s");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  cuda::check(cudaStreamSynchronize(state_->stream), "NCCL allreduce");
  std::copy(state_->hostStats, state_->hostStats + stats.size(), stats.begin());
}

}  // namespace tfmath
