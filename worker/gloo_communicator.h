// gloo_communicator.h: the cluster's gradient hand-off for CPU ranks: Gloo's ring allreduce over
// TCP, bootstrapped through a rendezvous store. Every collective has a timeout, so none waits
// forever. The pairs run in Gloo's synchronous mode: the training thread reads and writes the
// sockets itself, instead of Gloo's event-loop thread, which spins on epoll while a collective runs
// (pytorch/gloo#246) and, with one worker per core, takes half a core from the other worker.
// Not thread-safe: used by the one training thread.
#pragma once

#include <gloo/allreduce_ring.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/store.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "communicator.h"

namespace tfmath {

class GlooCommunicator final : public Communicator {
 public:
  // Connects all `size` ranks; `host` is the address this rank's Gloo device listens on.
  GlooCommunicator(gloo::rendezvous::Store& store, int rank, int size, const std::string& host,
                   std::chrono::milliseconds timeout);
  int rank() const override { return rank_; }
  int worldSize() const override { return size_; }
  void allreduceSum(std::span<float> grads, std::span<double> stats) override;

 private:
  int rank_, size_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<gloo::rendezvous::Context> context_;
  // Built for one gradient buffer and reused every step; rebuilt if the buffer moves.
  std::unique_ptr<gloo::AllreduceRing<float>> gradients_;
  float* gradientsAt_ = nullptr;
  size_t gradientsSize_ = 0;
  std::vector<double> stats_;  // a stable home for the per-step statistics
  std::unique_ptr<gloo::AllreduceRing<double>> statistics_;
};

}  // namespace tfmath
