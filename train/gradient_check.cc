// gradient_check.cc: backpropagation against central differences, in double where it sums.
#include "train/gradient_check.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"
#include "jobs/job_error.h"
#include "ops/loss.h"
#include "ops/model.h"
#include "ops/registry.h"
#include "train/trainer.h"

namespace tfmath {

std::vector<OpGradientCheck> checkGradients(proto::Job::Reader job, const Data& data,
                                            proto::ParameterState::Reader state, int perParameter) {
  Model model(job.getModel(), data.train.sampleShape());
  const auto& params = model.params();
  if (state.getTensors().size() != params.size())
    throw JobError("the parameter file holds " + std::to_string(state.getTensors().size()) +
                   " tensors but the job's model has " + std::to_string(params.size()));
  for (size_t i = 0; i < params.size(); ++i)
    readTensor(state.getTensors()[static_cast<unsigned>(i)], params[i].name, params[i].shape,
               params[i].value, "the parameter file");

  // The first samples of the training set, in file order: a small batch keeps the check quick.
  const int64_t n = std::min<int64_t>({job.getBatchSize(), data.train.size(), 8});
  std::vector<uint32_t> indices(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) indices[static_cast<size_t>(i)] = static_cast<uint32_t>(i);
  Tensor x, t, dpred;
  data.train.gather(indices.data(), n, x, t);
  const bool classes = job.getLoss() == proto::Loss::SOFTMAX_CROSS_ENTROPY;
  // A training forward, as backprop's: dropout drops what it drops for these samples in epoch 0,
  // the same elements at every evaluation of the loss.
  const BatchDraws draws{true, job.getSeed(), 0, indices.data()};
  auto meanLoss = [&](Tensor* gradient) {
    const Tensor& pred = model.forward(x, draws);
    const LossSums sums = classes ? softmaxCrossEntropy(pred, t, gradient) : mse(pred, t, gradient);
    return sums.loss / static_cast<double>(n);
  };

  model.zeroGrad();
  const double atState = meanLoss(&dpred);
  for (int64_t i = 0; i < dpred.size(); ++i) dpred[i] /= static_cast<float>(n);
  model.backward(dpred);
  // Relu and max pooling stay on the branches this forward took: the differences then measure
  // the slope of the piece backward differentiated, never a step across a kink.
  model.holdBranches(true);
  TFMATH_ASSERT(meanLoss(nullptr) == atState, "held branches must reproduce the forward");

  std::vector<OpGradientCheck> out;
  for (size_t layer = 0; layer < model.layers().size(); ++layer) {
    const auto [first, end] = model.paramsOf(layer);
    if (first == end) continue;
    OpGradientCheck check;
    const uint32_t jobLayer = model.jobLayer(layer);
    check.field = layerField(jobLayer, job.getModel()[jobLayer]);
    check.op = model.op(layer).math.name;
    for (size_t p = first; p < end; ++p) {
      const Param& param = params[p];
      // The elements with the largest gradients: their slope stands out of float32's rounding.
      std::vector<int64_t> order(static_cast<size_t>(param.size()));
      for (int64_t e = 0; e < param.size(); ++e) order[static_cast<size_t>(e)] = e;
      const auto k = static_cast<size_t>(std::min<int64_t>(perParameter, param.size()));
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                        [&](int64_t a, int64_t b) {
                          return std::fabs(param.grad[a]) > std::fabs(param.grad[b]);
                        });
      for (size_t j = 0; j < k; ++j) {
        const int64_t e = order[j];
        const float saved = param.value[e];
        const float h = 1e-3f * std::max(1.0f, std::fabs(saved));
        const float above = saved + h, below = saved - h;  // the steps float32 can take
        param.value[e] = above;
        const double up = meanLoss(nullptr);
        param.value[e] = below;
        const double down = meanLoss(nullptr);
        param.value[e] = saved;
        const double numeric = (up - down) / (static_cast<double>(above) - below);
        const double backprop = param.grad[e];
        const double scale = std::max({std::fabs(numeric), std::fabs(backprop), 1e-6});
        check.maxRelativeError =
            std::max(check.maxRelativeError, std::fabs(numeric - backprop) / scale);
        ++check.checked;
      }
    }
    out.push_back(check);
  }
  model.holdBranches(false);
  return out;
}

}  // namespace tfmath
