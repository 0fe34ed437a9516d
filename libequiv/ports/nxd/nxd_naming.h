// How the NxD-like port names its modules: its module tree (NxD Inference style), and which
// of its module paths runs which component kind (for patches).
#ifndef EQUIV_LIBEQUIV_PORTS_NXD_NXD_NAMING_H_
#define EQUIV_LIBEQUIV_PORTS_NXD_NXD_NAMING_H_

#include <optional>
#include <string>
#include <string_view>

#include "libequiv/config/model_config.h"
#include "libequiv/device/device_config.h"
#include "libequiv/models/module_tree.h"

namespace equiv::nxd {

struct NxdNaming {
  std::string class_prefix;  // "NeuronLlama": NeuronLlamaForCausalLM, NeuronLlamaAttention, ...
  bool qk_norm = false;      // self_attn.q_layernorm and k_layernorm (per-head RMSNorm)
  // pre_feedforward_layernorm and post_feedforward_layernorm in each layer (Gemma).
  bool feedforward_norms = false;
  // embed_tokens scales by sqrt(hidden_size) itself (Gemma 3's scaled embedding); otherwise a
  // model that scales (Gemma 2) does it in the forward, after the module.
  bool embedding_scales = false;
};

// NeuronXForCausalLM > model (embed_tokens: ParallelEmbedding, layers of NeuronXDecoderLayer
// with self_attn.qkv_proj.Wqkv (or q_proj/k_proj/v_proj unfused), self_attn.o_proj.o_proj,
// self_attn.rotary_emb, [self_attn.q_layernorm, k_layernorm], mlp, the two norms [and the two
// feed-forward norms]), norm;
// lm_head: ColumnParallelLinear. Shapes are the unsharded ones.
ModuleNode NxdModuleTree(const ModelConfig& config, const device::DeviceConfig& device,
                         const NxdNaming& naming);

// The component kind a module path of the tree below model.layers.N runs (".mlp" -> "mlp",
// "" -> "decoder_layer"), or of a model-level path ("lm_head"); nullopt for none.
std::optional<std::string_view> LayerModuleKind(std::string_view suffix);
std::optional<std::string_view> ModelModuleKind(std::string_view path);

// What a patch can name, for error messages.
inline constexpr std::string_view kPatchableModules =
    "a component name (input_layernorm, qkv_proj, q_norm, k_norm, rotary, attention, "
    "post_attention_layernorm, pre_feedforward_layernorm, mlp, post_feedforward_layernorm, "
    "decoder_layer, embedding, final_norm, lm_head) or a module "
    "path (model.layers.{i}.self_attn.rotary_emb, model.layers.3.mlp, model.norm, lm_head, ...)";

}  // namespace equiv::nxd

#endif  // EQUIV_LIBEQUIV_PORTS_NXD_NXD_NAMING_H_
