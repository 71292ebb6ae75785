// cpu_backend.h: the CPU backend (ops/): a Model and its Optimizer over host buffers. Also what the
// GPU backend builds first, for the layer list, the parameter names and the initial values, so
// that both devices start from the same bits.
#pragma once

#include "ops/model.h"
#include "ops/optimizer.h"
#include "train/backend.h"

namespace tfmath {

class CpuBackend final : public Backend {
 public:
  CpuBackend(proto::Job::Reader job, const Shape& input);
  std::string device() const override { return "cpu"; }
  Memory memory() const override { return Memory::host; }
  void zeroGradients() override { model_.zeroGrad(); }
  void stage(const Tensor& x, const Tensor& targets, const BatchDraws& draws) override {
    stagedX_ = &x;
    stagedTargets_ = &targets;
    stagedDraws_ = draws;
  }
  // Computes at once (the CPU has nothing to overlap with); `overlap` is not used.
  void train(Communicator* overlap) override;
  LossSums trainedLoss() override { return trained_; }
  LossSums evaluate(const Tensor& x, const Tensor& targets) override;
  std::span<float> gradients(Memory where) override {
    return where == Memory::host ? std::span<float>(model_.grads()) : std::span<float>();
  }
  double gradientSumOfSquares() override;
  void update(float scale, uint64_t step, double rateFactor) override;
  std::vector<std::string> slotNames() const override { return optimizer_->slotNames(); }
  void read(int slot, float* host) const override;
  void write(int slot, const float* host) override;
  const Model& model() const { return model_; }

 private:
  LossSums loss(const Tensor& out, const Tensor& targets, Tensor* grad) const;

  proto::Loss lossKind_;
  Model model_;
  std::unique_ptr<Optimizer> optimizer_;
  Tensor dOut_;
  const Tensor *stagedX_ = nullptr, *stagedTargets_ = nullptr;
  BatchDraws stagedDraws_;
  LossSums trained_;
};

}  // namespace tfmath
