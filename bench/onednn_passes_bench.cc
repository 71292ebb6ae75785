// onednn_passes_bench.cc: what oneDNN could take over beyond the convolutions, on fashion_cnn's
// shapes (batch 64), at 1 and 2 threads: (1) a convolution with relu fused as a post-op against
// the same convolution followed by tfmath's relu pass, and (2) oneDNN's max pooling (forward with
// its workspace, and backward) against tfmath's reference window search. Prints µs per call, the
// median of REPEATS (default 5) timings of 100 calls each. Usage: onednn_passes_bench
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <dnnl.hpp>
#include <memory>
#include <vector>

#include "bench/median_micros.h"
#include "ops/activation.h"
#include "ops/pool.h"
#include "ops/threads.h"

namespace {

using tfmath::Shape;
using tfmath::Tensor;
using Tag = dnnl::memory::format_tag;
constexpr auto kF32 = dnnl::memory::data_type::f32;

// Values in [-1, 1) without ties in a pooling window, the same on every run.
Tensor filled(const Shape& shape) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.size(); ++i)
    t[i] = static_cast<float>((i * 7919) % 100003) / 50001.5f - 1.0f;
  return t;
}

// fashion_cnn's convolutions: 3×3, same padding, stride 1, then relu.
struct Conv {
  int64_t n, h, w, c, filters;
};

void convWithRelu(dnnl::engine& engine, dnnl::stream& stream, const Conv& k, int repeats) {
  const dnnl::memory::desc image({k.n, k.c, k.h, k.w}, kF32, Tag::nhwc),
      out({k.n, k.filters, k.h, k.w}, kF32, Tag::nhwc),
      weights({k.filters, k.c, 3, 3}, kF32, Tag::any), bias({k.filters}, kF32, Tag::x);
  const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training,
                                             dnnl::algorithm::convolution_direct, image, weights,
                                             bias, out, {1, 1}, {1, 1}, {1, 1});
  dnnl::post_ops relu;
  relu.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(relu);
  const dnnl::convolution_forward::primitive_desc plainPd(desc, engine),
      fusedPd(desc, attr, engine);
  dnnl::convolution_forward plain(plainPd), fused(fusedPd);
  Tensor x = filled({k.n, k.h, k.w, k.c}), y({k.n, k.h, k.w, k.filters}), relued;
  std::vector<float> plainKernel(plainPd.weights_desc().get_size() / sizeof(float), 0.01f),
      fusedKernel(fusedPd.weights_desc().get_size() / sizeof(float), 0.01f),
      b(static_cast<size_t>(k.filters), 0.0f);
  dnnl::memory xm(image, engine, x.data()), ym(out, engine, y.data()),
      pk(plainPd.weights_desc(), engine, plainKernel.data()),
      fk(fusedPd.weights_desc(), engine, fusedKernel.data()), bm(bias, engine, b.data());
  const Shape perSample{k.h, k.w, k.filters};
  auto reluLayer = tfmath::reluOp().cpu({tfmath::proto::Layer::Reader(), perSample});
  const double separate = medianMicros(
      [&] {
        plain.execute(
            stream,
            {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, pk}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, ym}});
        stream.wait();
        reluLayer->forward(y, relued);
      },
      repeats, 100);
  const double together = medianMicros(
      [&] {
        fused.execute(
            stream,
            {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, fk}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, ym}});
        stream.wait();
      },
      repeats, 100);
  std::printf("conv %lldx%lldx%lld -> %lld + relu   separate %8.1f   post-op %8.1f   (%.2fx)\n",
              static_cast<long long>(k.h), static_cast<long long>(k.w), static_cast<long long>(k.c),
              static_cast<long long>(k.filters), separate, together, separate / together);
}

// fashion_cnn's max pooling: 2×2, stride 2.
void maxPool(dnnl::engine& engine, dnnl::stream& stream, const Conv& k, int repeats) {
  const int64_t oh = k.h / 2, ow = k.w / 2;
  const dnnl::memory::desc in({k.n, k.c, k.h, k.w}, kF32, Tag::nhwc),
      out({k.n, k.c, oh, ow}, kF32, Tag::nhwc);
  const dnnl::pooling_forward::desc forwardDesc(dnnl::prop_kind::forward_training,
                                                dnnl::algorithm::pooling_max, in, out, {2, 2},
                                                {2, 2}, {0, 0}, {0, 0});
  const dnnl::pooling_forward::primitive_desc forwardPd(forwardDesc, engine);
  const dnnl::pooling_backward::desc backwardDesc(dnnl::algorithm::pooling_max, in, out, {2, 2},
                                                  {2, 2}, {0, 0}, {0, 0});
  const dnnl::pooling_backward::primitive_desc backwardPd(backwardDesc, engine, forwardPd);
  dnnl::pooling_forward forward(forwardPd);
  dnnl::pooling_backward backward(backwardPd);
  Tensor x = filled({k.n, k.h, k.w, k.c}), y({k.n, oh, ow, k.c}), dy = filled({k.n, oh, ow, k.c}),
         dx({k.n, k.h, k.w, k.c});
  dnnl::memory xm(in, engine, x.data()), ym(out, engine, y.data()), dym(out, engine, dy.data()),
      dxm(in, engine, dx.data()), workspace(forwardPd.workspace_desc(), engine);
  const double oneDnnForward = medianMicros(
      [&] {
        forward.execute(stream,
                        {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DST, ym}, {DNNL_ARG_WORKSPACE, workspace}});
        stream.wait();
      },
      repeats, 100);
  const double oneDnnBackward = medianMicros(
      [&] {
        backward.execute(
            stream,
            {{DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_DIFF_SRC, dxm}, {DNNL_ARG_WORKSPACE, workspace}});
        stream.wait();
      },
      repeats, 100);
  tfmath::MaxPool2d pool({k.h, k.w, k.c}, 2, 2, tfmath::PoolEngine::reference);
  Tensor ty, tdx;
  const double ownForward = medianMicros([&] { pool.forward(x, ty); }, repeats, 100);
  const double ownBackward = medianMicros([&] { pool.backward(x, ty, dy, &tdx); }, repeats, 100);
  std::printf(
      "maxPool2d %lldx%lldx%lld   tfmath fwd %7.1f bwd %7.1f   oneDNN fwd %7.1f bwd %7.1f   "
      "(tfmath/oneDNN %.2fx)\n",
      static_cast<long long>(k.h), static_cast<long long>(k.w), static_cast<long long>(k.c),
      ownForward, ownBackward, oneDnnForward, oneDnnBackward,
      (ownForward + ownBackward) / (oneDnnForward + oneDnnBackward));
}

}  // namespace

int main() {
  const char* env = std::getenv("REPEATS");
  const int repeats = env ? std::max(1, std::atoi(env)) : 5;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const Conv convs[] = {{64, 28, 28, 1, 16}, {64, 14, 14, 16, 32}};
  const Conv pools[] = {{64, 28, 28, 16, 0}, {64, 14, 14, 32, 0}};
  for (int threads : {1, 2}) {
    tfmath::setComputeThreads(threads);
    tfmath::applyComputeThreads();
    std::printf("== %d thread(s), µs per call\n", threads);
    for (const Conv& k : convs) convWithRelu(engine, stream, k, repeats);
    for (const Conv& k : pools) maxPool(engine, stream, k, repeats);
  }
}
