// model.cc: building the layers from the job, laying out parameters, initialisation, and the
// forward and backward passes over the layer list.
#include "ops/model.h"

#include <cmath>

#include "ops/activation.h"
#include "ops/conv2d.h"
#include "ops/dense.h"
#include "ops/flatten.h"
#include "ops/pool.h"
#include "ops/rng.h"

namespace tfmath {

namespace {

std::unique_ptr<Layer> activationLayer(proto::Activation a, const Shape& input) {
  switch (a) {
    case proto::Activation::RELU:
      return std::make_unique<Activation>(input, ActivationKind::kRelu);
    case proto::Activation::SIGMOID:
      return std::make_unique<Activation>(input, ActivationKind::kSigmoid);
    case proto::Activation::TANH:
      return std::make_unique<Activation>(input, ActivationKind::kTanh);
    case proto::Activation::NONE:
      break;
  }
  return nullptr;
}

}  // namespace

Model::Model(capnp::List<proto::Layer>::Reader layers, const Shape& input) {
  Shape shape = input;
  auto add = [&](std::unique_ptr<Layer> layer) {
    if (!layer) return;
    shape = layer->outputShape();
    layers_.push_back(std::move(layer));
  };
  std::vector<size_t> jobIndex;  // per built layer: the job's layer it came from, for names
  for (uint32_t i = 0; i < layers.size(); ++i) {
    auto l = layers[i];
    switch (l.which()) {
      case proto::Layer::DENSE:
        add(std::make_unique<Dense>(shape, l.getDense().getUnits()));
        add(activationLayer(l.getDense().getActivation(), shape));
        break;
      case proto::Layer::CONV2D: {
        auto c = l.getConv2d();
        add(std::make_unique<Conv2d>(shape, c.getFilters(), c.getKernelSize(), c.getStride(),
                                     c.getPadding() == proto::Padding::SAME));
        add(activationLayer(c.getActivation(), shape));
        break;
      }
      case proto::Layer::MAX_POOL2D: {
        auto p = l.getMaxPool2d();
        add(std::make_unique<MaxPool2d>(shape, p.getPoolSize(),
                                        p.getStride() ? p.getStride() : p.getPoolSize()));
        break;
      }
      case proto::Layer::FLATTEN:
        add(std::make_unique<Flatten>(shape));
        break;
      case proto::Layer::ACTIVATION:
        add(activationLayer(l.getActivation(), shape));
        break;
    }
    jobIndex.resize(layers_.size(), i);
  }

  // Lay out every parameter in one flat buffer, in layer order.
  size_t total = 0;
  std::vector<size_t> offset;  // per param: where it starts in the flat buffers
  for (size_t li = 0; li < layers_.size(); ++li) {
    auto* act =
        li + 1 < layers_.size() ? dynamic_cast<Activation*>(layers_[li + 1].get()) : nullptr;
    followedByRelu_.push_back(act && act->kind() == ActivationKind::kRelu);
    for (auto& spec : layers_[li]->paramSpecs()) {
      params_.push_back({"layer" + std::to_string(jobIndex[li]) + "." + spec.suffix, spec.shape});
      specs_.push_back(spec);
      paramLayer_.push_back(li);
      offset.push_back(total);
      total += static_cast<size_t>(numel(spec.shape));
    }
  }
  values_.assign(total, 0.0f);
  grads_.assign(total, 0.0f);
  size_t p = 0;
  for (size_t li = 0; li < layers_.size(); ++li) {
    std::vector<Param> mine;
    for (; p < params_.size() && paramLayer_[p] == li; ++p) {
      params_[p].value = values_.data() + offset[p];
      params_[p].grad = grads_.data() + offset[p];
      mine.push_back(params_[p]);
    }
    if (!mine.empty()) layers_[li]->bindParams(std::move(mine));
  }
  acts_.resize(layers_.size());
  firstTrainable_ = params_.empty() ? layers_.size() : paramLayer_.front();
}

void Model::initialize(uint64_t seed) {
  Rng rng = Rng::derive(seed, 0);
  for (size_t p = 0; p < params_.size(); ++p) {
    const ParamSpec& spec = specs_[p];
    float* w = params_[p].value;
    const int64_t n = params_[p].size();
    if (spec.isBias) {
      std::fill(w, w + n, 0.0f);
    } else if (followedByRelu_[paramLayer_[p]]) {
      const double sigma = std::sqrt(2.0 / static_cast<double>(spec.fanIn));
      for (int64_t i = 0; i < n; ++i) w[i] = static_cast<float>(sigma * rng.normal());
    } else {
      const double limit = std::sqrt(6.0 / static_cast<double>(spec.fanIn + spec.fanOut));
      for (int64_t i = 0; i < n; ++i) w[i] = static_cast<float>(rng.uniform(-limit, limit));
    }
  }
}

const Tensor& Model::forward(const Tensor& x) {
  input_ = &x;
  for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->forward(inputOf(i), acts_[i]);
  return acts_.back();
}

void Model::backward(const Tensor& dOutput) {
  const Tensor* dy = &dOutput;
  Tensor* bufs[2] = {&gradA_, &gradB_};
  // Layers before the first one with parameters need no gradient, and neither does its input.
  for (size_t i = layers_.size(); i-- > firstTrainable_;) {
    Tensor* dx = i > firstTrainable_ ? bufs[i % 2] : nullptr;
    layers_[i]->backward(inputOf(i), acts_[i], *dy, dx);
    dy = dx;
  }
}

}  // namespace tfmath
