// Test support: the three runs of one component (reference in fp32 and bf16, the port) on the
// same float32 weights and input, compared with the R-ratio.
#ifndef EQUIV_TESTS_LIBEQUIV_PORTS_NXD_PORT_HARNESS_H_
#define EQUIV_TESTS_LIBEQUIV_PORTS_NXD_PORT_HARNESS_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/device/device_config.h"
#include "libequiv/families/registry.h"
#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/models/component_input.h"
#include "libequiv/models/fault.h"
#include "libequiv/models/port.h"
#include "libequiv/models/state_dict.h"
#include "libequiv/random/counter_rng.h"
#include "libequiv/random/random_tensor.h"

namespace equiv::testing {

inline ModelConfig TinyConfig(const std::string& name) {
  return LoadModelConfig(std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/" + name + ".json");
}

inline std::vector<int64_t> RandomIds(int64_t n, int64_t vocab, uint64_t seed) {
  std::vector<int64_t> ids(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    ids[i] = static_cast<int64_t>(Mix64(seed * 0x9E3779B97F4A7C15ull + i) % uint64_t(vocab));
  }
  return ids;
}

inline nn::Matrix ToMatrix(const Tensor& t, int64_t rows, int64_t cols) {
  const std::vector<float> v = t.ToFloats();
  return Eigen::Map<const nn::Matrix>(v.data(), rows, cols);
}

// An input shaped like what `component` sees inside the model: the residual stream (heavy
// tails, outlier channels) for norms and decoder layers, normalized activations for the
// modules that follow a norm, q | k for rotary; random ids; positions 0..n-1.
inline ComponentInput MakeInput(const ModelConfig& c, std::string_view component, int64_t n,
                                uint64_t seed) {
  ComponentInput input;
  for (int64_t i = 0; i < n; ++i) input.positions.push_back(i);
  input.ids = RandomIds(n, c.vocab_size, seed);
  const ComponentKind& kind = ComponentKindOf(c, component);
  const int64_t cols = InputColumns(kind.input, c);
  if (kind.input == InputShape::kIds) return input;
  const bool after_norm = component == "qkv_proj" || component == "attention" ||
                          component == "mlp" || component == "lm_head" || component == "router" ||
                          component == "experts" || component == "moe";
  if (kind.input != InputShape::kHidden || after_norm) {
    input.hidden = ToMatrix(RandomNormal(Shape({n, cols}), seed), n, cols);
  } else {
    input.hidden = ToMatrix(RandomActivations(Shape({n, cols}), seed), n, cols);
  }
  return input;
}

struct ComponentOutputs {
  nn::Matrix ref_fp32, ref_bf16, target;
  TripleComparison comparison;
};

// The built-in port of the config's family; `packed`: a weight-only regime's packed weights
// (`weights` then the regime's dense ones); `regime`: the one whose dtype the device computes in.
inline std::unique_ptr<Port> MakePort(const ModelConfig& config, const StateDict& weights,
                                      const device::DeviceConfig& device = {}, FaultSet faults = {},
                                      const PackedWeights* packed = nullptr,
                                      Regime regime = Regime::kBf16) {
  return BuiltinPortOn(device, std::move(faults)).Make(config, weights, packed, regime);
}

inline nn::Matrix ReferenceLogits(const ModelConfig& config, const StateDict& weights,
                                  nn::Precision precision, std::span<const int64_t> ids) {
  return ArchitectureOf(config).MakeReference(config, weights, precision)->Logits(ids);
}

// `baseline`: the weights of the second reference run (a regime's), else `weights`;
// `precision`: that run's (the regime's, RegimePrecision).
inline ComponentOutputs RunComponent(const ModelConfig& config, const StateDict& weights,
                                     const Port& port, std::string_view component, int64_t layer,
                                     const ComponentInput& input,
                                     const StateDict* baseline = nullptr,
                                     nn::Precision precision = nn::Precision::kBf16) {
  const Architecture& family = ArchitectureOf(config);
  ComponentOutputs out;
  out.ref_fp32 =
      family.MakeReference(config, weights, nn::Precision::kFp32)->Run(component, layer, input);
  out.ref_bf16 = family.MakeReference(config, baseline ? *baseline : weights, precision)
                     ->Run(component, layer, input);
  out.target = AlignRows(port.Run({.kind = component, .layer = layer}, input), out.ref_fp32.rows());
  out.comparison =
      CompareTriple({nn::View(out.ref_fp32), nn::View(out.ref_bf16), nn::View(out.target)});
  return out;
}

// Teacher forcing through the device's two graphs: the first `prompt` ids by context encoding,
// every later one by token generation; the generated positions' logits against the
// reference's single forward pass.
inline TripleComparison CompareGeneration(const ModelConfig& config, const StateDict& weights,
                                          Port& port, const std::vector<int64_t>& ids,
                                          int64_t prompt) {
  const auto n = static_cast<int64_t>(ids.size());
  const nn::Matrix fp32 = ReferenceLogits(config, weights, nn::Precision::kFp32, ids);
  const nn::Matrix bf16 = ReferenceLogits(config, weights, nn::Precision::kBf16, ids);
  nn::Matrix target(n - prompt, config.vocab_size);
  port.ContextEncoding(std::span(ids).first(static_cast<std::size_t>(prompt)));
  for (int64_t i = prompt; i < n; ++i) target.row(i - prompt) = port.TokenGeneration(ids[i]).row(0);
  const nn::Matrix a = fp32.bottomRows(n - prompt), b = bf16.bottomRows(n - prompt);
  return CompareTriple({nn::View(a), nn::View(b), nn::View(target)});
}

}  // namespace equiv::testing

#endif  // EQUIV_TESTS_LIBEQUIV_PORTS_NXD_PORT_HARNESS_H_
