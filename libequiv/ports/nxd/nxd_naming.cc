#include "libequiv/ports/nxd/nxd_naming.h"

#include <array>
#include <string>
#include <utility>

namespace equiv::nxd {
namespace {

// Port module paths below model.layers.N, and the component kind each runs.
constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kLayerModules = {{
    {"", "decoder_layer"},
    {".mlp", "mlp"},
    {".input_layernorm", "input_layernorm"},
    {".post_attention_layernorm", "post_attention_layernorm"},
    {".pre_feedforward_layernorm", "pre_feedforward_layernorm"},
    {".post_feedforward_layernorm", "post_feedforward_layernorm"},
    {".self_attn", "attention"},
    {".self_attn.qkv_proj", "qkv_proj"},
    {".self_attn.rotary_emb", "rotary"},
    {".self_attn.q_layernorm", "q_norm"},
    {".self_attn.k_layernorm", "k_norm"},
}};

constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kModelModules = {{
    {"model.embed_tokens", "embedding"},
    {"model.norm", "final_norm"},
    {"lm_head", "lm_head"},
}};

}  // namespace

std::optional<std::string_view> LayerModuleKind(std::string_view suffix) {
  for (const auto& [path, kind] : kLayerModules) {
    if (path == suffix) return kind;
  }
  return std::nullopt;
}

std::optional<std::string_view> ModelModuleKind(std::string_view path) {
  for (const auto& [p, kind] : kModelModules) {
    if (p == path) return kind;
  }
  return std::nullopt;
}

ModuleNode NxdModuleTree(const ModelConfig& c, const device::DeviceConfig& device,
                         const NxdNaming& naming) {
  const std::string& prefix = naming.class_prefix;
  const int64_t q = c.num_attention_heads * c.head_dim;
  const int64_t kv = c.num_key_value_heads * c.head_dim;
  const auto linear = [](std::string name, std::string cls, int64_t out, int64_t in, bool bias) {
    ModuleNode node{std::move(name), std::move(cls), {{"weight", {out, in}}}, {}};
    if (bias) node.parameters.push_back({"bias", {out}});
    return node;
  };
  const auto norm = [&](std::string name, int64_t size) {
    return ModuleNode{std::move(name), "CustomRMSNorm", {{"weight", {size}}}, {}};
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
    if (naming.qk_norm) {
      attn.children.push_back(norm("q_layernorm", c.head_dim));
      attn.children.push_back(norm("k_layernorm", c.head_dim));
    }
    ModuleNode mlp{
        "mlp",
        prefix + "MLP",
        {},
        {linear("gate_proj", "ColumnParallelLinear", c.intermediate_size, c.hidden_size,
                c.mlp_bias),
         linear("up_proj", "ColumnParallelLinear", c.intermediate_size, c.hidden_size, c.mlp_bias),
         linear("down_proj", "RowParallelLinear", c.hidden_size, c.intermediate_size, c.mlp_bias),
         ModuleNode{"act_fn", act, {}, {}}}};
    ModuleNode layer{std::to_string(i),
                     prefix + "DecoderLayer",
                     {},
                     {std::move(attn), std::move(mlp), norm("input_layernorm", c.hidden_size),
                      norm("post_attention_layernorm", c.hidden_size)}};
    if (naming.feedforward_norms) {
      layer.children.push_back(norm("pre_feedforward_layernorm", c.hidden_size));
      layer.children.push_back(norm("post_feedforward_layernorm", c.hidden_size));
    }
    layers.children.push_back(std::move(layer));
  }
  ModuleNode model{
      "model",
      prefix + "Model",
      {},
      {ModuleNode{
           "embed_tokens", "ParallelEmbedding", {{"weight", {c.vocab_size, c.hidden_size}}}, {}},
       std::move(layers), norm("norm", c.hidden_size)}};
  return ModuleNode{"",
                    prefix + "ForCausalLM",
                    {},
                    {std::move(model), linear("lm_head", "ColumnParallelLinear", c.vocab_size,
                                              c.hidden_size, false)}};
}

}  // namespace equiv::nxd
