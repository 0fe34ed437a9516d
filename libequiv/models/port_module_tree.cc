// The port's module tree (declared in llama_port.h).
#include <string>

#include "libequiv/models/llama_port.h"

namespace equiv {

ModuleNode PortModuleTree(const ModelConfig& c, const device::DeviceConfig& device) {
  const std::string prefix = c.model_type == ModelType::kLlama     ? "NeuronLlama"
                             : c.model_type == ModelType::kMistral ? "NeuronMistral"
                                                                   : "NeuronQwen2";
  const int64_t q = c.num_attention_heads * c.head_dim;
  const int64_t kv = c.num_key_value_heads * c.head_dim;
  const auto linear = [](std::string name, std::string cls, int64_t out, int64_t in, bool bias) {
    ModuleNode node{std::move(name), std::move(cls), {{"weight", {out, in}}}, {}};
    if (bias) node.parameters.push_back({"bias", {out}});
    return node;
  };
  const auto norm = [&](std::string name) {
    return ModuleNode{std::move(name), "CustomRMSNorm", {{"weight", {c.hidden_size}}}, {}};
  };
  const std::string act = c.hidden_act == HiddenAct::kSilu   ? "SiLU"
                          : c.hidden_act == HiddenAct::kGelu ? "GELU"
                                                             : "GELUTanh";
  ModuleNode layers{"layers", "ModuleList", {}, {}};
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    ModuleNode qkv{"qkv_proj", "GroupQueryAttention_QKV", {}, {}};
    if (device.fused_qkv) {
      qkv.children.push_back(
          linear("Wqkv", "ColumnParallelLinear", q + 2 * kv, c.hidden_size, c.qkv_bias));
    } else {
      qkv.children.push_back(
          linear("q_proj", "ColumnParallelLinear", q, c.hidden_size, c.qkv_bias));
      qkv.children.push_back(
          linear("k_proj", "ColumnParallelLinear", kv, c.hidden_size, c.qkv_bias));
      qkv.children.push_back(
          linear("v_proj", "ColumnParallelLinear", kv, c.hidden_size, c.qkv_bias));
    }
    ModuleNode o{"o_proj",
                 "GroupQueryAttention_O",
                 {},
                 {linear("o_proj", "RowParallelLinear", c.hidden_size, q, c.o_proj_bias)}};
    ModuleNode attn{
        "self_attn",
        prefix + "Attention",
        {},
        {std::move(qkv), std::move(o), ModuleNode{"rotary_emb", "RotaryEmbedding", {}, {}}}};
    ModuleNode mlp{
        "mlp",
        prefix + "MLP",
        {},
        {linear("gate_proj", "ColumnParallelLinear", c.intermediate_size, c.hidden_size,
                c.mlp_bias),
         linear("up_proj", "ColumnParallelLinear", c.intermediate_size, c.hidden_size, c.mlp_bias),
         linear("down_proj", "RowParallelLinear", c.hidden_size, c.intermediate_size, c.mlp_bias),
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
      {ModuleNode{
           "embed_tokens", "ParallelEmbedding", {{"weight", {c.vocab_size, c.hidden_size}}}, {}},
       std::move(layers), norm("norm")}};
  return ModuleNode{"",
                    prefix + "ForCausalLM",
                    {},
                    {std::move(model), linear("lm_head", "ColumnParallelLinear", c.vocab_size,
                                              c.hidden_size, false)}};
}

}  // namespace equiv
