// The llama family's module trees: HF's (LlamaForCausalLM > LlamaModel > embed_tokens, layers,
// norm, rotary_emb; lm_head) and the built-in port's (NxD style).
#include <string>
#include <utility>

#include "libequiv/families/llama/llama_family.h"

namespace equiv {

ModuleNode LlamaFamily::ReferenceTree(const ModelConfig& c) const {
  const std::string prefix = ClassPrefix(c);
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
    if (QkNorm()) {
      attn.children.push_back(norm("q_norm", c.head_dim));
      attn.children.push_back(norm("k_norm", c.head_dim));
    }
    ModuleNode mlp{"mlp",
                   prefix + "MLP",
                   {},
                   {linear("gate_proj", c.intermediate_size, c.hidden_size, c.mlp_bias),
                    linear("up_proj", c.intermediate_size, c.hidden_size, c.mlp_bias),
                    linear("down_proj", c.hidden_size, c.intermediate_size, c.mlp_bias),
                    ModuleNode{"act_fn", act, {}, {}}}};
    layers.children.push_back(
        ModuleNode{std::to_string(i),
                   prefix + "DecoderLayer",
                   {},
                   {std::move(attn), std::move(mlp), norm("input_layernorm", c.hidden_size),
                    norm("post_attention_layernorm", c.hidden_size)}});
  }
  ModuleNode model{
      "model",
      prefix + "Model",
      {},
      {ModuleNode{"embed_tokens", "Embedding", {{"weight", {c.vocab_size, c.hidden_size}}}, {}},
       std::move(layers), norm("norm", c.hidden_size),
       ModuleNode{"rotary_emb", prefix + "RotaryEmbedding", {}, {}}}};
  return ModuleNode{"",
                    prefix + "ForCausalLM",
                    {},
                    {std::move(model), linear("lm_head", c.vocab_size, c.hidden_size, false)}};
}

ModuleNode LlamaFamily::BuiltinPortTree(const ModelConfig& config,
                                        const device::DeviceConfig& device) const {
  return nxd::NxdModuleTree(config, device, PortNaming(config));
}

}  // namespace equiv
