#include "libequiv/models/reference_model.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "libequiv/nn/rms_norm.h"
#include "libequiv/nn/rotary.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

int64_t SeqLenOf(const std::vector<int64_t>& positions) {
  return positions.empty() ? 0 : *std::max_element(positions.begin(), positions.end()) + 1;
}

}  // namespace

ReferenceModel::ReferenceModel(const ModelConfig& config, const StateDict& weights,
                               nn::Precision precision)
    : config_(config),
      precision_(precision),
      weights_(ReferenceWeights(weights, config).Rounded(precision)) {}

nn::Matrix ReferenceModel::Run(Component component, int64_t layer,
                               const ComponentInput& input) const {
  if (IsPerLayer(component) && (layer < 0 || layer >= config_.num_hidden_layers)) {
    throw Error("reference " + std::string(ComponentName(component)) + ": layer " +
                std::to_string(layer) + " is outside [0, " +
                std::to_string(config_.num_hidden_layers) + ")");
  }
  const nn::Precision p = precision_;
  const nn::Matrix x = nn::Rounded(p, input.hidden);
  const auto& w = IsPerLayer(component) ? weights_.layers[layer] : weights_.layers.front();
  switch (component) {
    case Component::kEmbedding:
      return nn::Embedding(weights_.embed_tokens, input.ids);
    case Component::kInputNorm:
      return nn::RmsNorm(x, w.input_layernorm, config_.rms_norm_eps, p);
    case Component::kPostAttentionNorm:
      return nn::RmsNorm(x, w.post_attention_layernorm, config_.rms_norm_eps, p);
    case Component::kFinalNorm:
      return nn::RmsNorm(x, weights_.norm, config_.rms_norm_eps, p);
    case Component::kQkvProj: {
      const nn::Matrix q = nn::Linear(x, w.self_attn.q_proj, p);
      const nn::Matrix k = nn::Linear(x, w.self_attn.k_proj, p);
      const nn::Matrix v = nn::Linear(x, w.self_attn.v_proj, p);
      nn::Matrix out(x.rows(), q.cols() + k.cols() + v.cols());
      out << q, k, v;
      return out;
    }
    case Component::kRotary: {
      const int64_t d = config_.head_dim;
      const int64_t q_cols = config_.num_attention_heads * d;
      if (x.cols() != q_cols + config_.num_key_value_heads * d) {
        throw Error("reference rotary: input has " + std::to_string(x.cols()) +
                    " columns, q | k needs " +
                    std::to_string(q_cols + config_.num_key_value_heads * d));
      }
      const nn::RotaryTables tables = nn::RotaryCosSin(
          nn::ComputeRotaryFrequencies(config_, SeqLenOf(input.positions)), input.positions, p);
      nn::Matrix out(x.rows(), x.cols());
      out << nn::ApplyRotary(x.leftCols(q_cols), d, tables, p),
          nn::ApplyRotary(x.rightCols(x.cols() - q_cols), d, tables, p);
      return out;
    }
    case Component::kAttention:
      return nn::Attention(x, input.positions, w.self_attn, nn::AttentionSpecOf(config_, layer),
                           nn::ComputeRotaryFrequencies(config_, SeqLenOf(input.positions)), p);
    case Component::kMlp:
      return nn::GatedMlp(x, w.mlp, config_.hidden_act, p);
    case Component::kDecoderLayer:
      return nn::DecoderLayer(x, input.positions, w, config_, layer, p);
    case Component::kLmHead:
      return nn::LmHead(x, weights_, p);
    case Component::kCausalLm:
      return Logits(input.ids);
  }
  throw Error("reference: unknown component");
}

nn::Matrix ReferenceModel::Logits(std::span<const int64_t> ids) const {
  return nn::CausalLmLogits(ids, weights_, config_, precision_);
}

ModuleNode ReferenceModuleTree(const ModelConfig& c) {
  const std::string prefix = c.model_type == ModelType::kLlama     ? "Llama"
                             : c.model_type == ModelType::kMistral ? "Mistral"
                                                                   : "Qwen2";
  const int64_t q = c.num_attention_heads * c.head_dim;
  const int64_t kv = c.num_key_value_heads * c.head_dim;
  const auto linear = [](std::string name, int64_t out, int64_t in, bool bias) {
    ModuleNode node{std::move(name), "Linear", {{"weight", {out, in}}}, {}};
    if (bias) node.parameters.push_back({"bias", {out}});
    return node;
  };
  const auto norm = [&](std::string name) {
    return ModuleNode{std::move(name), prefix + "RMSNorm", {{"weight", {c.hidden_size}}}, {}};
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
    ModuleNode mlp{"mlp",
                   prefix + "MLP",
                   {},
                   {linear("gate_proj", c.intermediate_size, c.hidden_size, c.mlp_bias),
                    linear("up_proj", c.intermediate_size, c.hidden_size, c.mlp_bias),
                    linear("down_proj", c.hidden_size, c.intermediate_size, c.mlp_bias),
                    ModuleNode{"act_fn", act, {}, {}}}};
    layers.children.push_back(ModuleNode{std::to_string(i),
                                         prefix + "DecoderLayer",
                                         {},
                                         {std::move(attn), std::move(mlp), norm("input_layernorm"),
                                          norm("post_attention_layernorm")}});
  }
  ModuleNode model{
      "model",
      prefix + "Model",
      {},
      {ModuleNode{"embed_tokens", "Embedding", {{"weight", {c.vocab_size, c.hidden_size}}}, {}},
       std::move(layers), norm("norm"),
       ModuleNode{"rotary_emb", prefix + "RotaryEmbedding", {}, {}}}};
  return ModuleNode{"",
                    prefix + "ForCausalLM",
                    {},
                    {std::move(model), linear("lm_head", c.vocab_size, c.hidden_size, false)}};
}

}  // namespace equiv
