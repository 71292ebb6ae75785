// nccl_communicator.cc: NCCL set-up through the store, and the checked, deadline-bound allreduce.
#include "nccl_communicator.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstring>
#include <stdexcept>
#include <thread>

#include "cuda_check.cuh"

namespace tfmath {

struct NcclCommunicator::State {
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  cuda::DeviceArray<double> stats;
  size_t statsSize = 0;
  bool aborted = false;
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
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  checkNccl(ncclCommInitRankConfig(&state_->comm, size, id, rank, &config), "ncclCommInitRank");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ncclResult_t status = ncclInProgress;
  while (status == ncclInProgress) {
    checkNccl(ncclCommGetAsyncError(state_->comm, &status), "ncclCommGetAsyncError");
    if (status == ncclInProgress && std::chrono::steady_clock::now() > deadline) {
      ncclCommAbort(state_->comm);
      state_->aborted = true;
      throw std::runtime_error("NCCL: the other ranks did not join within " +
                               std::to_string(timeout.count() / 1000) + " s");
    }
    if (status == ncclInProgress) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  checkNccl(status, "ncclCommInitRank");
}

NcclCommunicator::~NcclCommunicator() {
  if (state_->comm && !state_->aborted) ncclCommDestroy(state_->comm);
  if (state_->stream) cudaStreamDestroy(state_->stream);
}

void NcclCommunicator::allreduceSum(std::span<float> grads, std::span<double> stats) {
  if (stats.size() > state_->statsSize) {
    state_->stats = cuda::deviceArray<double>(stats.size());
    state_->statsSize = stats.size();
  }
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
  cuda::check(cudaMemcpyAsync(stats.data(), state_->stats.get(), stats.size() * sizeof(double),
                              cudaMemcpyDeviceToHost, state_->stream),
              "copy the statistics to the host");
  // Wait with a deadline, watching for NCCL's asynchronous errors (a peer that died).
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (cudaStreamQuery(state_->stream) == cudaErrorNotReady) {
    ncclResult_t async = ncclSuccess;
    ncclCommGetAsyncError(state_->comm, &async);
    const bool late = std::chrono::steady_clock::now() > deadline;
    if ((async != ncclSuccess && async != ncclInProgress) || late) {
      ncclCommAbort(state_->comm);
      state_->aborted = true;
      throw std::runtime_error(
          late ? "NCCL allreduce timed out after " + std::to_string(timeout_.count() / 1000) + " s"
               : std::string("NCCL allreduce failed: ") + ncclGetErrorString(async));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  cuda::check(cudaGetLastError(), "NCCL allreduce");
}

}  // namespace tfmath
