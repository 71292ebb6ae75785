// gloo_communicator.h: the cluster's gradient hand-off for CPU ranks: Gloo's ring allreduce over
// TCP, bootstrapped through a rendezvous store. Every collective has a timeout, so none waits
// forever. Not thread-safe: used by the one training thread.
//
// The ring runs on synchronous pairs: the training thread reads and writes the sockets itself. In
// Gloo's default mode its event-loop thread moves the data and spins while it waits
// (pytorch/gloo#246); with one worker per core that thread takes the other worker's core
// (fashion_mlp on 2 workers: 47.7k samples/s against 104k). A synchronous ring deadlocks when both
// ranks write more than their sockets buffer at once (one 64 MB ring did), so the buffer is reduced
// in segments of kSegmentBytes: each round writes kSegmentBytes / world (256 KB with 2 ranks),
// which loopback and LAN sockets take whole. Smaller segments cost a round trip each (128 KB
// segments: 71k samples/s). If a peer's buffers were smaller still, a write would end at the
// collective timeout, not hang.
#pragma once

#include <gloo/allreduce_ring.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/store.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "train/communicator.h"

namespace tfmath {

class GlooCommunicator final : public Communicator {
 public:
  static constexpr size_t kSegmentBytes = 512 << 10;

  // Connects all `size` ranks; `host` is the address this rank's Gloo device listens on.
  GlooCommunicator(gloo::rendezvous::Store& store, int rank, int size, const std::string& host,
                   std::chrono::milliseconds timeout);
  int rank() const override { return rank_; }
  int worldSize() const override { return size_; }
  void allreduceSum(std::span<float> grads, std::span<double> stats) override;

 private:
  int rank_, size_;
  std::shared_ptr<gloo::rendezvous::Context> context_;
  // One ring per segment of the gradient buffer, built once and reused every step; rebuilt if the
  // buffer moves.
  std::vector<std::unique_ptr<gloo::AllreduceRing<float>>> gradients_;
  float* gradientsAt_ = nullptr;
  size_t gradientsSize_ = 0;
  std::vector<double> stats_;  // a stable home for the per-step statistics
  std::unique_ptr<gloo::AllreduceRing<double>> statistics_;
};

}  // namespace tfmath
