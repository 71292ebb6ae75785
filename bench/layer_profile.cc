// layer_profile.cc: times each layer's forward and backward for a job's model at its batch size, on
// random inputs, and the host's input work per step (gather and staging copy), to show where a
// training step's time goes, on computeThreads() threads (1, or THREADS). CONV=im2col runs the
// convolutions on the im2col + GEMM reference instead of the build's fastest engine.
// Usage: [CONV=im2col] [THREADS=N] layer_profile JOB.capnp [STEPS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "jobs/data_check.h"
#include "jobs/job_file.h"
#include "ops/conv2d.h"
#include "ops/model.h"
#include "ops/rng.h"
#include "ops/threads.h"

using namespace tfmath;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: layer_profile JOB.capnp [STEPS]\n");
    return 2;
  }
  const int steps = argc > 2 ? std::stoi(argv[2]) : 50;
  JobFile file = JobFile::load(argv[1]);
  const Data data = validateJob(file.job());
  Model model(file.job().getModel(), data.train.sampleShape());
  model.initialize(1);
  if (const char* threads = std::getenv("THREADS")) setComputeThreads(std::stoi(threads));
  // The model's layers, or for CONV=im2col each conv2d rebuilt on the reference engine, bound to
  // the same parameters.
  const bool im2col = std::getenv("CONV") && std::string(std::getenv("CONV")) == "im2col";
  std::vector<std::unique_ptr<Layer>> rebuilt;
  std::vector<Layer*> layers;
  for (size_t i = 0; i < model.layers().size(); ++i) {
    auto* conv = dynamic_cast<Conv2d*>(model.layers()[i].get());
    if (!im2col || !conv) {
      layers.push_back(model.layers()[i].get());
      continue;
    }
    const bool same =
        file.job().getModel()[model.jobLayer(i)].getConv2d().getPadding() == proto::Padding::SAME;
    rebuilt.push_back(std::make_unique<Conv2d>(conv->input(), conv->filters(), conv->kernel(),
                                               conv->stride(), same, ConvEngine::im2col));
    const auto [first, end] = model.paramsOf(i);
    rebuilt.back()->bindParams({model.params().begin() + first, model.params().begin() + end});
    layers.push_back(rebuilt.back().get());
  }
  std::printf("convolutions: %s, %d thread(s)\n", im2col ? "im2col + GEMM" : "the build's fastest",
              computeThreads());
  const int64_t batch = file.job().getBatchSize();

  std::vector<Tensor> acts(layers.size() + 1), grads(layers.size() + 1);
  Shape in{batch};
  for (int64_t d : data.train.sampleShape()) in.push_back(d);
  acts[0].resize(in);
  Rng rng(3);
  for (int64_t i = 0; i < acts[0].size(); ++i) acts[0][i] = static_cast<float>(rng.uniform());

  // As Model::backward: no input gradient at or below the first layer with parameters.
  size_t firstTrainable = 0;
  while (firstTrainable < layers.size() && layers[firstTrainable]->paramSpecs().empty())
    ++firstTrainable;
  std::vector<double> fwd(layers.size()), bwd(layers.size());
  for (int s = 0; s < steps + 3; ++s) {
    for (size_t i = 0; i < layers.size(); ++i) {
      auto t0 = Clock::now();
      layers[i]->forward(acts[i], acts[i + 1]);
      if (s >= 3) fwd[i] += std::chrono::duration<double>(Clock::now() - t0).count();
    }
    grads.back() = acts.back();
    for (size_t i = layers.size(); i-- > firstTrainable;) {
      auto t0 = Clock::now();
      layers[i]->backward(acts[i], acts[i + 1], grads[i + 1],
                          i > firstTrainable ? &grads[i] : nullptr);
      if (s >= 3) bwd[i] += std::chrono::duration<double>(Clock::now() - t0).count();
    }
  }
  double total = 0;
  for (size_t i = 0; i < layers.size(); ++i) total += fwd[i] + bwd[i];
  std::printf("%-4s %-12s %-16s %12s %12s %7s\n", "#", "op", "output", "forward ms", "backward ms",
              "share");
  for (size_t i = 0; i < layers.size(); ++i)
    std::printf("%-4zu %-12s %-16s %12.3f %12.3f %6.1f%%\n", i, layers[i]->op(),
                shapeString(layers[i]->outputShape()).c_str(), 1e3 * fwd[i] / steps,
                1e3 * bwd[i] / steps, 100 * (fwd[i] + bwd[i]) / total);
  std::printf("step (layers only): %.3f ms = %.0f samples/s\n", 1e3 * total / steps,
              batch * steps / total);

  // The host's input work per step, which a GPU step has to hide: gathering a batch of the
  // shuffled training set, then copying it into a staging buffer (the GPU backend's pinned one).
  const auto n = static_cast<uint32_t>(data.train.size());
  const std::vector<uint32_t> order = epochPermutation(1, 0, n);
  Tensor x, t;
  std::vector<float> staging;
  double gather = 0, copy = 0;
  for (int s = 0; s < steps + 3; ++s) {
    const int64_t first = (s * batch) % (n - std::min<int64_t>(batch, n) + 1);
    auto t0 = Clock::now();
    data.train.gather(order.data() + first, std::min<int64_t>(batch, n), x, t);
    auto t1 = Clock::now();
    staging.resize(static_cast<size_t>(x.size() + t.size()));
    std::memcpy(staging.data(), x.data(), x.size() * sizeof(float));
    std::memcpy(staging.data() + x.size(), t.data(), t.size() * sizeof(float));
    auto t2 = Clock::now();
    if (s >= 3) {
      gather += std::chrono::duration<double>(t1 - t0).count();
      copy += std::chrono::duration<double>(t2 - t1).count();
    }
  }
  std::printf("host input per step: gather %.3f ms, copy to staging %.3f ms\n",
              1e3 * gather / steps, 1e3 * copy / steps);
}
