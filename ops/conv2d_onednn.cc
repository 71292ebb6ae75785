// conv2d_onednn.cc: the oneDNN primitives of one convolution, made once per batch size.
#include "ops/conv2d_onednn.h"

#include "ops/onednn.h"
#include "ops/threads.h"

namespace tfmath {

namespace {

using Tag = dnnl::memory::format_tag;
using Dims = dnnl::memory::dims;
constexpr auto kF32 = dnnl::memory::data_type::f32;

// A memory object over caller-owned floats; its pointer is set before each use.
dnnl::memory userMemory(const dnnl::memory::desc& desc) {
  return dnnl::memory(desc, onednnEngine(), DNNL_MEMORY_NONE);
}

// Where the primitive wants `wanted` and tfmath keeps `user`: a buffer of the primitive's layout
// and the reorder into it (from user) or out of it (to user); no buffer when the layouts agree.
struct Relayout {
  dnnl::memory inner;
  dnnl::reorder reorder;
  Relayout(const dnnl::memory::desc& wanted, dnnl::memory& user, bool toUser) {
    if (wanted == user.get_desc()) return;
    inner = dnnl::memory(wanted, onednnEngine());
    reorder = toUser ? dnnl::reorder(inner, user) : dnnl::reorder(user, inner);
  }
};

}  // namespace

struct OneDnnConv2d::Passes {
  dnnl::stream stream{onednnEngine()};
  dnnl::memory x, y, kernel, bias, dy, dx, dKernel, dBias;  // tfmath's buffers
  dnnl::convolution_forward forward, forwardRelu;           // forwardRelu: relu as a post-op
  dnnl::convolution_backward_weights backwardWeights;
  dnnl::convolution_backward_data backwardData;
  std::unique_ptr<Relayout> forwardKernel, forwardReluKernel, weightsGradient, backwardKernel;

  Passes(const ConvGeometry& g, int64_t n) {
    const dnnl::memory::desc image({n, g.c, g.h, g.w}, kF32, Tag::nhwc),
        out({n, g.filters, g.outH, g.outW}, kF32, Tag::nhwc),
        kernelDesc({g.filters, g.c, g.kernel, g.kernel}, kF32, Tag::hwio),
        anyKernel({g.filters, g.c, g.kernel, g.kernel}, kF32, Tag::any),
        biasDesc({g.filters}, kF32, Tag::x);
    const Dims strides{g.stride, g.stride}, before{g.padTop, g.padLeft},
        after{g.padBottom, g.padRight};
    x = userMemory(image);
    dx = userMemory(image);
    y = userMemory(out);
    dy = userMemory(out);
    kernel = userMemory(kernelDesc);
    dKernel = userMemory(kernelDesc);
    bias = userMemory(biasDesc);
    dBias = userMemory(biasDesc);

    const auto algorithm = dnnl::algorithm::convolution_direct;
    const dnnl::convolution_forward::desc forwardDesc(dnnl::prop_kind::forward_training, algorithm,
                                                      image, anyKernel, biasDesc, out, strides,
                                                      before, after);
    const dnnl::convolution_forward::primitive_desc forwardPd(forwardDesc, onednnEngine());
    forward = dnnl::convolution_forward(forwardPd);
    forwardKernel = std::make_unique<Relayout>(forwardPd.weights_desc(), kernel, false);
    dnnl::post_ops relu;
    relu.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    dnnl::primitive_attr withRelu;
    withRelu.set_post_ops(relu);
    const dnnl::convolution_forward::primitive_desc reluPd(forwardDesc, withRelu, onednnEngine());
    forwardRelu = dnnl::convolution_forward(reluPd);
    forwardReluKernel = std::make_unique<Relayout>(reluPd.weights_desc(), kernel, false);

    const dnnl::convolution_backward_weights::primitive_desc weightsPd(
        {algorithm, image, anyKernel, biasDesc, out, strides, before, after}, onednnEngine(),
        forwardPd);
    backwardWeights = dnnl::convolution_backward_weights(weightsPd);
    weightsGradient = std::make_unique<Relayout>(weightsPd.diff_weights_desc(), dKernel, true);

    const dnnl::convolution_backward_data::primitive_desc dataPd(
        {algorithm, image, anyKernel, out, strides, before, after}, onednnEngine(), forwardPd);
    backwardData = dnnl::convolution_backward_data(dataPd);
    backwardKernel = std::make_unique<Relayout>(dataPd.weights_desc(), kernel, false);
  }

  // The kernel in the layout a pass wants: reordered into its buffer, or tfmath's own.
  dnnl::memory kernelFor(Relayout& layout) {
    if (!layout.inner) return kernel;
    layout.reorder.execute(stream, kernel, layout.inner);
    return layout.inner;
  }
};

OneDnnConv2d::OneDnnConv2d(const ConvGeometry& g) : g_(g) {}
OneDnnConv2d::~OneDnnConv2d() = default;

OneDnnConv2d::Passes& OneDnnConv2d::passes(int64_t n) {
  applyComputeThreads();
  auto& p = byBatch_[n];
  if (!p) p = std::make_unique<Passes>(g_, n);
  return *p;
}

// The data handles are set on the memory objects made once; oneDNN only reads through the const
// ones.
void OneDnnConv2d::forward(int64_t n, const float* x, const float* kernel, const float* bias,
                           float* y, bool relu) {
  Passes& p = passes(n);
  p.x.set_data_handle(const_cast<float*>(x));
  p.kernel.set_data_handle(const_cast<float*>(kernel));
  p.bias.set_data_handle(const_cast<float*>(bias));
  p.y.set_data_handle(y);
  const dnnl::memory weights = p.kernelFor(relu ? *p.forwardReluKernel : *p.forwardKernel);
  (relu ? p.forwardRelu : p.forward)
      .execute(p.stream, {{DNNL_ARG_SRC, p.x},
                          {DNNL_ARG_WEIGHTS, weights},
                          {DNNL_ARG_BIAS, p.bias},
                          {DNNL_ARG_DST, p.y}});
  p.stream.wait();
}

void OneDnnConv2d::backwardWeights(int64_t n, const float* x, const float* dy, float* dKernel,
                                   float* dBias) {
  Passes& p = passes(n);
  p.x.set_data_handle(const_cast<float*>(x));
  p.dy.set_data_handle(const_cast<float*>(dy));
  p.dKernel.set_data_handle(dKernel);
  p.dBias.set_data_handle(dBias);
  Relayout& layout = *p.weightsGradient;
  p.backwardWeights.execute(p.stream,
                            {{DNNL_ARG_SRC, p.x},
                             {DNNL_ARG_DIFF_DST, p.dy},
                             {DNNL_ARG_DIFF_WEIGHTS, layout.inner ? layout.inner : p.dKernel},
                             {DNNL_ARG_DIFF_BIAS, p.dBias}});
  if (layout.inner) layout.reorder.execute(p.stream, layout.inner, p.dKernel);
  p.stream.wait();
}

void OneDnnConv2d::backwardData(int64_t n, const float* dy, const float* kernel, float* dx) {
  Passes& p = passes(n);
  p.dy.set_data_handle(const_cast<float*>(dy));
  p.kernel.set_data_handle(const_cast<float*>(kernel));
  p.dx.set_data_handle(dx);
  const dnnl::memory weights = p.kernelFor(*p.backwardKernel);
  p.backwardData.execute(
      p.stream,
      {{DNNL_ARG_DIFF_DST, p.dy}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, p.dx}});
  p.stream.wait();
}

}  // namespace tfmath
