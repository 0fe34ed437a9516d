#include "generators/input_generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "libequiv/random/counter_rng.h"
#include "libequiv/random/random_tensor.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

nn::Matrix ToMatrix(const Tensor& t, int64_t rows, int64_t cols) {
  const std::vector<float> v = t.ToFloats();
  return Eigen::Map<const nn::Matrix>(v.data(), rows, cols);
}

using RowD = Eigen::Matrix<double, 1, Eigen::Dynamic>;

// The router weight of a routing input kind, checked against the config.
const nn::Matrix& RouterWeight(const ModelConfig& config, const InputSpec& spec, int64_t cols) {
  const std::string kind(InputKindName(spec.kind));
  if (config.moe.num_experts == 0) {
    throw Error("input kind " + kind + " needs a mixture-of-experts model");
  }
  if (cols != config.hidden_size) {
    throw Error("input kind " + kind + " makes hidden states, not " + std::to_string(cols) +
                " columns");
  }
  if (spec.router_weight == nullptr) {
    throw Error("input kind " + kind +
                " needs the layer's router weight (InputSpec::router_weight)");
  }
  const nn::Matrix& w = *spec.router_weight;
  if (w.rows() != config.moe.num_experts || w.cols() != config.hidden_size) {
    throw Error("input kind " + kind + ": the router weight is [" + std::to_string(w.rows()) +
                ", " + std::to_string(w.cols()) + "], the config's is [" +
                std::to_string(config.moe.num_experts) + ", " + std::to_string(config.hidden_size) +
                "]");
  }
  return w;
}

// Experts by logit, largest first.
std::vector<int64_t> Ranked(const RowD& logits) {
  std::vector<int64_t> order(static_cast<std::size_t>(logits.size()));
  for (std::size_t e = 0; e < order.size(); ++e) order[e] = static_cast<int64_t>(e);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return logits(a) > logits(b); });
  return order;
}

// Each row moved along w_a - w_b (a, b its k-th and (k+1)-th experts) until their logits
// differ by the row's target gap: 0 on even rows (a tie bf16 decides), 2^-4 of the largest
// |logit| on odd rows (a few bf16 errors: decided, but narrowly).
nn::Matrix NearTiedRows(nn::Matrix x, const nn::Matrix& router, int64_t top_k) {
  const Eigen::MatrixXd w = router.cast<double>();
  const int64_t k = std::min<int64_t>(top_k, w.rows() - 1);
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    RowD row = x.row(t).cast<double>();
    const RowD logits = row * w.transpose();
    const std::vector<int64_t> order = Ranked(logits);
    const int64_t a = order[k - 1], b = order[k];
    const RowD d = w.row(a) - w.row(b);
    const double gap = t % 2 == 0 ? 0.0 : 0.0625 * logits.cwiseAbs().maxCoeff();
    row += ((gap - (logits(a) - logits(b))) / d.squaredNorm()) * d;
    x.row(t) = row.cast<float>();
  }
  return x;
}

// One base direction for every row (a normal row plus enough of w_e - mean(w) that expert e
// leads by 3 logits), plus a quarter of each row's own noise: every token picks expert e.
nn::Matrix OneExpertRows(const nn::Matrix& noise, const nn::Matrix& router, uint64_t seed) {
  const Eigen::MatrixXd w = router.cast<double>();
  const auto e = static_cast<Eigen::Index>(Mix64(seed ^ 0x0E5E) % static_cast<uint64_t>(w.rows()));
  RowD u = w.row(e) - w.colwise().mean();
  u /= u.norm();
  const RowD base = noise.row(0).cast<double>();
  double alpha = 0;
  for (int step = 0; step < 200; ++step) {
    const RowD logits = (base + alpha * u) * w.transpose();
    double runner_up = -INFINITY;
    for (Eigen::Index j = 0; j < logits.size(); ++j) {
      if (j != e) runner_up = std::max(runner_up, logits(j));
    }
    if (logits(e) - runner_up >= 3.0) break;
    alpha += 0.5;
  }
  nn::Matrix x(noise.rows(), noise.cols());
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    x.row(t) = (base + alpha * u + 0.25 * noise.row(t).cast<double>()).cast<float>();
  }
  return x;
}

}  // namespace

int64_t LongSequenceLength(const ModelConfig& config, const device::DeviceConfig& device) {
  int64_t n = 64;
  if (config.sliding_window) n = std::max(n, 3 * *config.sliding_window);
  if (config.rope_scaling.original_max_position_embeddings > 0) {
    n = std::max(n, 3 * config.rope_scaling.original_max_position_embeddings);
  }
  n = std::min(n, config.max_position_embeddings);
  if (!device.sequence_buckets.empty()) n = std::min(n, device.sequence_buckets.back());
  return n;
}

ComponentInput MakeComponentInput(const ModelConfig& config, const ComponentKind& component,
                                  const InputSpec& spec, const device::DeviceConfig& device) {
  const int64_t n =
      spec.kind == InputKind::kLongSequence ? LongSequenceLength(config, device) : spec.positions;
  if (n <= 0) throw Error("component input: " + std::to_string(n) + " positions");
  ComponentInput input;
  for (int64_t i = 0; i < n; ++i) {
    input.positions.push_back(i);
    input.ids.push_back(
        static_cast<int64_t>(Mix64(spec.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(i)) %
                             static_cast<uint64_t>(config.vocab_size)));
  }
  if (component.input == InputShape::kIds) return input;
  const int64_t cols = InputColumns(component.input, config);
  const Shape shape({n, cols});
  switch (spec.kind) {
    case InputKind::kNormal:
    case InputKind::kLongSequence:
      input.hidden = ToMatrix(RandomNormal(shape, spec.seed), n, cols);
      break;
    case InputKind::kUniform:
      input.hidden = ToMatrix(RandomUniform(shape, spec.seed, DType::kF32, -1.0, 1.0), n, cols);
      break;
    case InputKind::kOutlierChannels:
      input.hidden = ToMatrix(RandomActivations(shape, spec.seed), n, cols);
      break;
    case InputKind::kSharedDirection: {
      // One direction for every row (its own stream of the seed), three times a row's own part.
      constexpr double kShared = 3.0;
      const nn::Matrix shared = ToMatrix(
          RandomNormal(Shape({1, cols}), spec.seed ^ 0x5AA4ED0D1C7ull, DType::kF32, 0.0, kShared),
          1, cols);
      input.hidden = ToMatrix(RandomNormal(shape, spec.seed), n, cols);
      input.hidden.rowwise() += shared.row(0);
      break;
    }
    case InputKind::kSmallMagnitude:
      input.hidden = ToMatrix(RandomNormal(shape, spec.seed, DType::kF32, 0.0, 1e-3), n, cols);
      break;
    case InputKind::kNearTiedRouter:
      input.hidden = NearTiedRows(ToMatrix(RandomNormal(shape, spec.seed), n, cols),
                                  RouterWeight(config, spec, cols), config.moe.num_experts_per_tok);
      break;
    case InputKind::kOneExpert:
      input.hidden = OneExpertRows(ToMatrix(RandomNormal(shape, spec.seed), n, cols),
                                   RouterWeight(config, spec, cols), spec.seed);
      break;
  }
  return input;
}

}  // namespace equiv
