// The Gemma families' config.json fields, parameters, module trees and built-in port
// (docs/model-config.md, "gemma2 and gemma3_text").
#include "libequiv/families/gemma/gemma_family.h"

#include <array>
#include <optional>
#include <string>
#include <utility>

#include "libequiv/families/gemma/gemma_reference.h"
#include "libequiv/families/internal/shipped_port_mappings.h"
#include "libequiv/families/llama/llama_family.h"
#include "libequiv/ports/nxd/nxd_port.h"

namespace equiv {
namespace {

using nlohmann::json;

// Gemma2Config and Gemma3TextConfig defaults where config.json leaves a field out.
constexpr int64_t kDefaultHeadDim = 256;
constexpr double kDefaultQueryPreAttnScalar = 256.0;
constexpr int64_t kDefaultSlidingWindow = 4096;
constexpr double kGemma2AttnSoftcap = 50.0;
constexpr double kGemma2FinalSoftcap = 30.0;
constexpr double kGemma3RopeTheta = 1000000.0;
constexpr double kDefaultLocalBase = 10000.0;
constexpr int64_t kDefaultSlidingWindowPattern = 6;

constexpr std::string_view kSliding = "sliding_attention";
constexpr std::string_view kFull = "full_attention";

HiddenAct ReadActivation(const ConfigFields& top) {
  // Gemma2MLP and Gemma3MLP read hidden_activation; hidden_act, if present, is not used.
  const json* value = top.Get("hidden_activation");
  if (value == nullptr) return HiddenAct::kGeluPytorchTanh;
  const std::string& name = top.String("hidden_activation", *value);
  for (const HiddenAct act : {HiddenAct::kSilu, HiddenAct::kGelu, HiddenAct::kGeluPytorchTanh}) {
    if (HiddenActName(act) == name) return act;
  }
  top.Fail("hidden_activation", *value,
           "is not a supported activation (silu, gelu, gelu_pytorch_tanh)");
}

// A soft-cap: a positive number, or null for none.
std::optional<double> ReadSoftcap(const ConfigFields& top, std::string_view key,
                                  std::optional<double> default_value) {
  if (!top.Has(key)) return default_value;
  const json* value = top.Get(key);
  if (value == nullptr) return std::nullopt;
  return top.Positive(key, *value);
}

std::optional<int64_t> ReadWindow(const ConfigFields& top) {
  if (!top.Has("sliding_window")) return kDefaultSlidingWindow;
  const json* value = top.Get("sliding_window");
  if (value == nullptr) return std::nullopt;
  return top.Size("sliding_window", *value);
}

// Gemma 3's derived pattern: every sliding_window_pattern-th layer attends fully.
std::vector<LayerAttention> PatternTypes(int64_t layers, int64_t pattern) {
  std::vector<LayerAttention> types;
  for (int64_t i = 0; i < layers; ++i) {
    types.push_back((i + 1) % pattern != 0 ? LayerAttention::kSliding : LayerAttention::kFull);
  }
  return types;
}

std::vector<LayerAttention> ReadLayerTypes(const ConfigFields& top, const ModelConfig& c,
                                           bool gemma3) {
  const json* types = top.Get("layer_types");
  if (types == nullptr) {
    if (!gemma3) return PatternTypes(c.num_hidden_layers, 2);  // sliding, full, sliding, ...
    int64_t pattern = kDefaultSlidingWindowPattern;
    if (const json* p = top.Get("sliding_window_pattern")) {
      pattern = top.Int("sliding_window_pattern", *p, 1, kMaxConfigSize);
    }
    return PatternTypes(c.num_hidden_layers, pattern);
  }
  if (!types->is_array()) top.Fail("layer_types", *types, "must be an array");
  if (static_cast<int64_t>(types->size()) != c.num_hidden_layers) {
    top.Fail("layer_types", *types,
             "must have num_hidden_layers = " + std::to_string(c.num_hidden_layers) +
                 " entries, has " + std::to_string(types->size()));
  }
  std::vector<LayerAttention> out;
  for (std::size_t i = 0; i < types->size(); ++i) {
    const json& entry = (*types)[i];
    const std::string key = "layer_types[" + std::to_string(i) + "]";
    if (!entry.is_string() || (entry.get_ref<const std::string&>() != kSliding &&
                               entry.get_ref<const std::string&>() != kFull)) {
      top.Fail(key, entry, "must be \"sliding_attention\" or \"full_attention\"");
    }
    out.push_back(entry.get_ref<const std::string&>() == kSliding ? LayerAttention::kSliding
                                                                  : LayerAttention::kFull);
  }
  return out;
}

// The smallest sliding_window_pattern that gives these types, or nullopt.
std::optional<int64_t> PatternOf(const std::vector<LayerAttention>& types) {
  for (int64_t p = 1; p <= static_cast<int64_t>(types.size()) + 1; ++p) {
    if (PatternTypes(static_cast<int64_t>(types.size()), p) == types) return p;
  }
  return std::nullopt;
}

json Nullable(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }

}  // namespace

std::string_view GemmaFamily::name() const { return Gemma3() ? "gemma3_text" : "gemma2"; }

std::span<const std::string_view> GemmaFamily::model_types() const {
  static constexpr std::array<std::string_view, 1> kGemma2 = {"gemma2"};
  static constexpr std::array<std::string_view, 1> kGemma3 = {"gemma3_text"};
  return Gemma3() ? std::span<const std::string_view>(kGemma3)
                  : std::span<const std::string_view>(kGemma2);
}

std::string_view GemmaFamily::tiny_config() const {
  return Gemma3() ? "tiny-gemma3" : "tiny-gemma2";
}

void GemmaFamily::ReadConfig(const ConfigFields& top, ModelConfig& c) const {
  const std::string type = std::string(name());
  // head_dim is its own field, 256 when absent (not hidden_size / heads).
  if (!top.Has("head_dim")) c.head_dim = kDefaultHeadDim;
  ReadKeyValueHeads(top, c,
                    "required for " + type + ": HF's default is 4, not num_attention_heads");
  c.hidden_act = ReadActivation(top);
  c.tie_word_embeddings = top.Bool("tie_word_embeddings", true);  // Gemma ties by default
  c.qkv_bias = c.o_proj_bias = top.Bool("attention_bias", false);
  c.mlp_bias = false;
  if (const json* q = top.Get("query_pre_attn_scalar")) {
    c.query_pre_attn_scalar = top.Positive("query_pre_attn_scalar", *q);
  } else {
    c.query_pre_attn_scalar = kDefaultQueryPreAttnScalar;
  }
  c.sliding_window = ReadWindow(top);
  c.layer_types = ReadLayerTypes(top, c, Gemma3());
  // Gemma3TextConfig has attn_logit_softcapping (default null) but Gemma3Attention never passes
  // it to the attention function: Gemma 3 does not soft-cap its attention logits.
  c.attn_logit_softcapping = ReadSoftcap(top, "attn_logit_softcapping", kGemma2AttnSoftcap);
  if (Gemma3()) c.attn_logit_softcapping.reset();
  c.final_logit_softcapping = ReadSoftcap(
      top, "final_logit_softcapping", Gemma3() ? std::nullopt : std::optional(kGemma2FinalSoftcap));
  if (const json* rope = top.Get("rope_parameters");
      rope != nullptr && rope->is_object() && (rope->contains(kSliding) || rope->contains(kFull))) {
    top.Fail("rope_parameters", *rope,
             "holds parameters by layer type (transformers 5), which equiv does not read; give "
             "rope_theta, rope_scaling and rope_local_base_freq");
  }
  if (!Gemma3()) return;
  const json* rope = top.Get("rope_parameters");
  const bool theta_given = top.Has("rope_theta") ||
                           (rope != nullptr && rope->is_object() && rope->contains("rope_theta"));
  if (!theta_given) c.rope_theta = kGemma3RopeTheta;
  c.rope_local_base_freq = kDefaultLocalBase;
  if (const json* local = top.Get("rope_local_base_freq")) {
    c.rope_local_base_freq = top.Number("rope_local_base_freq", *local);
    if (!(*c.rope_local_base_freq > 1)) top.Fail("rope_local_base_freq", *local, "must be > 1");
  }
}

void GemmaFamily::WriteConfig(const ModelConfig& c, json& j) const {
  j["architectures"] = json::array({ClassPrefix() + "ForCausalLM"});
  j["hidden_activation"] = HiddenActName(c.hidden_act);
  j["attention_bias"] = c.qkv_bias;
  j["query_pre_attn_scalar"] = c.query_pre_attn_scalar;
  j["sliding_window"] = c.sliding_window ? json(*c.sliding_window) : json(nullptr);
  json types = json::array();
  for (const LayerAttention t : c.layer_types) {
    types.push_back(t == LayerAttention::kSliding ? kSliding : kFull);
  }
  j["layer_types"] = types;
  j["attn_logit_softcapping"] = Nullable(c.attn_logit_softcapping);
  j["final_logit_softcapping"] = Nullable(c.final_logit_softcapping);
  if (Gemma3()) {
    j["rope_local_base_freq"] = c.rope_local_base_freq.value_or(kDefaultLocalBase);
    // transformers before 4.53 derive the layer types from the pattern only.
    if (const std::optional<int64_t> pattern = PatternOf(c.layer_types)) {
      j["sliding_window_pattern"] = *pattern;
    }
  }
}

std::vector<ParameterSpec> GemmaFamily::Parameters(const ModelConfig& c) const {
  // Llama's parameters (Gemma 3's q/k norms included) and the feed-forward norms. Every norm
  // weight is the w of x * (1 + w): near zero, drawn as biases are. The embedding is drawn at
  // 1 / sqrt(hidden_size), as Gemma's checkpoints hold it, so that the scaled embeddings and
  // the tied lm_head's logits are of unit scale.
  constexpr std::string_view kPostAttention = "post_attention_layernorm.weight";
  std::vector<ParameterSpec> specs;
  for (ParameterSpec& spec : LlamaParameters(c, Gemma3())) {
    if (spec.name.ends_with("norm.weight")) spec.init = ParameterInit::kBias;
    if (spec.name == "model.embed_tokens.weight") spec.init = ParameterInit::kLinear;
    specs.push_back(spec);
    if (spec.name.ends_with(kPostAttention)) {
      const std::string layer = spec.name.substr(0, spec.name.size() - kPostAttention.size());
      for (const char* norm : {"pre_feedforward_layernorm", "post_feedforward_layernorm"}) {
        specs.push_back({layer + norm + ".weight", {c.hidden_size}, ParameterInit::kBias});
      }
    }
  }
  return specs;
}

nn::CausalLmWeights GemmaWeightsOf(const StateDict& weights, const ModelConfig& config) {
  nn::CausalLmWeights out = LlamaWeights(weights, config, config.model_type == "gemma3_text");
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const std::string layer = "model.layers." + std::to_string(i) + ".";
    nn::DecoderLayerWeights& w = out.layers[static_cast<std::size_t>(i)];
    w.pre_feedforward_layernorm =
        VectorParameter(weights, layer + "pre_feedforward_layernorm.weight");
    w.post_feedforward_layernorm =
        VectorParameter(weights, layer + "post_feedforward_layernorm.weight");
  }
  return out;
}

ModuleNode GemmaFamily::ReferenceTree(const ModelConfig& c) const {
  const std::string prefix = ClassPrefix();
  const int64_t q = c.num_attention_heads * c.head_dim;
  const int64_t kv = c.num_key_value_heads * c.head_dim;
  const auto linear = [](std::string name, int64_t out, int64_t in, bool bias) {
    ModuleNode node{std::move(name), "Linear", {{"weight", {out, in}}}, {}};
    if (bias) node.parameters.push_back({"bias", {out}});
    return node;
  };
  const auto norm = [&](std::string name, int64_t size) {
    return ModuleNode{std::move(name), prefix + "RMSNorm", {{"weight", {size}}}, {}};
  };
  const std::string act = c.hidden_act == HiddenAct::kSilu   ? "SiLU"
                          : c.hidden_act == HiddenAct::kGelu ? "GELUActivation"
                                                             : "PytorchGELUTanh";
  ModuleNode layers{"layers", "ModuleList", {}, {}};
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    ModuleNode attn{"self_attn",
                    prefix + "Attention",
                    {},
                    {linear("q_proj", q, c.hidden_size, c.qkv_bias),
                     linear("k_proj", kv, c.hidden_size, c.qkv_bias),
                     linear("v_proj", kv, c.hidden_size, c.qkv_bias),
                     linear("o_proj", c.hidden_size, q, c.o_proj_bias)}};
    if (Gemma3()) {
      attn.children.push_back(norm("q_norm", c.head_dim));
      attn.children.push_back(norm("k_norm", c.head_dim));
    }
    ModuleNode mlp{"mlp",
                   prefix + "MLP",
                   {},
                   {linear("gate_proj", c.intermediate_size, c.hidden_size, false),
                    linear("up_proj", c.intermediate_size, c.hidden_size, false),
                    linear("down_proj", c.hidden_size, c.intermediate_size, false),
                    ModuleNode{"act_fn", act, {}, {}}}};
    layers.children.push_back(
        ModuleNode{std::to_string(i),
                   prefix + "DecoderLayer",
                   {},
                   {std::move(attn), std::move(mlp), norm("input_layernorm", c.hidden_size),
                    norm("post_attention_layernorm", c.hidden_size),
                    norm("pre_feedforward_layernorm", c.hidden_size),
                    norm("post_feedforward_layernorm", c.hidden_size)}});
  }
  ModuleNode model{"model",
                   Gemma3() ? "Gemma3TextModel" : "Gemma2Model",
                   {},
                   {ModuleNode{"embed_tokens",
                               Gemma3() ? "Gemma3TextScaledWordEmbedding" : "Embedding",
                               {{"weight", {c.vocab_size, c.hidden_size}}},
                               {}},
                    std::move(layers), norm("norm", c.hidden_size),
                    ModuleNode{"rotary_emb", prefix + "RotaryEmbedding", {}, {}}}};
  if (Gemma3()) {
    model.children.push_back(ModuleNode{"rotary_emb_local", "Gemma3RotaryEmbedding", {}, {}});
  }
  return ModuleNode{"",
                    prefix + "ForCausalLM",
                    {},
                    {std::move(model), linear("lm_head", c.vocab_size, c.hidden_size, false)}};
}

std::unique_ptr<Reference> GemmaFamily::MakeReference(const ModelConfig& config,
                                                      const StateDict& weights,
                                                      nn::Precision precision) const {
  return std::make_unique<GemmaReference>(config, GemmaWeightsOf(weights, config), precision);
}

nxd::NxdNaming GemmaFamily::PortNaming() const {
  return {.class_prefix = "Neuron" + ClassPrefix(),
          .qk_norm = Gemma3(),
          .feedforward_norms = true,
          .embedding_scales = Gemma3()};
}

std::unique_ptr<Port> GemmaFamily::MakeBuiltinPort(const PortContext& context) const {
  const std::span<const nxd::NxdFault> catalogs[] = {GemmaPortFaults()};
  nxd::NxdSteps steps =
      nxd::StepsWith(GemmaSteps(context.device.activation_dtype), context.faults, catalogs);
  StateDict storage;
  const StateDict& weights = nxd::PortStateDict(context, steps, storage);
  return std::make_unique<nxd::NxdPort>(context.config, GemmaWeightsOf(weights, context.config),
                                        context.device, std::move(steps), PortNaming());
}

ModuleNode GemmaFamily::BuiltinPortTree(const ModelConfig& config,
                                        const device::DeviceConfig& device) const {
  return nxd::NxdModuleTree(config, device, PortNaming());
}

std::span<const FaultInfo> GemmaFamily::Faults() const {
  static const std::vector<FaultInfo> kGemma2 = GemmaFaultsShownOn("tiny-gemma2");
  static const std::vector<FaultInfo> kGemma3 = GemmaFaultsShownOn("tiny-gemma3");
  return Gemma3() ? kGemma3 : kGemma2;
}

// configs/mappings/<name>-port.json, compiled in.
std::string_view GemmaFamily::BuiltinPortMappingJson() const {
  return ShippedPortMappingJson(name());
}

}  // namespace equiv
