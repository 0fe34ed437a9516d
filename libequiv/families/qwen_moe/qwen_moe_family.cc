#include "libequiv/families/qwen_moe/qwen_moe_family.h"

#include <array>
#include <string>
#include <utility>

#include "libequiv/families/qwen3/qwen3_family.h"

namespace equiv {
namespace {

using enum InputKind;
using nlohmann::json;

// Qwen2MoeConfig's and Qwen3MoeConfig's defaults for what a config may leave out.
struct QwenMoeDefaults {
  int64_t kv_heads, experts, top_k, moe_intermediate, shared_intermediate;
};
constexpr QwenMoeDefaults kQwen2Moe = {16, 60, 4, 1408, 5632};
constexpr QwenMoeDefaults kQwen3Moe = {4, 128, 8, 768, 0};

std::vector<ComponentKind> MakeComponents(int version) {
  std::vector<ComponentKind> table;
  for (const ComponentKind& kind : LlamaComponents()) {
    if (kind.name != "mlp") table.push_back(kind);
  }
  if (version == 3) {
    for (ComponentKind& kind : Qwen3HeadNormComponents()) table.push_back(std::move(kind));
  }
  for (ComponentKind& kind : SparseMoeComponents(
           "model.layers.{i}.mlp.gate", "model.layers.{i}.mlp.experts", "model.layers.{i}.mlp")) {
    if (kind.name == "experts") {
      kind.contains =
          "every expert's SwiGLU down_proj(act(gate_proj x) * up_proj x) on every token, [n, "
          "experts x hidden], expert-major";
    }
    if (kind.name == "moe") {
      kind.contains = version == 2
                          ? "the sparse MoE block: softmax(router logits) in float32, top-k, "
                            "renormalized only if norm_topk_prob, each token's experts weighted "
                            "and summed, then sigmoid(shared_expert_gate(x)) * shared_expert(x) "
                            "added"
                          : "the sparse MoE block: softmax(router logits) in float32, top-k, "
                            "renormalized if norm_topk_prob, each token's experts weighted and "
                            "summed";
    }
    table.push_back(std::move(kind));
  }
  if (version == 2) {
    table.push_back(
        {.name = "shared_expert",
         .hf_paths = {"model.layers.{i}.mlp.shared_expert"},
         .contains = "the shared expert's SwiGLU on every token, before its gate, [n, hidden]",
         .per_layer = true,
         .order_group = 4,
         .sub_order = 1,
         .inputs = {kNormal, kUniform, kSmallMagnitude},
         .causes = {.precision_ordering = "shared expert activation or product computed in "
                                          "bf16 at the wrong point, or its down_proj partials "
                                          "summed in bf16 in another order",
                    .missing_algorithm = "wrong activation in the shared expert",
                    .wrong_computation = "the shared expert's gate_proj and up_proj swapped, or "
                                         "another layer's weights loaded"}});
    table.push_back(
        {.name = "shared_expert_gate",
         .hf_paths = {"model.layers.{i}.mlp.shared_expert_gate"},
         .contains = "the shared expert's gate logit [n, 1] = shared_expert_gate(x), before the "
                     "sigmoid",
         .per_layer = true,
         .order_group = 2,
         .sub_order = 4,
         .inputs = {kNormal, kUniform, kSmallMagnitude},
         .causes = {.precision_ordering = "gate matmul accumulated or rounded in bf16",
                    .wrong_computation = "another layer's gate weight loaded"}});
  }
  return table;
}

constexpr Visibility kComp = Visibility::kComponent;

constexpr nxd::NxdFault kQwen2MoeFaults[] = {
    {{"shared_expert_gate_dropped", "moe",
      "the shared expert's output added without its gate: shared_expert(x) instead of "
      "sigmoid(shared_expert_gate(x)) * shared_expert(x) (a DeepSeek-style ungated shared "
      "expert reused for Qwen2-MoE)",
      kComp, Band::kWrongComputation, "tiny-qwen2-moe"},
     [](nxd::NxdSteps& s) {
       s.shared_expert_gate = [](const nn::Matrix& logits) {
         return nn::Matrix(nn::Matrix::Ones(logits.rows(), logits.cols()));
       };
     }},
    {{"norm_topk_prob_ignored", "moe",
      "norm_topk_prob false ignored: the port reads the config as Mixtral's and renormalizes "
      "the top-k routing weights to sum 1",
      kComp, Band::kMissingAlgorithm, "tiny-qwen2-moe"},
     [](nxd::NxdSteps& s) { s.read_config = [](ModelConfig& c) { c.moe.norm_topk_prob = true; }; }},
};
static_assert(nxd::UniqueFaultNames(kQwen2MoeFaults), "two qwen2_moe faults share a name");

constexpr nxd::NxdFault kQwen3MoeFaults[] = {
    {{"norm_topk_prob_default_used", "moe",
      "norm_topk_prob true not read: the port takes Qwen3MoeConfig's default (false) and "
      "leaves the top-k routing weights unnormalized",
      kComp, Band::kMissingAlgorithm, "tiny-qwen3-moe"},
     [](nxd::NxdSteps& s) {
       s.read_config = [](ModelConfig& c) { c.moe.norm_topk_prob = false; };
     }},
    {{"expert_gate_up_swapped", "experts",
      "the conversion fuses each expert's up_proj where gate_proj belongs in gate_up_proj, so "
      "the experts compute down(act(up x) * gate x)",
      kComp, Band::kWrongComputation, "tiny-qwen3-moe"},
     [](nxd::NxdSteps& s) {
       s.convert_expert = [](nn::MlpWeights& e) { std::swap(e.gate_proj, e.up_proj); };
     }},
};
static_assert(nxd::UniqueFaultNames(kQwen3MoeFaults), "two qwen3_moe faults share a name");

std::vector<FaultInfo> MakeFaultInfos(std::span<const nxd::NxdFault> faults) {
  std::vector<FaultInfo> infos;
  for (const nxd::NxdFault& fault : faults) infos.push_back(fault.info);
  return infos;
}

}  // namespace

std::string_view QwenMoeFamily::name() const { return version_ == 2 ? "qwen2_moe" : "qwen3_moe"; }

std::span<const std::string_view> QwenMoeFamily::model_types() const {
  static constexpr std::array<std::string_view, 1> kQwen2 = {"qwen2_moe"};
  static constexpr std::array<std::string_view, 1> kQwen3 = {"qwen3_moe"};
  if (version_ == 2) return kQwen2;
  return kQwen3;
}

std::string_view QwenMoeFamily::tiny_config() const {
  return version_ == 2 ? "tiny-qwen2-moe" : "tiny-qwen3-moe";
}

std::string QwenMoeFamily::ClassPrefix(const ModelConfig&) const {
  return version_ == 2 ? "Qwen2Moe" : "Qwen3Moe";
}

SparseMoeNames QwenMoeFamily::MoeNames() const {
  return {.block = "mlp",
          .block_class = version_ == 2 ? "Qwen2MoeSparseMoeBlock" : "Qwen3MoeSparseMoeBlock",
          .expert_class = version_ == 2 ? "Qwen2MoeMLP" : "Qwen3MoeMLP",
          .gate = "gate_proj",
          .up = "up_proj",
          .down = "down_proj"};
}

void QwenMoeFamily::ReadConfig(const ConfigFields& top, ModelConfig& c) const {
  const QwenMoeDefaults& d = version_ == 2 ? kQwen2Moe : kQwen3Moe;
  const std::string type(name());
  ReadKeyValueHeads(top, c,
                    "required for " + type + ": HF's default is " + std::to_string(d.kv_heads) +
                        ", not num_attention_heads");
  if (version_ == 2) {
    c.qkv_bias = top.Bool("qkv_bias", true);  // Qwen2MoeAttention: q, k, v biases, never o
  } else {
    // Qwen3MoeAttention: attention_bias on all four projections; head_dim as given, else
    // hidden_size / num_attention_heads (Qwen3MoeConfig has no default of its own).
    c.qkv_bias = c.o_proj_bias = top.Bool("attention_bias", false);
  }
  if (top.Bool("use_sliding_window", false)) {
    top.Fail("use_sliding_window", json(true),
             "is not supported for " + type + ": the published models attend fully");
  }
  ReadQwenWindows(top, c);

  MoeSettings& m = c.moe;
  m.num_experts = d.experts;
  if (const json* experts = top.Get("num_experts"))
    m.num_experts = top.Size("num_experts", *experts);
  m.num_experts_per_tok = d.top_k;
  if (const json* k = top.Get("num_experts_per_tok")) {
    m.num_experts_per_tok = top.Int("num_experts_per_tok", *k, 1, m.num_experts);
  } else if (m.num_experts < d.top_k) {
    top.FailMissing("num_experts_per_tok",
                    "HF's default " + std::to_string(d.top_k) +
                        " exceeds num_experts = " + std::to_string(m.num_experts));
  }
  m.moe_intermediate_size = d.moe_intermediate;
  if (const json* size = top.Get("moe_intermediate_size")) {
    m.moe_intermediate_size = top.Size("moe_intermediate_size", *size);
  }
  m.norm_topk_prob = top.Bool("norm_topk_prob", false);  // both configs default to false
  if (version_ == 2) {
    m.shared_expert_intermediate_size = d.shared_intermediate;
    if (const json* size = top.Get("shared_expert_intermediate_size")) {
      m.shared_expert_intermediate_size = top.Size("shared_expert_intermediate_size", *size);
    }
  }
  // Dense layers (Qwen*MoeMLP of intermediate_size in place of the MoE block) are not built.
  const std::string dense = "a dense MLP, which the " + type +
                            " family does not build: every layer must be a sparse MoE block";
  if (const json* step = top.Get("decoder_sparse_step")) {
    const int64_t s = top.Int("decoder_sparse_step", *step, 1, kMaxConfigSize);
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
      if ((i + 1) % s != 0) {
        top.Fail("decoder_sparse_step", *step, "makes layer " + std::to_string(i) + " " + dense);
      }
    }
  }
  if (const json* only = top.Get("mlp_only_layers")) {
    if (!only->is_array()) top.Fail("mlp_only_layers", *only, "must be an array of layer indices");
    for (const json& layer : *only) {
      if (!layer.is_number_integer()) {
        top.Fail("mlp_only_layers", *only, "must be an array of layer indices");
      }
      const int64_t i = layer.get<int64_t>();
      if (i >= 0 && i < c.num_hidden_layers) {
        top.Fail("mlp_only_layers", *only, "makes layer " + std::to_string(i) + " " + dense);
      }
    }
  }
}

void QwenMoeFamily::WriteConfig(const ModelConfig& c, json& j) const {
  j["architectures"] = json::array({ClassPrefix(c) + "ForCausalLM"});
  if (version_ == 2) {
    j["qkv_bias"] = c.qkv_bias;
  } else {
    j["attention_bias"] = c.qkv_bias;
  }
  WriteQwenWindows(c, j);
  j["num_experts"] = c.moe.num_experts;
  j["num_experts_per_tok"] = c.moe.num_experts_per_tok;
  j["moe_intermediate_size"] = c.moe.moe_intermediate_size;
  j["norm_topk_prob"] = c.moe.norm_topk_prob;
  if (version_ == 2) j["shared_expert_intermediate_size"] = c.moe.shared_expert_intermediate_size;
  j["decoder_sparse_step"] = 1;
  j["mlp_only_layers"] = json::array();
}

std::span<const ComponentKind> QwenMoeFamily::Components() const {
  static const std::vector<ComponentKind> kQwen2 = MakeComponents(2);
  static const std::vector<ComponentKind> kQwen3 = MakeComponents(3);
  if (version_ == 2) return kQwen2;
  return kQwen3;
}

std::span<const nxd::NxdFault> QwenMoeFamily::OwnPortFaults() const {
  if (version_ == 2) return kQwen2MoeFaults;
  return kQwen3MoeFaults;
}

std::span<const FaultInfo> QwenMoeFamily::Faults() const {
  static const std::vector<FaultInfo> kQwen2 = MakeFaultInfos(kQwen2MoeFaults);
  static const std::vector<FaultInfo> kQwen3 = MakeFaultInfos(kQwen3MoeFaults);
  if (version_ == 2) return kQwen2;
  return kQwen3;
}

}  // namespace equiv
