// The gpt_oss family's config.json fields, parameters, components, module tree and reference
// (docs/model-config.md, "gpt_oss"). Defaults are GptOssConfig's (transformers 4.55-4.5x).
#include "libequiv/families/gpt_oss/gpt_oss_family.h"

#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "libequiv/families/gpt_oss/gpt_oss_reference.h"
#include "libequiv/ports/nxd/nxd_moe_port.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using enum InputKind;
using nlohmann::json;

constexpr int64_t kDefaultHeadDim = 64;
constexpr int64_t kDefaultExperts = 128;
constexpr int64_t kDefaultTopK = 4;
constexpr int64_t kDefaultSlidingWindow = 128;
constexpr double kDefaultRopeTheta = 150000.0;
constexpr double kDefaultEps = 1e-5;
constexpr double kDefaultSwigluLimit = 7.0;
constexpr double kDefaultSwigluAlpha = 1.702;

constexpr std::string_view kSliding = "sliding_attention";
constexpr std::string_view kFull = "full_attention";

// GptOssConfig's rope when config.json gives none: YaRN, factor 32 over 4096 positions,
// beta_fast 32, beta_slow 1, no truncation; the attention factor 0.1 ln(32) + 1 as HF derives it.
RopeScaling DefaultYarn() {
  RopeScaling s;
  s.type = RopeType::kYarn;
  s.factor = 32.0;
  s.original_max_position_embeddings = 4096;
  s.beta_fast = 32.0;
  s.beta_slow = 1.0;
  s.truncate = false;
  s.attention_factor = 0.1 * std::log(s.factor) + 1.0;
  return s;
}

// layer_types, or GptOssConfig's derivation: sliding, full, sliding, ... (layer i slides when
// (i + 1) % 2 != 0).
std::vector<LayerAttention> ReadLayerTypes(const ConfigFields& top, const ModelConfig& c) {
  std::vector<LayerAttention> out;
  const json* types = top.Get("layer_types");
  if (types == nullptr) {
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
      out.push_back((i + 1) % 2 != 0 ? LayerAttention::kSliding : LayerAttention::kFull);
    }
    return out;
  }
  if (!types->is_array()) top.Fail("layer_types", *types, "must be an array");
  if (static_cast<int64_t>(types->size()) != c.num_hidden_layers) {
    top.Fail("layer_types", *types,
             "must have num_hidden_layers = " + std::to_string(c.num_hidden_layers) +
                 " entries, has " + std::to_string(types->size()));
  }
  for (std::size_t i = 0; i < types->size(); ++i) {
    const json& entry = (*types)[i];
    if (!entry.is_string() || (entry.get_ref<const std::string&>() != kSliding &&
                               entry.get_ref<const std::string&>() != kFull)) {
      top.Fail("layer_types[" + std::to_string(i) + "]", entry,
               "must be \"sliding_attention\" or \"full_attention\"");
    }
    out.push_back(entry.get_ref<const std::string&>() == kSliding ? LayerAttention::kSliding
                                                                  : LayerAttention::kFull);
  }
  return out;
}

std::vector<ComponentKind> MakeComponents() {
  std::vector<ComponentKind> table;
  for (ComponentKind kind : LlamaComponents()) {
    if (kind.name == "mlp") continue;
    if (kind.name == "attention") {
      kind.contains =
          "the whole self-attention: biased projections, YaRN rotary, masked softmax with the "
          "head's learned sink as one more column (dropped after the softmax), o_proj; sliding "
          "or full by layer_types";
      kind.causes.missing_algorithm =
          "attention sinks dropped, causal mask or sliding window wrong (sliding/full "
          "alternation), or the rotary embedding's YaRN scaling when no rotary case runs";
    }
    if (kind.name == "input_layernorm" || kind.name == "post_attention_layernorm") {
      kind.causes.precision_ordering =
          "the normalized row cast to bf16 before the weight multiplies it (GptOssRMSNorm "
          "rounds once)";
    }
    table.push_back(std::move(kind));
  }
  for (ComponentKind& kind : SparseMoeComponents(
           "model.layers.{i}.mlp.router", "model.layers.{i}.mlp.experts", "model.layers.{i}.mlp")) {
    if (kind.name == "router") {
      kind.contains =
          "the router: logits [n, experts] = linear(x, weight, bias); its top-k choice compared "
          "exactly where the reference's is clear";
      kind.causes.missing_algorithm = "the router's bias dropped";
    }
    if (kind.name == "experts") {
      kind.contains =
          "every expert on every token, unweighted, [n, experts x hidden], expert-major: "
          "gate_up = x @ gate_up_proj + bias, gate/up interleaved, clamped SwiGLU "
          "(up + 1) * gate * sigmoid(1.702 gate), @ down_proj + bias";
      kind.causes.missing_algorithm = "the SwiGLU clamp (swiglu_limit) or an expert bias missing";
      kind.causes.wrong_computation =
          "gate and up read as halves of gate_up_proj instead of interleaved columns, expert "
          "weights permuted by the conversion";
    }
    if (kind.name == "moe") {
      kind.contains =
          "the MoE block: top-k of the router logits, softmax over those k, each token's "
          "experts weighted and summed in float32";
      kind.causes.precision_ordering = "the experts' weighted outputs summed in bf16";
      kind.causes.missing_algorithm =
          "softmax over all experts before the top-k (Mixtral's "
          "order) instead of over the k selected logits";
    }
    table.push_back(std::move(kind));
  }
  return table;
}

}  // namespace

std::span<const std::string_view> GptOssFamily::model_types() const {
  static constexpr std::array<std::string_view, 1> kTypes = {"gpt_oss"};
  return kTypes;
}

SparseMoeNames GptOssFamily::MoeNames() const {
  return {.block = "mlp", .block_class = "GptOssMLP", .expert_class = "GptOssExperts"};
}

void GptOssFamily::ReadConfig(const ConfigFields& top, ModelConfig& c) const {
  if (!top.Has("head_dim")) c.head_dim = kDefaultHeadDim;
  ReadKeyValueHeads(top, c, "required for gpt_oss: HF's default is 8, not num_attention_heads");
  if (!top.Has("rms_norm_eps")) c.rms_norm_eps = kDefaultEps;
  const bool rope_given = top.Has("rope_scaling") || top.Has("rope_parameters");
  if (!top.Has("rope_theta") && !rope_given) c.rope_theta = kDefaultRopeTheta;
  if (!rope_given) c.rope_scaling = DefaultYarn();
  // GptOssAttention: attention_bias (default true) on q, k, v and o.
  c.qkv_bias = c.o_proj_bias = top.Bool("attention_bias", true);
  c.mlp_bias = false;
  c.sliding_window = kDefaultSlidingWindow;
  if (top.Has("sliding_window")) {
    const json* window = top.Get("sliding_window");
    c.sliding_window = window == nullptr
                           ? std::nullopt
                           : std::optional<int64_t>(top.Size("sliding_window", *window));
  }
  c.layer_types = ReadLayerTypes(top, c);

  MoeSettings& m = c.moe;
  m.num_experts = kDefaultExperts;
  if (const json* experts = top.Get("num_local_experts")) {
    m.num_experts = top.Size("num_local_experts", *experts);
  }
  m.num_experts_per_tok = kDefaultTopK;
  if (const json* k = top.Get("num_experts_per_tok")) {
    m.num_experts_per_tok = top.Int("num_experts_per_tok", *k, 1, m.num_experts);
  } else if (m.num_experts < kDefaultTopK) {
    top.FailMissing("num_experts_per_tok",
                    "HF's default 4 exceeds num_local_experts = " + std::to_string(m.num_experts));
  }
  // openai's own key; HF reads num_experts_per_tok only, so the two must agree.
  if (const json* k = top.Get("experts_per_token")) {
    if (top.Int("experts_per_token", *k, 1, m.num_experts) != m.num_experts_per_tok) {
      top.Fail("experts_per_token", *k,
               "differs from num_experts_per_tok = " + std::to_string(m.num_experts_per_tok) +
                   ", which HF routes by");
    }
  }
  m.moe_intermediate_size = c.intermediate_size;  // GptOssExperts.expert_dim
  m.norm_topk_prob = false;
  m.softmax_after_topk = true;
  m.swiglu_limit = kDefaultSwigluLimit;
  if (const json* limit = top.Get("swiglu_limit")) {
    m.swiglu_limit = top.Positive("swiglu_limit", *limit);
  }
  m.swiglu_alpha = kDefaultSwigluAlpha;
  if (const json* alpha = top.Get("swiglu_alpha")) {
    m.swiglu_alpha = top.Positive("swiglu_alpha", *alpha);
  }
}

void GptOssFamily::WriteConfig(const ModelConfig& c, json& j) const {
  j["architectures"] = json::array({"GptOssForCausalLM"});
  j["attention_bias"] = c.qkv_bias;
  j["sliding_window"] = c.sliding_window ? json(*c.sliding_window) : json(nullptr);
  json types = json::array();
  for (const LayerAttention type : c.layer_types) {
    types.push_back(type == LayerAttention::kSliding ? kSliding : kFull);
  }
  j["layer_types"] = types;
  j["num_local_experts"] = c.moe.num_experts;
  j["num_experts_per_tok"] = c.moe.num_experts_per_tok;
  j["swiglu_limit"] = c.moe.swiglu_limit;
  j["swiglu_alpha"] = c.moe.swiglu_alpha;
}

std::vector<ParameterSpec> GptOssFamily::Parameters(const ModelConfig& c) const {
  using enum ParameterInit;
  const int64_t h = c.hidden_size, e = c.moe.num_experts, inter = c.moe.moe_intermediate_size;
  std::vector<ParameterSpec> specs;
  constexpr std::string_view kQProj = "self_attn.q_proj.weight";
  constexpr std::string_view kPostNorm = "post_attention_layernorm.weight";
  for (ParameterSpec& spec : LlamaParameters(c, /*qk_norm=*/false, /*dense_mlp=*/false)) {
    const bool q_proj = spec.name.ends_with(kQProj);
    const bool post_norm = spec.name.ends_with(kPostNorm);
    const std::string layer =
        q_proj ? spec.name.substr(0, spec.name.size() - kQProj.size())
               : spec.name.substr(0, post_norm ? spec.name.size() - kPostNorm.size() : 0);
    // HF's state_dict order: a module's own parameters (the sinks) before its children's.
    if (q_proj) specs.push_back({layer + "self_attn.sinks", {c.num_attention_heads}, kBias});
    specs.push_back(std::move(spec));
    if (!post_norm) continue;
    const std::string mlp = layer + "mlp.";
    specs.push_back({mlp + "router.weight", {e, h}, kLinear});
    specs.push_back({mlp + "router.bias", {e}, kBias});
    specs.push_back({mlp + "experts.gate_up_proj", {e, h, 2 * inter}, kLinear});
    specs.push_back({mlp + "experts.gate_up_proj_bias", {e, 2 * inter}, kBias});
    specs.push_back({mlp + "experts.down_proj", {e, inter, h}, kLinear});
    specs.push_back({mlp + "experts.down_proj_bias", {e, h}, kBias});
  }
  return specs;
}

nn::CausalLmWeights GptOssDenseWeights(const StateDict& weights, const ModelConfig& config) {
  nn::CausalLmWeights out = LlamaWeights(weights, config, /*qk_norm=*/false, /*dense_mlp=*/false);
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const std::string name = "model.layers." + std::to_string(i) + ".self_attn.sinks";
    out.layers[i].self_attn.sinks = VectorParameter(weights, name);
    if (out.layers[i].self_attn.sinks.size() != config.num_attention_heads) {
      throw Error(
          "parameter " + name + " has " + std::to_string(out.layers[i].self_attn.sinks.size()) +
          " values, expected num_attention_heads = " + std::to_string(config.num_attention_heads));
    }
  }
  return out;
}

std::vector<nn::MoeWeights> GptOssMoeWeights(const StateDict& weights, const ModelConfig& c) {
  const int64_t experts = c.moe.num_experts, inter = c.moe.moe_intermediate_size;
  const int64_t h = c.hidden_size;
  const auto check = [&](const std::string& name, const nn::Matrix& m, int64_t rows, int64_t cols) {
    if (m.rows() != rows || m.cols() != cols) {
      throw Error("parameter " + name + " has shape [" + std::to_string(m.rows()) + ", " +
                  std::to_string(m.cols()) + "], expected [" + std::to_string(rows) + ", " +
                  std::to_string(cols) + "]");
    }
  };
  std::vector<nn::MoeWeights> out;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string mlp = "model.layers." + std::to_string(i) + ".mlp.";
    nn::MoeWeights w;
    w.gate = {MatrixParameter(weights, mlp + "router.weight"),
              VectorParameter(weights, mlp + "router.bias")};
    check(mlp + "router.weight", w.gate.weight, experts, h);
    const std::vector<nn::Matrix> gate_up =
        StackedMatrixParameter(weights, mlp + "experts.gate_up_proj");
    const nn::Matrix gate_up_bias = MatrixParameter(weights, mlp + "experts.gate_up_proj_bias");
    const std::vector<nn::Matrix> down = StackedMatrixParameter(weights, mlp + "experts.down_proj");
    const nn::Matrix down_bias = MatrixParameter(weights, mlp + "experts.down_proj_bias");
    if (static_cast<int64_t>(gate_up.size()) != experts ||
        static_cast<int64_t>(down.size()) != experts) {
      throw Error("parameters " + mlp + "experts.*: " + std::to_string(gate_up.size()) + " and " +
                  std::to_string(down.size()) + " experts, num_local_experts is " +
                  std::to_string(experts));
    }
    check(mlp + "experts.gate_up_proj_bias", gate_up_bias, experts, 2 * inter);
    check(mlp + "experts.down_proj_bias", down_bias, experts, h);
    for (int64_t e = 0; e < experts; ++e) {
      check(mlp + "experts.gate_up_proj[" + std::to_string(e) + "]", gate_up[e], h, 2 * inter);
      check(mlp + "experts.down_proj[" + std::to_string(e) + "]", down[e], inter, h);
      nn::MlpWeights expert;
      expert.gate_proj.weight.resize(inter, h);
      expert.up_proj.weight.resize(inter, h);
      expert.gate_proj.bias.resize(inter);
      expert.up_proj.bias.resize(inter);
      for (int64_t j = 0; j < inter; ++j) {  // gate = [..., ::2], up = [..., 1::2]
        expert.gate_proj.weight.row(j) = gate_up[e].col(2 * j).transpose();
        expert.up_proj.weight.row(j) = gate_up[e].col(2 * j + 1).transpose();
        expert.gate_proj.bias(j) = gate_up_bias(e, 2 * j);
        expert.up_proj.bias(j) = gate_up_bias(e, 2 * j + 1);
      }
      expert.down_proj.weight = down[e].transpose();
      expert.down_proj.bias = down_bias.row(e).transpose();
      w.experts.push_back(std::move(expert));
    }
    out.push_back(std::move(w));
  }
  return out;
}

std::span<const ComponentKind> GptOssFamily::Components() const {
  static const std::vector<ComponentKind> kTable = MakeComponents();
  return kTable;
}

ModuleNode GptOssFamily::ReferenceTree(const ModelConfig& c) const {
  ModuleNode root = LlamaFamily::ReferenceTree(c);
  const int64_t h = c.hidden_size, e = c.moe.num_experts, inter = c.moe.moe_intermediate_size;
  const ModuleNode mlp{
      "mlp",
      "GptOssMLP",
      {},
      {ModuleNode{"router", "GptOssTopKRouter", {{"weight", {e, h}}, {"bias", {e}}}, {}},
       ModuleNode{"experts",
                  "GptOssExperts",
                  {{"gate_up_proj", {e, h, 2 * inter}},
                   {"gate_up_proj_bias", {e, 2 * inter}},
                   {"down_proj", {e, inter, h}},
                   {"down_proj_bias", {e, h}}},
                  {}}}};
  for (ModuleNode& model : root.children) {
    for (ModuleNode& layers : model.children) {
      if (layers.name != "layers") continue;
      for (ModuleNode& layer : layers.children) {
        for (ModuleNode& child : layer.children) {
          if (child.name == "mlp") child = mlp;
          if (child.name == "self_attn") {
            child.parameters.insert(child.parameters.begin(), {"sinks", {c.num_attention_heads}});
          }
        }
      }
    }
  }
  return root;
}

std::unique_ptr<Reference> GptOssFamily::MakeReference(const ModelConfig& config,
                                                       const StateDict& weights,
                                                       nn::Precision precision) const {
  return std::make_unique<GptOssReference>(config, GptOssDenseWeights(weights, config),
                                           GptOssMoeWeights(weights, config), precision);
}

std::unique_ptr<Port> GptOssFamily::MakeBuiltinPort(const PortContext& context) const {
  const std::span<const nxd::NxdFault> catalogs[] = {nxd::NxdFaults(), OwnPortFaults()};
  nxd::NxdSteps steps =
      nxd::StepsWith(GptOssSteps(context.device.activation_dtype), context.faults, catalogs);
  StateDict storage;
  const StateDict& weights = nxd::PortStateDict(context, steps, storage);
  return std::make_unique<nxd::NxdMoePort>(
      context.config, GptOssDenseWeights(weights, context.config),
      GptOssMoeWeights(weights, context.config), context.device, std::move(steps),
      PortNaming(context.config));
}

std::span<const nxd::NxdFault> GptOssFamily::OwnPortFaults() const { return GptOssPortFaults(); }

std::span<const FaultInfo> GptOssFamily::Faults() const {
  static const std::vector<FaultInfo> kInfos = [] {
    std::vector<FaultInfo> infos;
    for (const nxd::NxdFault& fault : GptOssPortFaults()) infos.push_back(fault.info);
    return infos;
  }();
  return kInfos;
}

}  // namespace equiv
