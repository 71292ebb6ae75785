// gloo_communicator.cc: Gloo set-up and the segmented ring allreduce.
#include "train/gloo_communicator.h"

#include <gloo/transport/tcp/device.h>

#include <algorithm>

namespace tfmath {

GlooCommunicator::GlooCommunicator(gloo::rendezvous::Store& store, int rank, int size,
                                   const std::string& host, std::chrono::milliseconds timeout)
    : rank_(rank), size_(size) {
  gloo::transport::tcp::attr attr;
  attr.hostname = host;
  auto device = gloo::transport::tcp::CreateDevice(attr);
  context_ = std::make_shared<gloo::rendezvous::Context>(rank, size);
  context_->setTimeout(timeout);  // bounds every read and write of the synchronous pairs
  context_->connectFullMesh(store, device);
  for (int r = 0; r < size; ++r)
    if (r != rank) context_->getPair(r)->setSync(true, false);
}

void GlooCommunicator::allreduceSum(std::span<float> grads, std::span<double> stats) {
  if (size_ == 1) return;
  if (gradients_.empty() || gradientsAt_ != grads.data() || gradientsSize_ != grads.size()) {
    gradientsAt_ = grads.data();
    gradientsSize_ = grads.size();
    gradients_.clear();
    const size_t segment = kSegmentBytes / sizeof(float);
    for (size_t at = 0; at < grads.size(); at += segment)
      gradients_.push_back(std::make_unique<gloo::AllreduceRing<float>>(
          context_, std::vector<float*>{gradientsAt_ + at},
          static_cast<int>(std::min(segment, grads.size() - at))));
  }
  for (auto& ring : gradients_) ring->run();
  if (stats.empty()) return;
  if (!statistics_ || stats_.size() != stats.size()) {
    stats_.assign(stats.size(), 0.0);
    statistics_ = std::make_unique<gloo::AllreduceRing<double>>(
        context_, std::vector<double*>{stats_.data()}, static_cast<int>(stats_.size()));
  }
  std::copy(stats.begin(), stats.end(), stats_.begin());
  statistics_->run();
  std::copy(stats_.begin(), stats_.end(), stats.begin());
}

}  // namespace tfmath
