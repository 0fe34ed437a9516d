#include "generators/input_generator.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "libequiv/random/counter_rng.h"
#include "libequiv/random/random_tensor.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

constexpr std::array<std::pair<InputKind, std::string_view>, 5> kNames = {{
    {InputKind::kNormal, "normal"},
    {InputKind::kUniform, "uniform"},
    {InputKind::kOutlierChannels, "outlier_channels"},
    {InputKind::kSmallMagnitude, "small_magnitude"},
    {InputKind::kLongSequence, "long_sequence"},
}};

nn::Matrix ToMatrix(const Tensor& t, int64_t rows, int64_t cols) {
  const std::vector<float> v = t.ToFloats();
  return Eigen::Map<const nn::Matrix>(v.data(), rows, cols);
}

bool TakesIds(Component component) {
  return component == Component::kEmbedding || component == Component::kCausalLm;
}

}  // namespace

std::string_view InputKindName(InputKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

InputKind InputKindFromName(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (n == name) return k;
  }
  std::string known;
  for (const auto& [k, n] : kNames) known += (known.empty() ? "" : ", ") + std::string(n);
  throw Error("input kind \"" + std::string(name) + "\" is none of " + known);
}

bool InputKindApplies(InputKind kind, Component component) {
  if (kind == InputKind::kLongSequence) {
    return component == Component::kRotary || component == Component::kAttention ||
           component == Component::kDecoderLayer || component == Component::kCausalLm;
  }
  if (kind == InputKind::kOutlierChannels) {
    // Outlier channels live in the residual stream; the modules after a norm never see them.
    return component == Component::kInputNorm || component == Component::kPostAttentionNorm ||
           component == Component::kFinalNorm || component == Component::kDecoderLayer;
  }
  return !TakesIds(component) || kind == InputKind::kNormal;
}

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

ComponentInput MakeComponentInput(const ModelConfig& config, Component component,
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
  if (TakesIds(component)) return input;
  const int64_t cols =
      component == Component::kRotary
          ? (config.num_attention_heads + config.num_key_value_heads) * config.head_dim
          : config.hidden_size;
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
    case InputKind::kSmallMagnitude:
      input.hidden = ToMatrix(RandomNormal(shape, spec.seed, DType::kF32, 0.0, 1e-3), n, cols);
      break;
  }
  return input;
}

}  // namespace equiv
