// gloo_communicator.h: the cluster's gradient hand-off for CPU ranks: Gloo's allreduce over TCP,
// bootstrapped through a rendezvous store. Every collective has a timeout, so none waits forever.
// Not thread-safe: used by the one training thread.
#pragma once

#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/store.h>

#include <chrono>
#include <memory>
#include <string>

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
};

}  // namespace tfmath
