// The llama family's parameters: HF names, shapes and initialisation, and the reference
// components' weights read from them.
#include <string>
#include <utility>

#include "libequiv/families/llama/llama_family.h"

namespace equiv {

std::vector<ParameterSpec> LlamaParameters(const ModelConfig& c, bool qk_norm, bool dense_mlp) {
  using enum ParameterInit;
  const int64_t q = c.num_attention_heads * c.head_dim;
  const int64_t kv = c.num_key_value_heads * c.head_dim;
  std::vector<ParameterSpec> specs = {
      {"model.embed_tokens.weight", {c.vocab_size, c.hidden_size}, kEmbedding}};
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string layer = "model.layers." + std::to_string(i) + ".";
    const auto linear = [&](const std::string& name, int64_t out, int64_t in, bool bias) {
      specs.push_back({layer + name + ".weight", {out, in}, kLinear});
      if (bias) specs.push_back({layer + name + ".bias", {out}, kBias});
    };
    specs.push_back({layer + "input_layernorm.weight", {c.hidden_size}, kNormGain});
    linear("self_attn.q_proj", q, c.hidden_size, c.qkv_bias);
    linear("self_attn.k_proj", kv, c.hidden_size, c.qkv_bias);
    linear("self_attn.v_proj", kv, c.hidden_size, c.qkv_bias);
    linear("self_attn.o_proj", c.hidden_size, q, c.o_proj_bias);
    if (qk_norm) {
      specs.push_back({layer + "self_attn.q_norm.weight", {c.head_dim}, kNormGain});
      specs.push_back({layer + "self_attn.k_norm.weight", {c.head_dim}, kNormGain});
    }
    specs.push_back({layer + "post_attention_layernorm.weight", {c.hidden_size}, kNormGain});
    if (!dense_mlp) continue;
    linear("mlp.gate_proj", c.intermediate_size, c.hidden_size, c.mlp_bias);
    linear("mlp.up_proj", c.intermediate_size, c.hidden_size, c.mlp_bias);
    linear("mlp.down_proj", c.hidden_size, c.intermediate_size, c.mlp_bias);
  }
  specs.push_back({"model.norm.weight", {c.hidden_size}, kNormGain});
  if (!c.tie_word_embeddings) {
    specs.push_back({"lm_head.weight", {c.vocab_size, c.hidden_size}, kLinear});
  }
  return specs;
}

nn::CausalLmWeights LlamaWeights(const StateDict& weights, const ModelConfig& config, bool qk_norm,
                                 bool dense_mlp) {
  const auto linear = [&](const std::string& name, bool bias) {
    return nn::LinearWeights{MatrixParameter(weights, name + ".weight"),
                             bias ? VectorParameter(weights, name + ".bias") : nn::Vector()};
  };
  nn::CausalLmWeights out;
  out.embed_tokens = MatrixParameter(weights, "model.embed_tokens.weight");
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const std::string layer = "model.layers." + std::to_string(i) + ".";
    nn::DecoderLayerWeights w;
    w.input_layernorm = VectorParameter(weights, layer + "input_layernorm.weight");
    w.self_attn = {linear(layer + "self_attn.q_proj", config.qkv_bias),
                   linear(layer + "self_attn.k_proj", config.qkv_bias),
                   linear(layer + "self_attn.v_proj", config.qkv_bias),
                   linear(layer + "self_attn.o_proj", config.o_proj_bias)};
    if (qk_norm) {
      w.self_attn.q_norm = VectorParameter(weights, layer + "self_attn.q_norm.weight");
      w.self_attn.k_norm = VectorParameter(weights, layer + "self_attn.k_norm.weight");
    }
    w.post_attention_layernorm =
        VectorParameter(weights, layer + "post_attention_layernorm.weight");
    if (dense_mlp) {
      w.mlp = {linear(layer + "mlp.gate_proj", config.mlp_bias),
               linear(layer + "mlp.up_proj", config.mlp_bias),
               linear(layer + "mlp.down_proj", config.mlp_bias)};
    }
    out.layers.push_back(std::move(w));
  }
  out.norm = VectorParameter(weights, "model.norm.weight");
  out.lm_head =
      config.tie_word_embeddings ? out.embed_tokens : MatrixParameter(weights, "lm_head.weight");
  return out;
}

std::vector<ParameterSpec> LlamaFamily::Parameters(const ModelConfig& config) const {
  return LlamaParameters(config, QkNorm());
}

}  // namespace equiv
