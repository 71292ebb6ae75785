// nccl_communicator.cc: NCCL set-up through the store, and the checked, deadline-bound allreduce.
#include "train/nccl_communicator.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "base/assert.h"
#include "kernels/cuda_check.cuh"

namespace tfmath {

struct NcclCommunicator::State {
  ncclComm_t comm = nullptr;
  cuda::Stream stream;
  cuda::Event gradientsQueued;  // on the default stream: up to where backward has queued
  cuda::DeviceArray<double> stats;
  double* hostStats = nullptr;  // pinned: a copy into it never blocks the host
  size_t statsSize = 0;
  bool aborted = false;
  bool inFlight = false;  // collectives queued and not yet waited for
  ~State() {
    if (comm && !aborted) ncclCommDestroy(comm);
    if (hostStats) cudaFreeHost(hostStats);
  }
  void abort() {
    if (comm && !aborted) ncclCommAbort(comm);
    aborted = true;
  }
  // A collective call: on failure, aborts (ending what is in flight) and throws.
  void call(ncclResult_t result, const char* what) {
    if (result == ncclSuccess || result == ncclInProgress) return;
    abort();
    throw std::runtime_error(std::string("NCCL ") + what + ": " + ncclGetErrorString(result));
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
      pause();
    }
  }
  // Waits until the stream has run everything queued on it, watching for NCCL's asynchronous
  // errors (a peer that died) and the deadline.
  void drain(std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds timeout) {
    while (cudaStreamQuery(stream.get()) == cudaErrorNotReady) {
      settle(deadline, timeout, "allreduce");
      if (std::chrono::steady_clock::now() > deadline) {
        abort();
        throw std::runtime_error("NCCL allreduce timed out after " +
                                 std::to_string(timeout.count() / 1000) + " s");
      }
      pause();
    }
    cuda::check(cudaStreamSynchronize(stream.get()), "NCCL allreduce");
    inFlight = false;
  }
  // Between polls: yields first (a step's collective usually ends within microseconds), then
  // sleeps, so a long wait does not hold a core.
  void pause() {
    if (++polls < 200)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  int polls = 0;
};

namespace {

constexpr const char* kUniqueIdKey = "nccl-unique-id";

void checkNccl(ncclResult_t result, const char* what) {
  if (result != ncclSuccess && result != ncclInProgress)
    throw std::runtime_error(std::string("NCCL ") + what + ": " + ncclGetErrorString(result));
}

}  // namespace

NcclCommunicator::NcclCommunicator(gloo::rendezvous::Store& store, int rank, int size, int device,
                                   std::chrono::milliseconds timeout, size_t bucketBytes)
    : rank_(rank),
      size_(size),
      timeout_(timeout),
      buckets_(bucketBytes / sizeof(float)),
      state_(std::make_unique<State>()) {
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
  state_->stream = cuda::makeStream();
  state_->gradientsQueued = cuda::makeEvent();
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

// A step that failed with collectives in flight: abort rather than destroy, which would wait for
// them.
NcclCommunicator::~NcclCommunicator() { abortCollectives(); }

void NcclCommunicator::abortCollectives() {
  if (state_->inFlight) state_->abort();
}

void NcclCommunicator::startBucket(std::span<float> part) {
  if (!started_) deadline_ = std::chrono::steady_clock::now() + timeout_;
  started_ = true;
  cuda::order(nullptr, state_->gradientsQueued.get(), state_->stream.get());
  state_->inFlight = true;
  state_->call(ncclAllReduce(part.data(), part.data(), part.size(), ncclFloat, ncclSum,
                             state_->comm, state_->stream.get()),
               "ncclAllReduce (gradients)");
  // Non-blocking: the call may still be being queued; the next NCCL call waits for that.
  state_->polls = 0;
  state_->settle(deadline_, timeout_, "allreduce");
}

void NcclCommunicator::gradientsFinalFrom(std::span<float> grads, size_t offset) {
  const FloatRange bucket = buckets_.finalFrom(grads.size(), offset);
  if (!bucket.empty()) startBucket(grads.subspan(bucket.begin, bucket.size()));
}

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
  const FloatRange rest = buckets_.rest(grads.size());
  TFMATH_ASSERT(rest.begin == 0, rest.begin, rest.end);
  if (!started_) deadline_ = std::chrono::steady_clock::now() + timeout_;
  started_ = false;
  // The rest of the gradients were written on the default stream: this stream starts after them.
  cuda::order(nullptr, state_->gradientsQueued.get(), state_->stream.get());
  std::copy(stats.begin(), stats.end(), state_->hostStats);
  cuda::check(cudaMemcpyAsync(state_->stats.get(), state_->hostStats, stats.size() * sizeof(double),
                              cudaMemcpyHostToDevice, state_->stream.get()),
              "copy the statistics to the device");
  state_->polls = 0;
  state_->inFlight = true;
  state_->call(ncclGroupStart(), "ncclGroupStart");
  if (!rest.empty())
    state_->call(ncclAllReduce(grads.data(), grads.data(), rest.size(), ncclFloat, ncclSum,
                               state_->comm, state_->stream.get()),
                 "ncclAllReduce (gradients)");
  state_->call(ncclAllReduce(state_->stats.get(), state_->stats.get(), stats.size(), ncclDouble,
                             ncclSum, state_->comm, state_->stream.get()),
               "ncclAllReduce (statistics)");
  state_->call(ncclGroupEnd(), "ncclGroupEnd");
  // Non-blocking: the group may still be being enqueued. Only then is the stream's order final.
  state_->settle(deadline_, timeout_, "allreduce");
  cuda::check(cudaMemcpyAsync(state_->hostStats, state_->stats.get(), stats.size() * sizeof(double),
                              cudaMemcpyDeviceToHost, state_->stream.get()),
              "copy the statistics to the host");
  state_->drain(deadline_, timeout_);
  std::copy(state_->hostStats, state_->hostStats + stats.size(), stats.begin());
}

}  // namespace tfmath
