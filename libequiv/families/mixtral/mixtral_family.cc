#include "libequiv/families/mixtral/mixtral_family.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "libequiv/families/mixtral/mixtral_reference.h"
#include "libequiv/ports/nxd/nxd_moe_port.h"

namespace equiv {
namespace {

using enum InputKind;
using nlohmann::json;

constexpr int64_t kDefaultExperts = 8;     // MixtralConfig.num_local_experts
constexpr int64_t kDefaultTopK = 2;        // MixtralConfig.num_experts_per_tok
constexpr double kDefaultRopeTheta = 1e6;  // MixtralConfig.rope_theta

std::vector<ComponentKind> MakeComponents() {
  std::vector<ComponentKind> table;
  for (const ComponentKind& kind : LlamaComponents()) {
    if (kind.name != "mlp") table.push_back(kind);
  }
  for (ComponentKind& kind : SparseMoeComponents("model.layers.{i}.block_sparse_moe.gate",
                                                 "model.layers.{i}.block_sparse_moe.experts",
                                                 "model.layers.{i}.block_sparse_moe")) {
    table.push_back(std::move(kind));
  }
  return table;
}

constexpr Visibility kComp = Visibility::kComponent;

constexpr nxd::NxdFault kFaults[] = {
    {{"router_renormalization_dropped", "moe",
      "top-k routing weights not renormalized to sum 1 (Qwen-MoE's norm_topk_prob false "
      "applied to Mixtral)",
      kComp, Band::kMissingAlgorithm, "tiny-mixtral"},
     [](nxd::NxdSteps& s) {
       s.route = [dtype = s.dtype](const nn::Matrix& logits, const nn::RoutingRule& rule) {
         nn::RoutingRule plain = rule;
         plain.renormalize = false;
         return nn::Route(logits, plain, dtype);
       };
     }},
    {{"expert_order_reversed", "experts",
      "the state-dict conversion stacks the experts' weights in reverse order: slot e holds "
      "HF expert num_experts - 1 - e while the router's rows stay in HF order",
      kComp, Band::kWrongComputation, "tiny-mixtral"},
     [](nxd::NxdSteps& s) {
       s.expert_source = [](int64_t slot, int64_t experts) { return experts - 1 - slot; };
     }},
    {{"ep_combine_rank_order", "moe",
      "the expert-parallel combine reads the all-to-all's blocks in reverse rank order, so "
      "expert outputs land on other tokens",
      kComp, Band::kWrongComputation, "tiny-mixtral", 0, "tp2_ep2"},
     [](nxd::NxdSteps& s) {
       s.combine_blocks = [](std::vector<nn::Matrix>& blocks) {
         std::reverse(blocks.begin(), blocks.end());
       };
     }},
    {{"capacity_tokens_dropped", "moe",
      "an expert capacity computed without the top_k factor (ceil(tokens / experts)) and the "
      "tokens over it dropped silently, where HF drops none",
      kComp, Band::kWrongComputation, "tiny-mixtral"},
     [](nxd::NxdSteps& s) {
       s.drop_over_capacity = true;
       s.default_capacity_percent = 100;
       s.capacity_counts_top_k = false;
     }},
};
static_assert(nxd::UniqueFaultNames(kFaults), "two mixtral faults share a name");

std::vector<FaultInfo> MakeFaultInfos() {
  std::vector<FaultInfo> infos;
  for (const nxd::NxdFault& fault : kFaults) infos.push_back(fault.info);
  return infos;
}

ModuleNode LinearNode(std::string name, int64_t out, int64_t in) {
  return ModuleNode{std::move(name), "Linear", {{"weight", {out, in}}}, {}};
}

}  // namespace

std::vector<ComponentKind> SparseMoeComponents(std::string_view router, std::string_view experts,
                                               std::string_view block) {
  std::vector<ComponentKind> rows;
  rows.push_back(
      {.name = "router",
       .hf_paths = {router},
       .contains = "the router: logits [n, experts] = gate(x); its top-k choice compared exactly "
                   "where the reference's is clear",
       .per_layer = true,
       .order_group = 2,
       .sub_order = 3,
       .inputs = {kNormal, kUniform, kSmallMagnitude, kNearTiedRouter, kOneExpert},
       .routing = true,
       .causes = {.precision_ordering = "router matmul accumulated or rounded in bf16",
                  .wrong_computation = "router weight rows in another expert order than the "
                                       "experts'"}});
  rows.push_back(
      {.name = "experts",
       .hf_paths = {experts},
       .contains = "every expert's SwiGLU w2(act(w1 x) * w3 x) on every token, [n, experts x "
                   "hidden], expert-major",
       .per_layer = true,
       .order_group = 4,
       .inputs = {kNormal, kUniform, kSmallMagnitude},
       .causes = {.precision_ordering =
                      "expert activation or gate product computed in bf16 at the wrong point",
                  .missing_algorithm = "wrong activation in the experts",
                  .wrong_computation = "expert weights permuted by the state-dict conversion, "
                                       "or w1 and w3 swapped"}});
  rows.push_back(
      {.name = "moe",
       .hf_paths = {block},
       .contains = "the sparse MoE block: softmax(router logits) in float32, top-k, "
                   "renormalized, each token's experts weighted and summed",
       .per_layer = true,
       .order_group = 4,
       .sub_order = 2,  // after Qwen2-MoE's shared expert (sub_order 1)
       .inputs = {kNormal, kUniform, kOutlierChannels, kNearTiedRouter, kOneExpert},
       .causes = {.precision_ordering = "router softmax in bf16, or the top-k weights cast to "
                                        "bf16 before the renormalization",
                  .missing_algorithm = "top-k renormalization missing (or applied where "
                                       "norm_topk_prob is false), a shared expert added "
                                       "without its sigmoid gate, or tokens over an expert's "
                                       "capacity dropped",
                  .wrong_computation = "expert outputs combined onto the wrong tokens (all-to-all "
                                       "blocks read in another rank order)"}});
  return rows;
}

std::span<const std::string_view> MixtralFamily::model_types() const {
  static constexpr std::array<std::string_view, 1> kTypes = {"mixtral"};
  return kTypes;
}

void MixtralFamily::ReadConfig(const ConfigFields& top, ModelConfig& c) const {
  ReadKeyValueHeads(top, c, "required for mixtral: HF's default is 8, not num_attention_heads");
  // MixtralConfig: no biases; sliding_window None unless given; rope_theta 1e6 when absent.
  if (const json* window = top.Get("sliding_window")) {
    c.sliding_window = top.Size("sliding_window", *window);
  }
  if (!top.Has("rope_theta") && !top.Has("rope_parameters")) c.rope_theta = kDefaultRopeTheta;
  c.moe.num_experts = kDefaultExperts;
  if (const json* experts = top.Get("num_local_experts")) {
    c.moe.num_experts = top.Size("num_local_experts", *experts);
  }
  c.moe.num_experts_per_tok = kDefaultTopK;
  if (const json* k = top.Get("num_experts_per_tok")) {
    c.moe.num_experts_per_tok = top.Int("num_experts_per_tok", *k, 1, c.moe.num_experts);
  } else if (c.moe.num_experts < kDefaultTopK) {
    top.FailMissing("num_experts_per_tok", "HF's default 2 exceeds num_local_experts = " +
                                               std::to_string(c.moe.num_experts));
  }
  c.moe.norm_topk_prob = true;  // MixtralSparseMoeBlock always renormalizes
  c.moe.moe_intermediate_size = c.intermediate_size;
}

void MixtralFamily::WriteConfig(const ModelConfig& c, json& j) const {
  j["architectures"] = json::array({"MixtralForCausalLM"});
  j["sliding_window"] = c.sliding_window ? json(*c.sliding_window) : json(nullptr);
  j["num_local_experts"] = c.moe.num_experts;
  j["num_experts_per_tok"] = c.moe.num_experts_per_tok;
}

std::vector<ParameterSpec> MixtralFamily::Parameters(const ModelConfig& c) const {
  const SparseMoeNames names = MoeNames();
  std::vector<ParameterSpec> specs;
  constexpr std::string_view kPostNorm = "post_attention_layernorm.weight";
  const auto mlp = [&](const std::string& prefix, int64_t inter) {
    const int64_t h = c.hidden_size;
    specs.push_back(
        {prefix + std::string(names.gate) + ".weight", {inter, h}, ParameterInit::kLinear});
    specs.push_back(
        {prefix + std::string(names.down) + ".weight", {h, inter}, ParameterInit::kLinear});
    specs.push_back(
        {prefix + std::string(names.up) + ".weight", {inter, h}, ParameterInit::kLinear});
  };
  for (ParameterSpec& spec : LlamaParameters(c, QkNorm(), /*dense_mlp=*/false)) {
    const bool post_norm = spec.name.ends_with(kPostNorm);
    const std::string layer = spec.name.substr(0, spec.name.size() - kPostNorm.size());
    specs.push_back(std::move(spec));
    // HF's module order: the MoE block after the post-attention norm of each layer; in it the
    // router, the experts, then Qwen2-MoE's shared expert and its gate.
    if (!post_norm) continue;
    const std::string moe = layer + std::string(names.block) + ".";
    specs.push_back(
        {moe + "gate.weight", {c.moe.num_experts, c.hidden_size}, ParameterInit::kLinear});
    for (int64_t e = 0; e < c.moe.num_experts; ++e) {
      mlp(moe + "experts." + std::to_string(e) + ".", c.moe.moe_intermediate_size);
    }
    if (c.moe.shared_expert_intermediate_size > 0) {
      mlp(moe + "shared_expert.", c.moe.shared_expert_intermediate_size);
      specs.push_back(
          {moe + "shared_expert_gate.weight", {1, c.hidden_size}, ParameterInit::kLinear});
    }
  }
  return specs;
}

std::vector<nn::MoeWeights> SparseMoeWeights(const StateDict& weights, const ModelConfig& c,
                                             const SparseMoeNames& names) {
  const auto linear = [&](const std::string& name) {
    return nn::LinearWeights{MatrixParameter(weights, name + ".weight"), nn::Vector()};
  };
  // gate, up, down in nn's order; Mixtral's w2(act(w1 x) * w3 x) is down(act(gate x) * up x).
  const auto mlp = [&](const std::string& prefix) {
    return nn::MlpWeights{linear(prefix + std::string(names.gate)),
                          linear(prefix + std::string(names.up)),
                          linear(prefix + std::string(names.down))};
  };
  std::vector<nn::MoeWeights> out;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string moe =
        "model.layers." + std::to_string(i) + "." + std::string(names.block) + ".";
    nn::MoeWeights w;
    w.gate = linear(moe + "gate");
    for (int64_t e = 0; e < c.moe.num_experts; ++e) {
      w.experts.push_back(mlp(moe + "experts." + std::to_string(e) + "."));
    }
    if (c.moe.shared_expert_intermediate_size > 0) {
      w.shared_expert = mlp(moe + "shared_expert.");
      w.shared_expert_gate = linear(moe + "shared_expert_gate");
    }
    out.push_back(std::move(w));
  }
  return out;
}

std::span<const ComponentKind> MixtralFamily::Components() const {
  static const std::vector<ComponentKind> kTable = MakeComponents();
  return kTable;
}

ModuleNode MixtralFamily::ReferenceTree(const ModelConfig& c) const {
  const SparseMoeNames names = MoeNames();
  ModuleNode root = LlamaFamily::ReferenceTree(c);
  const int64_t h = c.hidden_size;
  const std::string act = c.hidden_act == HiddenAct::kSilu   ? "SiLU"
                          : c.hidden_act == HiddenAct::kGelu ? "GELUActivation"
                                                             : "PytorchGELUTanh";
  const auto mlp = [&](std::string name, int64_t inter) {
    return ModuleNode{
        std::move(name),
        std::string(names.expert_class),
        {},
        {LinearNode(std::string(names.gate), inter, h),
         LinearNode(std::string(names.down), h, inter), LinearNode(std::string(names.up), inter, h),
         ModuleNode{"act_fn", act, {}, {}}}};
  };
  ModuleNode experts{"experts", "ModuleList", {}, {}};
  for (int64_t e = 0; e < c.moe.num_experts; ++e) {
    experts.children.push_back(mlp(std::to_string(e), c.moe.moe_intermediate_size));
  }
  ModuleNode moe{std::string(names.block),
                 std::string(names.block_class),
                 {},
                 {LinearNode("gate", c.moe.num_experts, h), std::move(experts)}};
  if (c.moe.shared_expert_intermediate_size > 0) {
    moe.children.push_back(mlp("shared_expert", c.moe.shared_expert_intermediate_size));
    moe.children.push_back(LinearNode("shared_expert_gate", 1, h));
  }
  for (ModuleNode& model : root.children) {
    for (ModuleNode& layers : model.children) {
      if (layers.name != "layers") continue;
      for (ModuleNode& layer : layers.children) {
        for (ModuleNode& child : layer.children) {
          if (child.name == "mlp") child = moe;
        }
      }
    }
  }
  return root;
}

std::unique_ptr<Reference> MixtralFamily::MakeReference(const ModelConfig& config,
                                                        const StateDict& weights,
                                                        nn::Precision precision) const {
  return std::make_unique<MixtralReference>(
      config, LlamaWeights(weights, config, QkNorm(), /*dense_mlp=*/false),
      SparseMoeWeights(weights, config, MoeNames()), precision);
}

std::unique_ptr<Port> MixtralFamily::MakeBuiltinPort(const PortContext& context) const {
  const std::span<const nxd::NxdFault> catalogs[] = {nxd::NxdFaults(), OwnPortFaults()};
  nxd::NxdSteps steps =
      nxd::StepsWith(nxd::DefaultSteps(context.device.activation_dtype), context.faults, catalogs);
  StateDict storage;
  const StateDict& weights = nxd::PortStateDict(context, steps, storage);
  return std::make_unique<nxd::NxdMoePort>(
      context.config, LlamaWeights(weights, context.config, QkNorm(), false),
      SparseMoeWeights(weights, context.config, MoeNames()), context.device, std::move(steps),
      PortNaming(context.config));
}

ModuleNode MixtralFamily::BuiltinPortTree(const ModelConfig& config,
                                          const device::DeviceConfig& device) const {
  return nxd::NxdMoeModuleTree(config, device, PortNaming(config));
}

std::span<const nxd::NxdFault> MixtralFamily::OwnPortFaults() const { return kFaults; }

std::span<const FaultInfo> MixtralFamily::Faults() const {
  static const std::vector<FaultInfo> kInfos = MakeFaultInfos();
  return kInfos;
}

}  // namespace equiv
