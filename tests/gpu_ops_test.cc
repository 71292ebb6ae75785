// gpu_ops_test.cc: every CUDA kernel (kernels/) against its CPU op on random inputs: dense, conv2d
// (valid and same padding, strides 1 and 2), max and average pooling (overlapping windows too),
// dropout, the activations, flatten, both losses, SGD (momentum, Nesterov, weight decay), Adam
// and AdamW over several steps at a varying rate, and the clip's sum of squares; and the same bits
// from two runs. Tolerance: 1e-5 relative to the largest CPU value for element-wise ops and the
// losses; 1e-4 for the GEMM-based ops, whose sums cuBLAS orders differently from OpenBLAS.
// Without a CUDA device every test skips, saying so.
#include <capnp/message.h>
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/average_pool.cuh"
#include "kernels/conv2d.cuh"
#include "kernels/dense.cuh"
#include "kernels/gpu_layer.cuh"
#include "kernels/loss.cuh"
#include "kernels/optimizer.cuh"
#include "kernels/pool.cuh"
#include "ops/average_pool.h"
#include "ops/conv2d.h"
#include "ops/dense.h"
#include "ops/dropout.h"
#include "ops/loss.h"
#include "ops/optimizer.h"
#include "ops/pool.h"
#include "ops/registry.h"
#include "tests/conv_cases.h"
#include "tests/layer_params.h"

namespace tfmath {
namespace {

using testing::ConvCase;
using testing::Params;
using testing::randomTensor;

class Gpu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda::deviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  }
};

// max |gpu − cpu| / max(max |cpu|, 1e-3); infinite when a value is NaN or the sizes differ, so
// a kernel that writes garbage cannot pass.
double relativeError(const std::vector<float>& gpu, const float* cpu, size_t n) {
  if (gpu.size() != n) return INFINITY;
  double scale = 1e-3, worst = 0;
  for (size_t i = 0; i < n; ++i) {
    const double diff = std::abs(double(gpu[i]) - cpu[i]);
    if (std::isnan(diff)) return INFINITY;
    scale = std::max(scale, std::abs(double(cpu[i])));
    worst = std::max(worst, diff);
  }
  return worst / scale;
}

std::vector<float> asVector(const Tensor& t) { return {t.data(), t.data() + t.size()}; }
std::vector<float> download(const cuda::DeviceArray<float>& d, size_t n) {
  return cuda::toHost(d.get(), n);
}

// A parameterless layer's forward and backward on both devices, on x and a random dy: the CPU's
// y and dx, and the GPU's downloaded.
struct BothDevices {
  Tensor y, dx;
  std::vector<float> gpuY, gpuDx;
};
BothDevices runOnBoth(Layer& cpu, cuda::GpuLayer& gpu, const Tensor& x, Rng& rng) {
  BothDevices out;
  cpu.forward(x, out.y);
  const Tensor dy = randomTensor(out.y.shape(), rng);
  cpu.backward(x, out.y, dy, &out.dx);
  cuda::Blas blas;
  const int n = static_cast<int>(x.dim(0));
  auto gx = cuda::toDevice(asVector(x)), gdy = cuda::toDevice(asVector(dy));
  auto gy = cuda::deviceArray<float>(out.y.size()), gdx = cuda::deviceArray<float>(x.size());
  gpu.forward(blas, n, gx.get(), gy.get());
  gpu.backward(blas, n, gx.get(), gy.get(), gdy.get(), gdx.get());
  out.gpuY = download(gy, out.y.size());
  out.gpuDx = download(gdx, x.size());
  return out;
}

TEST_F(Gpu, DenseMatchesTheCpu) {
  Rng rng(1);
  const int n = 37, d = 53, u = 19;
  Dense layer({d}, u);
  Params p(layer, rng);
  Tensor x = randomTensor({n, d}, rng), y, dx;
  layer.forward(x, y);
  Tensor dy = randomTensor(y.shape(), rng);
  layer.backward(x, y, dy, &dx);

  cuda::Blas blas;
  auto gx = cuda::toDevice(asVector(x)), gw = cuda::toDevice(p.values[0]),
       gb = cuda::toDevice(p.values[1]), gdy = cuda::toDevice(asVector(dy));
  auto gy = cuda::deviceArray<float>(n * u), gdx = cuda::deviceArray<float>(n * d);
  auto gdw = cuda::toDevice(std::vector<float>(d * u, 0.0f)),
       gdb = cuda::toDevice(std::vector<float>(u, 0.0f));
  cuda::denseForward(blas, gx.get(), gw.get(), gb.get(), gy.get(), n, d, u);
  cuda::denseBackward(blas, gx.get(), gw.get(), gdy.get(), gdw.get(), gdb.get(), gdx.get(), n, d,
                      u);
  EXPECT_LE(relativeError(download(gy, n * u), y.data(), n * u), 1e-4);
  EXPECT_LE(relativeError(download(gdx, n * d), dx.data(), n * d), 1e-4);
  EXPECT_LE(relativeError(download(gdw, d * u), p.grads[0].data(), d * u), 1e-4);
  EXPECT_LE(relativeError(download(gdb, u), p.grads[1].data(), u), 1e-5);
}

class GpuConv : public Gpu, public ::testing::WithParamInterface<ConvCase> {};

TEST_P(GpuConv, MatchesTheCpu) {
  const ConvCase k = GetParam();
  Rng rng(2);
  const int n = 3;
  Conv2d layer({k.h, k.w, k.c}, k.filters, k.kernel, k.stride, k.same);
  Params p(layer, rng);
  Tensor x = randomTensor({n, k.h, k.w, k.c}, rng), y, dx;
  layer.forward(x, y);
  Tensor dy = randomTensor(y.shape(), rng);
  layer.backward(x, y, dy, &dx);

  const ConvAxis rows = convAxis(k.h, k.kernel, k.stride, k.same),
                 cols = convAxis(k.w, k.kernel, k.stride, k.same);
  const cuda::ConvShape s{n,
                          k.h,
                          k.w,
                          k.c,
                          k.filters,
                          k.kernel,
                          k.stride,
                          static_cast<int>(rows.out),
                          static_cast<int>(cols.out),
                          static_cast<int>(rows.padBefore),
                          static_cast<int>(cols.padBefore)};
  cuda::Blas blas;
  const size_t colSize = s.patchRows() * s.patchLength();
  auto gx = cuda::toDevice(asVector(x)), gk = cuda::toDevice(p.values[0]),
       gb = cuda::toDevice(p.values[1]), gdy = cuda::toDevice(asVector(dy));
  auto gy = cuda::deviceArray<float>(y.size()), gdx = cuda::deviceArray<float>(x.size());
  auto col = cuda::deviceArray<float>(colSize), dcol = cuda::deviceArray<float>(colSize);
  auto gdk = cuda::toDevice(std::vector<float>(p.values[0].size(), 0.0f)),
       gdb = cuda::toDevice(std::vector<float>(k.filters, 0.0f));
  cuda::conv2dForward(blas, s, gx.get(), gk.get(), gb.get(), col.get(), gy.get());
  cuda::conv2dBackward(blas, s, col.get(), gk.get(), gdy.get(), gdk.get(), gdb.get(), dcol.get(),
                       gdx.get());
  EXPECT_LE(relativeError(download(gy, y.size()), y.data(), y.size()), 1e-4);
  EXPECT_LE(relativeError(download(gdx, x.size()), dx.data(), x.size()), 1e-4);
  EXPECT_LE(relativeError(download(gdk, p.grads[0].size()), p.grads[0].data(), p.grads[0].size()),
            1e-4);
  EXPECT_LE(relativeError(download(gdb, k.filters), p.grads[1].data(), k.filters), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, GpuConv, ::testing::ValuesIn(testing::kConvCases));

TEST_F(Gpu, MaxPoolMatchesTheCpuExactly) {
  for (auto [pool, stride] : {std::pair{2, 2}, std::pair{3, 2}}) {  // disjoint and overlapping
    Rng rng(3);
    const int n = 2, h = 9, w = 8, c = 3;
    MaxPool2d layer({h, w, c}, pool, stride);
    // Values from {-1, 0, 1}: windows hold ties, so the first-maximum rule is checked too.
    Tensor x = randomTensor({n, h, w, c}, rng), y, dx;
    for (int64_t i = 0; i < x.size(); ++i) x[i] = std::round(x[i]);
    layer.forward(x, y);
    Tensor dy = randomTensor(y.shape(), rng);
    layer.backward(x, y, dy, &dx);
    const cuda::PoolShape s{n,
                            h,
                            w,
                            c,
                            pool,
                            stride,
                            static_cast<int>(poolAxis(h, pool, stride)),
                            static_cast<int>(poolAxis(w, pool, stride))};
    auto gx = cuda::toDevice(asVector(x)), gdy = cuda::toDevice(asVector(dy));
    auto gy = cuda::deviceArray<float>(y.size()), gdx = cuda::deviceArray<float>(x.size());
    auto arg = cuda::deviceArray<int>(y.size());
    cuda::maxPoolForward(s, gx.get(), gy.get(), arg.get());
    cuda::maxPoolBackward(s, arg.get(), gdy.get(), gdx.get());
    EXPECT_EQ(download(gy, y.size()), asVector(y)) << "pool " << pool << " stride " << stride;
    EXPECT_EQ(download(gdx, x.size()), asVector(dx)) << "pool " << pool << " stride " << stride;
  }
}

// Both average pools, built on both devices by their registry entries from a job's layer, as the
// CPU model and the GPU backend build them: the sums run in the same order, so within 1e-5.
TEST_F(Gpu, AveragePoolsMatchTheCpu) {
  const Shape input{9, 8, 3};
  for (int which = 0; which < 3; ++which) {  // disjoint windows, overlapping windows, global
    capnp::MallocMessageBuilder message;
    auto layer = message.initRoot<proto::Layer>();
    if (which < 2) {
      auto pool = layer.initAveragePool2d();
      pool.setPoolSize(which == 0 ? 2 : 3);
      pool.setStride(2);
    } else {
      layer.setGlobalAveragePool2d();
    }
    const LayerOp& op = which < 2 ? averagePool2dOp() : globalAveragePool2dOp();
    std::unique_ptr<Layer> cpu = op.cpu({layer.asReader(), input});
    std::unique_ptr<cuda::GpuLayer> gpu = op.gpu({layer.asReader(), input});
    Rng rng(8);
    const BothDevices r = runOnBoth(*cpu, *gpu, randomTensor({5, 9, 8, 3}, rng), rng);
    EXPECT_LE(relativeError(r.gpuY, r.y.data(), r.y.size()), 1e-5) << which;
    EXPECT_LE(relativeError(r.gpuDx, r.dx.data(), r.dx.size()), 1e-5) << which;
  }
}

// Dropout from its registry entry: the same hash on both devices, so the same bits, training and
// evaluating; the samples' indices travel in device memory.
TEST_F(Gpu, DropoutMatchesTheCpuBitForBit) {
  capnp::MallocMessageBuilder message;
  auto layer = message.initRoot<proto::Layer>();
  layer.initDropout().setRate(0.3);
  const Shape input{7, 5, 3};
  std::unique_ptr<Layer> cpu = dropoutOp().cpu({layer.asReader(), input, 4});
  std::unique_ptr<cuda::GpuLayer> gpu = dropoutOp().gpu({layer.asReader(), input, 4});
  Rng rng(10);
  const int n = 6;
  const std::vector<uint32_t> samples{50, 3, 999, 12, 7, 60000};
  auto gsamples = cuda::toDevice(samples);
  for (bool training : {true, false}) {
    cpu->setDraws({training, 21, 3, samples.data()});
    gpu->setDraws({training, 21, 3, gsamples.get()});
    const BothDevices r = runOnBoth(*cpu, *gpu, randomTensor({n, 7, 5, 3}, rng), rng);
    EXPECT_EQ(r.gpuY, asVector(r.y)) << "training " << training;
    EXPECT_EQ(r.gpuDx, asVector(r.dx)) << "training " << training;
  }
}

// The registry's parameterless ops (the activations and flatten), built on both devices by their
// entries, as the CPU model and the GPU backend build them.
TEST_F(Gpu, ActivationsAndFlattenMatchTheCpu) {
  const Shape perSample{101};
  int checked = 0;
  for (const LayerOp* op : layerOps()) {
    if (op->schemaCase != proto::Layer::ACTIVATION && op->schemaCase != proto::Layer::FLATTEN)
      continue;
    ++checked;
    Rng rng(4);
    std::unique_ptr<Layer> layer = op->cpu({proto::Layer::Reader(), perSample});
    std::unique_ptr<cuda::GpuLayer> gpu = op->gpu({proto::Layer::Reader(), perSample});
    const BothDevices r = runOnBoth(*layer, *gpu, randomTensor({7, 101}, rng), rng);
    EXPECT_LE(relativeError(r.gpuY, r.y.data(), r.y.size()), 1e-5) << op->math.name;
    EXPECT_LE(relativeError(r.gpuDx, r.dx.data(), r.dx.size()), 1e-5) << op->math.name;
  }
  EXPECT_EQ(checked, 4);  // relu, sigmoid, tanh, flatten
}

TEST_F(Gpu, LossesMatchTheCpu) {
  Rng rng(5);
  const int n = 33, k = 10;
  Tensor logits = randomTensor({n, k}, rng), labels({n, 1}), grad;
  for (int s = 0; s < n; ++s) labels[s] = static_cast<float>(s % k);
  for (int64_t i = 0; i < logits.size(); ++i) logits[i] *= 30;  // large logits: stability
  const LossSums cpu = softmaxCrossEntropy(logits, labels, &grad);
  auto gz = cuda::toDevice(asVector(logits)), gl = cuda::toDevice(asVector(labels));
  auto gg = cuda::deviceArray<float>(logits.size());
  auto sums = cuda::deviceArray<double>(2);
  cuda::softmaxCrossEntropy(gz.get(), gl.get(), gg.get(), n, k, sums.get());
  const std::vector<double> gpu = cuda::toHost(sums.get(), 2);
  EXPECT_NEAR(gpu[0], cpu.loss, 1e-5 * std::abs(cpu.loss));
  EXPECT_EQ(gpu[1], static_cast<double>(cpu.correct));
  EXPECT_LE(relativeError(download(gg, grad.size()), grad.data(), grad.size()), 1e-5);

  Tensor pred = randomTensor({n, 3}, rng), target = randomTensor({n, 3}, rng), dpred;
  const LossSums cpuMse = mse(pred, target, &dpred);
  auto gp = cuda::toDevice(asVector(pred)), gt = cuda::toDevice(asVector(target));
  auto gd = cuda::deviceArray<float>(pred.size());
  cuda::mse(gp.get(), gt.get(), gd.get(), n, 3, sums.get());
  const std::vector<double> gpuMse = cuda::toHost(sums.get(), 2);
  EXPECT_NEAR(gpuMse[0], cpuMse.loss, 1e-5 * cpuMse.loss);
  EXPECT_EQ(gpuMse[1], 0.0);
  EXPECT_LE(relativeError(download(gd, pred.size()), dpred.data(), pred.size()), 1e-5);
}

TEST_F(Gpu, OptimizersMatchTheCpuOverSeveralSteps) {
  const size_t size = 1000;
  Rng rng(6);
  std::vector<float> w0(size), grads[3];
  for (float& v : w0) v = static_cast<float>(rng.uniform(-1, 1));
  for (auto& g : grads) {
    g.resize(size);
    for (float& v : g) v = static_cast<float>(rng.uniform(-1, 1));
  }
  // 0: plain SGD with weight decay; 1: momentum; 2: Nesterov; 3: Adam; 4: AdamW. Each step at a
  // schedule's factor of its own.
  for (int which = 0; which < 5; ++which) {
    const float momentum = which == 0 ? 0.0f : 0.9f;
    SgdConfig sgd{0.1, momentum, 0.01, which == 2};
    AdamConfig adam{0.01, 0.9, 0.999, 1e-8, which == 4 ? 0.05 : 0.0};
    auto cpu = which < 3 ? makeSgd(sgd, size) : makeAdam(adam, size);
    std::vector<float> w = w0;
    auto gw = cuda::toDevice(w0), s0 = cuda::toDevice(std::vector<float>(size, 0.0f)),
         s1 = cuda::toDevice(std::vector<float>(size, 0.0f));
    for (uint64_t step = 1; step <= 3; ++step) {
      const auto& g = grads[step - 1];
      const double factor = 1.0 / static_cast<double>(step);
      cpu->update(w.data(), g.data(), step, factor);
      auto gg = cuda::toDevice(g);
      if (which < 3)
        cuda::sgdUpdate(gw.get(), gg.get(), s0.get(), size, static_cast<float>(0.1 * factor),
                        momentum, 0.01f, which == 2);
      else
        cuda::adamUpdate(gw.get(), gg.get(), s0.get(), s1.get(), size, 0.01 * factor, 0.9, 0.999,
                         1e-8, adam.weightDecay, step);
    }
    EXPECT_LE(relativeError(download(gw, size), w.data(), size), 1e-5) << "optimizer " << which;
    for (size_t slot = 0; slot < cpu->slotNames().size(); ++slot)
      EXPECT_LE(relativeError(download(slot == 0 ? s0 : s1, size), cpu->slot(slot).data(), size),
                1e-5)
          << "optimizer " << which << " slot " << cpu->slotNames()[slot];
  }
}

// The clip's sum of squares: against a double sum on the host, over sizes below, at and above
// one pass of the grid; and the same bits twice.
TEST_F(Gpu, SumOfSquaresMatchesTheHost) {
  auto partial = cuda::deviceArray<double>(cuda::kSumOfSquaresPartials);
  for (long size : {1L, 1000L, 65536L, 300001L}) {
    Rng rng(9);
    std::vector<float> v(static_cast<size_t>(size));
    double host = 0;
    for (float& e : v) {
      e = static_cast<float>(rng.uniform(-1, 1));
      host += static_cast<double>(e) * e;
    }
    auto gv = cuda::toDevice(v);
    const double first = cuda::sumOfSquares(gv.get(), size, partial.get());
    EXPECT_NEAR(first, host, 1e-12 * host) << size;
    EXPECT_EQ(cuda::sumOfSquares(gv.get(), size, partial.get()), first) << size;
  }
}

TEST_F(Gpu, TheSameInputsGiveTheSameBits) {
  Rng rng(7);
  const cuda::ConvShape s{4, 12, 12, 3, 6, 3, 1, 12, 12, 1, 1};
  const size_t in = 4 * 12 * 12 * 3, out = s.patchRows() * 6, colSize = s.patchRows() * 27;
  std::vector<float> x(in), k(27 * 6), b(6), dy(out);
  for (auto* v : {&x, &k, &b, &dy})
    for (float& e : *v) e = static_cast<float>(rng.uniform(-1, 1));
  cuda::Blas blas;
  auto gx = cuda::toDevice(x), gk = cuda::toDevice(k), gb = cuda::toDevice(b),
       gdy = cuda::toDevice(dy);
  std::vector<float> first;
  for (int run = 0; run < 2; ++run) {
    auto gy = cuda::deviceArray<float>(out), gdx = cuda::deviceArray<float>(in);
    auto col = cuda::deviceArray<float>(colSize), dcol = cuda::deviceArray<float>(colSize);
    auto gdk = cuda::toDevice(std::vector<float>(k.size(), 0.0f)),
         gdb = cuda::toDevice(std::vector<float>(6, 0.0f));
    cuda::conv2dForward(blas, s, gx.get(), gk.get(), gb.get(), col.get(), gy.get());
    cuda::conv2dBackward(blas, s, col.get(), gk.get(), gdy.get(), gdk.get(), gdb.get(), dcol.get(),
                         gdx.get());
    std::vector<float> all = download(gy, out);
    for (auto* part : {&gdx, &gdk, &gdb}) {
      const size_t n = part == &gdx ? in : part == &gdk ? k.size() : 6;
      auto host = download(*part, n);
      all.insert(all.end(), host.begin(), host.end());
    }
    if (run == 0)
      first = all;
    else
      EXPECT_EQ(all, first);
  }
}

}  // namespace
}  // namespace tfmath
