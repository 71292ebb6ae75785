// gloo_communicator.cc: Gloo set-up and allreduce.
#include "gloo_communicator.h"

#include <gloo/allreduce.h>
#include <gloo/math.h>
#include <gloo/transport/tcp/device.h>

namespace tfmath {

GlooCommunicator::GlooCommunicator(gloo::rendezvous::Store& store, int rank, int size,
                                   const std::string& host, std::chrono::milliseconds timeout)
    : rank_(rank), size_(size), timeout_(timeout) {
  gloo::transport::tcp::attr attr;
  attr.hostname = host;
  auto device = gloo::transport::tcp::CreateDevice(attr);
  context_ = std::make_shared<gloo::rendezvous::Context>(rank, size);
  context_->setTimeout(timeout);
  context_->connectFullMesh(store, device);
}

void GlooCommunicator::allreduceSum(std::span<float> grads, std::span<double> stats) {
  {
    gloo::AllreduceOptions opts(context_);
    opts.setOutput(grads.data(), grads.size());
    opts.setReduceFunction(
        static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<float>));
    opts.setTimeout(timeout_);
    opts.setTag(0);
    gloo::allreduce(opts);
  }
  if (!stats.empty()) {
    gloo::AllreduceOptions opts(context_);
    opts.setOutput(stats.data(), stats.size());
    opts.setReduceFunction(
        static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<double>));
    opts.setTimeout(timeout_);
    opts.setTag(1);
    gloo::allreduce(opts);
  }
}

}  // namespace tfmath
