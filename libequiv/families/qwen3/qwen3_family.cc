#include "libequiv/families/qwen3/qwen3_family.h"

#include <array>

namespace equiv {
namespace {

using enum InputKind;

constexpr int64_t kQwen3DefaultHeadDim = 128;  // Qwen3Config

constexpr RootCauseTexts kHeadNormCauses = {
    .precision_ordering =
        "the per-head variance accumulated in bf16, or a cast to bf16 before "
        "the reduction",
    .missing_algorithm = "the q/k norm skipped, or its weight not applied",
    .wrong_computation =
        "the norm taken over the whole row instead of each head, or q and k "
        "norm weights swapped",
};

std::vector<ComponentKind> MakeComponents() {
  std::vector<ComponentKind> table = LlamaComponents();
  for (ComponentKind& kind : Qwen3HeadNormComponents()) table.push_back(std::move(kind));
  return table;
}

constexpr nxd::NxdFault kFaults[] = {
    {{"qk_norm_dropped", "q_norm",
      "Qwen3's per-head q_norm and k_norm left out of the port's attention (a Qwen2 attention "
      "reused for Qwen3)",
      Visibility::kComponent, Band::kMissingAlgorithm, "tiny-qwen3"},
     [](nxd::NxdSteps& s) {
       s.head_norm = [](const nn::Matrix& x, const nn::Vector&, float, bool) { return x; };
     }},
    {{"qk_norm_after_rotary", "attention",
      "q_norm and k_norm applied after rotary instead of before it: the per-element norm weight "
      "meets rotated features",
      Visibility::kComponent, Band::kLikelyBug, "tiny-qwen3"},
     [](nxd::NxdSteps& s) { s.qk_norm_after_rotary = true; }},
};
static_assert(nxd::UniqueFaultNames(kFaults), "two qwen3 faults share a name");

std::vector<FaultInfo> MakeFaultInfos() {
  std::vector<FaultInfo> infos;
  for (const nxd::NxdFault& fault : kFaults) infos.push_back(fault.info);
  return infos;
}

}  // namespace

std::vector<ComponentKind> Qwen3HeadNormComponents() {
  std::vector<ComponentKind> table;
  table.push_back({.name = "q_norm",
                   .hf_paths = {"model.layers.{i}.self_attn.q_norm"},
                   .contains = "RMSNorm over each query head, before rotary",
                   .per_layer = true,
                   .order_group = 2,
                   .sub_order = 1,
                   .input = InputShape::kQueryHeads,
                   .inputs = {kNormal, kUniform, kSmallMagnitude},
                   .causes = kHeadNormCauses});
  table.push_back({.name = "k_norm",
                   .hf_paths = {"model.layers.{i}.self_attn.k_norm"},
                   .contains = "RMSNorm over each key head, before rotary",
                   .per_layer = true,
                   .order_group = 2,
                   .sub_order = 2,
                   .input = InputShape::kKeyHeads,
                   .inputs = {kNormal, kUniform, kSmallMagnitude},
                   .causes = kHeadNormCauses});
  return table;
}

std::span<const std::string_view> Qwen3Family::model_types() const {
  static constexpr std::array<std::string_view, 1> kTypes = {"qwen3"};
  return kTypes;
}

void Qwen3Family::ReadConfig(const ConfigFields& top, ModelConfig& c) const {
  // Qwen3Config's head_dim is its own field, 128 when absent (not hidden_size / heads).
  if (!top.Has("head_dim")) c.head_dim = kQwen3DefaultHeadDim;
  // Qwen3Config defaults num_key_value_heads to 32 when absent (null: num_attention_heads).
  ReadKeyValueHeads(top, c, "required for qwen3: HF's default is 32, not num_attention_heads");
  // Qwen3Attention puts attention_bias on all four projections; the MLP has none.
  c.qkv_bias = c.o_proj_bias = top.Bool("attention_bias", false);
  ReadQwenWindows(top, c);
}

void Qwen3Family::WriteConfig(const ModelConfig& c, nlohmann::json& j) const {
  j["architectures"] = nlohmann::json::array({"Qwen3ForCausalLM"});
  j["attention_bias"] = c.qkv_bias;
  WriteQwenWindows(c, j);
}

std::span<const ComponentKind> Qwen3Family::Components() const {
  static const std::vector<ComponentKind> kTable = MakeComponents();
  return kTable;
}

std::span<const nxd::NxdFault> Qwen3Family::OwnPortFaults() const { return kFaults; }

std::span<const FaultInfo> Qwen3Family::Faults() const {
  static const std::vector<FaultInfo> kInfos = MakeFaultInfos();
  return kInfos;
}

}  // namespace equiv
