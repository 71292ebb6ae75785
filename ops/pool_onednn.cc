// pool_onednn.cc: the oneDNN primitives of one max pooling, made once per batch size.
#include "ops/pool_onednn.h"

#include "ops/onednn.h"
#include "ops/threads.h"

namespace tfmath {

namespace {

using Tag = dnnl::memory::format_tag;
constexpr auto kF32 = dnnl::memory::data_type::f32;

}  // namespace

struct OneDnnMaxPool2d::Passes {
  dnnl::stream stream{onednnEngine()};
  dnnl::memory x, y, dy, dx, workspace;
  dnnl::pooling_forward forward;
  dnnl::pooling_backward backward;

  Passes(const PoolGeometry& g, int64_t n) {
    const dnnl::memory::desc in({n, g.c, g.h, g.w}, kF32, Tag::nhwc),
        out({n, g.c, g.outH, g.outW}, kF32, Tag::nhwc);
    // No padding: oneDNN's output size, ⌊(H − pool)/stride⌋ + 1, drops the windows past the
    // border as tfmath does.
    const dnnl::memory::dims window{g.pool, g.pool}, strides{g.stride, g.stride}, before{0, 0},
        after{0, 0};
    const dnnl::pooling_forward::primitive_desc forwardPd(
        {dnnl::prop_kind::forward_training, dnnl::algorithm::pooling_max, in, out, strides, window,
         before, after},
        onednnEngine());
    const dnnl::pooling_backward::primitive_desc backwardPd(
        {dnnl::algorithm::pooling_max, in, out, strides, window, before, after}, onednnEngine(),
        forwardPd);
    forward = dnnl::pooling_forward(forwardPd);
    backward = dnnl::pooling_backward(backwardPd);
    x = dnnl::memory(in, onednnEngine(), DNNL_MEMORY_NONE);
    dx = dnnl::memory(in, onednnEngine(), DNNL_MEMORY_NONE);
    y = dnnl::memory(out, onednnEngine(), DNNL_MEMORY_NONE);
    dy = dnnl::memory(out, onednnEngine(), DNNL_MEMORY_NONE);
    workspace = dnnl::memory(forwardPd.workspace_desc(), onednnEngine());
  }
};

OneDnnMaxPool2d::OneDnnMaxPool2d(const PoolGeometry& g) : g_(g) {
  try {
    passes(1);
    usable_ = true;
  } catch (const dnnl::error&) {
    usable_ = false;  // a geometry oneDNN does not take: the reference runs
  }
}

OneDnnMaxPool2d::~OneDnnMaxPool2d() = default;

OneDnnMaxPool2d::Passes& OneDnnMaxPool2d::passes(int64_t n) {
  applyComputeThreads();
  auto& p = byBatch_[n];
  if (!p) p = std::make_unique<Passes>(g_, n);
  return *p;
}

void OneDnnMaxPool2d::forward(int64_t n, const float* x, float* y) {
  Passes& p = passes(n);
  p.x.set_data_handle(const_cast<float*>(x));
  p.y.set_data_handle(y);
  p.forward.execute(p.stream,
                    {{DNNL_ARG_SRC, p.x}, {DNNL_ARG_DST, p.y}, {DNNL_ARG_WORKSPACE, p.workspace}});
  p.stream.wait();
}

void OneDnnMaxPool2d::backward(int64_t n, const float* dy, float* dx) {
  Passes& p = passes(n);
  p.dy.set_data_handle(const_cast<float*>(dy));
  p.dx.set_data_handle(dx);
  p.backward.execute(
      p.stream,
      {{DNNL_ARG_DIFF_DST, p.dy}, {DNNL_ARG_DIFF_SRC, p.dx}, {DNNL_ARG_WORKSPACE, p.workspace}});
  p.stream.wait();
}

}  // namespace tfmath
