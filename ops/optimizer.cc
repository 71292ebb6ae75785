// optimizer.cc: SGD (momentum, Nesterov, weight decay, as PyTorch defines them), Adam and AdamW.
#include "ops/optimizer.h"

#include <cmath>

namespace tfmath {

const OpMath& sgdMath() {
  static const OpMath m{
      "sgd",
      "optimizer",
      "Stochastic gradient descent with momentum μ, optional Nesterov, and weight decay λ "
      "(PyTorch's "
      "form).",
      R"(g_t = \nabla_w L + \lambda w_{t-1},\quad v_t = \mu v_{t-1} + g_t,\quad w_t = w_{t-1} - \eta \begin{cases} g_t + \mu v_t & \text{Nesterov} \\ v_t & \text{otherwise} \end{cases})",
      {},
      "v_0 = 0 (slot: momentum). With μ = 0 this is w ← w − η g.",
      "ops/optimizer.cc",
      "kernels/optimizer.cu"};
  return m;
}

const OpMath& adamMath() {
  static const OpMath m{
      "adam",
      "optimizer",
      "Adam with bias correction (Kingma & Ba, 2015).",
      R"(m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad w_t = w_{t-1} - \eta \frac{m_t / (1-\beta_1^t)}{\sqrt{v_t / (1-\beta_2^t)} + \epsilon})",
      {},
      "m_0 = v_0 = 0 (slots: adam.m, adam.v); t counts updates from 1.",
      "ops/optimizer.cc",
      "kernels/optimizer.cu"};
  return m;
}

const OpMath& adamWMath() {
  static const OpMath m{
      "adamW",
      "optimizer",
      "Adam with decoupled weight decay λ (Loshchilov & Hutter, 2019; PyTorch's AdamW): the decay "
      "shrinks the weights directly instead of entering the moments.",
      R"(m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad w_t = w_{t-1} - \eta \left(\frac{m_t / (1-\beta_1^t)}{\sqrt{v_t / (1-\beta_2^t)} + \epsilon} + \lambda w_{t-1}\right))",
      {},
      "m_0 = v_0 = 0 (slots: adam.m, adam.v); t counts updates from 1. A schedule scales η in both "
      "terms.",
      "ops/optimizer.cc",
      "kernels/optimizer.cu"};
  return m;
}

const OpMath& clipGlobalNormMath() {
  static const OpMath m{
      "clipGlobalNorm",
      "clip",
      "Scales the batch-mean gradient of all parameters together down to a global norm of at most "
      "c (the job's clipGlobalNorm), after the sum over the workers and before the update.",
      R"(g \leftarrow g \cdot \min\left(1,\ \frac{c}{\lVert g \rVert_2}\right),\quad \lVert g \rVert_2 = \sqrt{\textstyle\sum_i g_i^2}\ \text{over every parameter})",
      {},
      "The sum of squares is accumulated in float64. Every worker holds the same summed gradient, "
      "so every worker clips alike.",
      "ops/optimizer.cc",
      "kernels/optimizer.cu"};
  return m;
}

namespace {

class Sgd : public Optimizer {
 public:
  Sgd(const SgdConfig& c, size_t size) : c_(c), size_(size) {
    if (c_.momentum > 0) velocity_.assign(size, 0.0f);
  }
  void update(float* w, const float* g, uint64_t, double rateFactor) override {
    const float lr = static_cast<float>(c_.learningRate * rateFactor),
                mu = static_cast<float>(c_.momentum), wd = static_cast<float>(c_.weightDecay);
    if (c_.momentum <= 0) {
      for (size_t i = 0; i < size_; ++i) w[i] -= lr * (g[i] + wd * w[i]);
      return;
    }
    float* v = velocity_.data();
    for (size_t i = 0; i < size_; ++i) {
      const float grad = g[i] + wd * w[i];
      v[i] = mu * v[i] + grad;
      w[i] -= lr * (c_.nesterov ? grad + mu * v[i] : v[i]);
    }
  }
  std::vector<std::string> slotNames() const override {
    return c_.momentum > 0 ? std::vector<std::string>{"momentum"} : std::vector<std::string>{};
  }
  FloatBuffer& slot(size_t) override { return velocity_; }

 private:
  SgdConfig c_;
  size_t size_;
  FloatBuffer velocity_;
};

class Adam : public Optimizer {
 public:
  Adam(const AdamConfig& c, size_t size) : c_(c), size_(size), m_(size, 0.0f), v_(size, 0.0f) {}
  void update(float* w, const float* g, uint64_t step, double rateFactor) override {
    const float b1 = static_cast<float>(c_.beta1), b2 = static_cast<float>(c_.beta2),
                eps = static_cast<float>(c_.epsilon), wd = static_cast<float>(c_.weightDecay);
    const double t = static_cast<double>(step);
    // m̂ = m / c1 and √v̂ = √v / c2, exactly as in the rule.
    const float c1 = static_cast<float>(1.0 - std::pow(c_.beta1, t));
    const float c2 = static_cast<float>(std::sqrt(1.0 - std::pow(c_.beta2, t)));
    const float lr = static_cast<float>(c_.learningRate * rateFactor);
    float *m = m_.data(), *v = v_.data();
    for (size_t i = 0; i < size_; ++i) {
      m[i] = b1 * m[i] + (1.0f - b1) * g[i];
      v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
      w[i] -= lr * ((m[i] / c1) / (std::sqrt(v[i]) / c2 + eps) + wd * w[i]);
    }
  }
  std::vector<std::string> slotNames() const override { return {"adam.m", "adam.v"}; }
  FloatBuffer& slot(size_t i) override { return i == 0 ? m_ : v_; }

 private:
  AdamConfig c_;
  size_t size_;
  FloatBuffer m_, v_;
};

}  // namespace

std::unique_ptr<Optimizer> makeSgd(const SgdConfig& config, size_t size) {
  return std::make_unique<Sgd>(config, size);
}
std::unique_ptr<Optimizer> makeAdam(const AdamConfig& config, size_t size) {
  return std::make_unique<Adam>(config, size);
}

SgdConfig sgdConfig(proto::Sgd::Reader s) {
  return {s.getLearningRate(), s.getMomentum(), s.getWeightDecay(), s.getNesterov()};
}

AdamConfig adamConfig(proto::Optimizer::Reader o) {
  if (o.isAdamW()) {
    auto a = o.getAdamW();
    return {a.getLearningRate(), a.getBeta1(), a.getBeta2(), a.getEpsilon(), a.getWeightDecay()};
  }
  auto a = o.getAdam();
  return {a.getLearningRate(), a.getBeta1(), a.getBeta2(), a.getEpsilon(), 0};
}

std::unique_ptr<Optimizer> makeOptimizer(proto::Optimizer::Reader o, size_t size) {
  if (o.isSgd()) return makeSgd(sgdConfig(o.getSgd()), size);
  return makeAdam(adamConfig(o), size);
}

double learningRateOf(proto::Optimizer::Reader o) {
  return o.isSgd() ? o.getSgd().getLearningRate() : adamConfig(o).learningRate;
}

}  // namespace tfmath
