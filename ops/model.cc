// model.cc: building the layers from the job through the registry, laying out parameters,
// initialisation, and the forward and backward passes over the layer list.
#include "ops/model.h"

#include <cmath>

#include "base/assert.h"
#include "ops/registry.h"
#include "ops/rng.h"

namespace tfmath {

Model::Model(capnp::List<proto::Layer>::Reader layers, const Shape& input) {
  Shape shape = input;
  for (uint32_t i = 0; i < layers.size(); ++i) {
    for (const LayerOp* op : opsOf(layers[i])) {
      layers_.push_back(op->cpu({layers[i], shape, i}));
      ops_.push_back(op);
      jobLayer_.push_back(i);
      inputs_.push_back(shape);
      shape = layers_.back()->outputShape();
    }
  }
  TFMATH_ASSERT(!layers_.empty(), layers.size());  // validated: at least one layer that builds

  // Lay out every parameter in one flat buffer, in layer order.
  size_t total = 0;
  std::vector<size_t> offset;  // per param: where it starts in the flat buffers
  for (size_t li = 0; li < layers_.size(); ++li) {
    for (auto& spec : layers_[li]->paramSpecs()) {
      params_.push_back({"layer" + std::to_string(jobLayer_[li]) + "." + spec.suffix, spec.shape});
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
  // An op and its own activation after it may run as one pass (a convolution and its relu).
  fusedWithNext_.assign(layers_.size(), false);
  for (size_t i = 0; i + 1 < layers_.size(); ++i)
    fusedWithNext_[i] =
        jobLayer_[i] == jobLayer_[i + 1] && layers_[i]->fusesNext(layers_[i + 1]->op());
  acts_.resize(layers_.size());
  firstTrainable_ = params_.empty() ? layers_.size() : paramLayer_.front();
}

Model::InitRule Model::initRule(size_t param) const {
  const ParamSpec& spec = specs_[param];
  const size_t next = paramLayer_[param] + 1;
  if (spec.init == Init::zeros) return {InitRule::zeros, spec.fanIn, spec.fanOut, 0.0};
  if (next < ops_.size() && ops_[next]->heInitBefore)
    return {InitRule::heNormal, spec.fanIn, spec.fanOut,
            std::sqrt(2.0 / static_cast<double>(spec.fanIn))};
  return {InitRule::glorotUniform, spec.fanIn, spec.fanOut,
          std::sqrt(6.0 / static_cast<double>(spec.fanIn + spec.fanOut))};
}

void Model::initialize(uint64_t seed) {
  Rng rng = Rng::derive(seed, 0);
  for (size_t p = 0; p < params_.size(); ++p) {
    const InitRule rule = initRule(p);
    float* w = params_[p].value;
    const int64_t n = params_[p].size();
    if (rule.kind == InitRule::zeros) {
      std::fill(w, w + n, 0.0f);
    } else if (rule.kind == InitRule::heNormal) {
      for (int64_t i = 0; i < n; ++i) w[i] = static_cast<float>(rule.spread * rng.normal());
    } else {
      for (int64_t i = 0; i < n; ++i)
        w[i] = static_cast<float>(rng.uniform(-rule.spread, rule.spread));
    }
  }
}

std::pair<size_t, size_t> Model::paramsOf(size_t layer) const {
  size_t first = 0;
  while (first < params_.size() && paramLayer_[first] < layer) ++first;
  size_t end = first;
  while (end < params_.size() && paramLayer_[end] == layer) ++end;
  return {first, end};
}

const Tensor& Model::forward(const Tensor& x, const BatchDraws& draws) {
  input_ = &x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->setDraws(draws);
    if (fusedWithNext_[i] && !holding_) {
      // The fused pair writes the second op's output. The first's keeps its shape, which the
      // second's backward reads (relu's derivative needs only its own output).
      Shape shape{x.dim(0)};
      const Shape& per = layers_[i]->outputShape();
      shape.insert(shape.end(), per.begin(), per.end());
      acts_[i].resize(shape);
      layers_[i]->forwardFused(inputOf(i), acts_[i + 1]);
      ++i;
      continue;
    }
    layers_[i]->forward(inputOf(i), acts_[i]);
  }
  return acts_.back();
}

void Model::holdBranches(bool hold) {
  holding_ = hold;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (hold)
      layers_[i]->holdBranches(acts_[i]);
    else
      layers_[i]->releaseBranches();
  }
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
