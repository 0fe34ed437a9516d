// A HuggingFace config.json as equiv understands it: the fields every family shares, and the
// fields some families add (biases, windows). Parsing, defaults and checks are the shared
// part's here (ReadSharedConfigFields) and each family's own (models/architecture.h); most
// code calls LoadModelConfig (families/registry.h). Fields and rules: docs/model-config.md.
//
//   ModelConfig config = LoadModelConfig("configs/tiny-llama.json");
//   int64_t group = config.num_attention_heads / config.num_key_value_heads;
#ifndef EQUIV_LIBEQUIV_CONFIG_MODEL_CONFIG_H_
#define EQUIV_LIBEQUIV_CONFIG_MODEL_CONFIG_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/config/config_fields.h"

namespace equiv {

enum class HiddenAct { kSilu, kGelu, kGeluPytorchTanh };
enum class RopeType { kDefault, kLinear, kDynamic, kYarn, kLlama3 };
// One entry of HF's layer_types: how a decoder layer attends.
enum class LayerAttention { kFull, kSliding };

// rope_scaling with every default resolved. Fields a type does not use keep the values below.
struct RopeScaling {
  RopeType type = RopeType::kDefault;
  // linear, dynamic, yarn, llama3: >= 1.
  double factor = 1.0;
  // yarn (defaults to max_position_embeddings) and llama3 (required).
  int64_t original_max_position_embeddings = 0;
  // yarn: the correction range; HF defaults 32 and 1.
  double beta_fast = 0.0;
  double beta_slow = 0.0;
  // Multiplies cos and sin. yarn: given, or from factor (and mscale, mscale_all_dim) as HF
  // computes it, 0.1 * ln(factor) + 1 by default; 1 for every other type.
  double attention_factor = 1.0;
  // yarn: floor/ceil the correction range (HF's default true).
  bool truncate = true;
  // llama3: wavelength band edges, original_max_position_embeddings / *_freq_factor.
  double low_freq_factor = 0.0;
  double high_freq_factor = 0.0;

  bool operator==(const RopeScaling&) const = default;
};

// A sparse mixture-of-experts block in place of the MLP (mixtral, qwen2_moe, qwen3_moe), as the
// family reads it (docs/model-config.md); num_experts 0 for a dense model.
struct MoeSettings {
  int64_t num_experts = 0;          // mixtral's num_local_experts, qwen's num_experts
  int64_t num_experts_per_tok = 0;  // the top-k
  // The top-k routing weights divided by their sum: always for mixtral, qwen's norm_topk_prob.
  bool norm_topk_prob = false;
  int64_t moe_intermediate_size = 0;  // each expert's; mixtral: intermediate_size
  // Qwen2-MoE's shared expert, gated by sigmoid(shared_expert_gate(x)); 0: none.
  int64_t shared_expert_intermediate_size = 0;
  // gpt_oss: the router (with a bias) picks the top-k of its logits and softmaxes those k only;
  // the experts' projections have biases and a SwiGLU clamped at swiglu_limit with gain
  // swiglu_alpha: (clamp(up) + 1) * g * sigmoid(alpha * g), g = min(gate, limit). 0: Mixtral's.
  bool softmax_after_topk = false;
  double swiglu_limit = 0.0;
  double swiglu_alpha = 0.0;

  bool operator==(const MoeSettings&) const = default;
};

// config.json's quantization_config: the checkpoint ships weights quantized. Only HF's
// Mxfp4Config is read ({"quant_method": "mxfp4", "modules_to_not_convert": [...]}, as
// openai/gpt-oss-20b has it); the run's regime is then mxfp4-weight (RegimeForConfig,
// models/regime.h; docs/regimes.md).
struct QuantizationConfig {
  std::string quant_method = "mxfp4";
  // HF module paths left in float; "*" matches any run of characters ("model.layers.*.self_attn").
  // A parameter is not converted when a pattern matches its module path or a prefix of it
  // ending at a dot (ModuleNotConverted).
  std::vector<std::string> modules_to_not_convert = {};
  // HF's Mxfp4Config.dequantize: transformers dequantizes at load. Recorded and written back;
  // it changes nothing here (the reference always runs dequantized weights, the port packed ones).
  bool dequantize = false;

  bool operator==(const QuantizationConfig&) const = default;
};

// Whether `parameter` (an HF parameter name) lies in a module of modules_to_not_convert.
bool ModuleNotConverted(const QuantizationConfig& quantization, std::string_view parameter);

// Every size is in [1, 2^31 - 1], so the product of two fits in int64_t.
struct ModelConfig {
  std::string model_type = "llama";  // config.json's model_type; its family reads the rest
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // divides num_attention_heads
  int64_t head_dim = 0;             // even; hidden_size / num_attention_heads unless given
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  HiddenAct hidden_act = HiddenAct::kSilu;
  // Biases as the HF modules have them: llama's attention_bias is on q, k, v and o; qwen2 has
  // q, k, v biases and never an o bias; mistral has none; only llama reads mlp_bias.
  bool qkv_bias = false;
  bool o_proj_bias = false;
  bool mlp_bias = false;
  bool tie_word_embeddings = false;
  // The window of sliding layers (a key is visible within this many positions); nullopt: all
  // layers attend fully. Llama never slides; qwen2 only if use_sliding_window.
  std::optional<int64_t> sliding_window;
  // qwen2: layers below this index attend fully even with a window (HF's max_window_layers).
  int64_t max_window_layers = 0;
  // Gemma (gemma2, gemma3_text) fields; their defaults leave every other family as it was.
  // Each layer's attention (HF's layer_types); empty: from sliding_window and
  // max_window_layers. A sliding entry slides only when sliding_window is set.
  std::vector<LayerAttention> layer_types = {};
  // > 0: attention scores scaled by query_pre_attn_scalar^-0.5 instead of head_dim^-0.5.
  double query_pre_attn_scalar = 0.0;
  // cap * tanh(x / cap) on the attention scores (before the mask) and on the final logits.
  std::optional<double> attn_logit_softcapping;
  std::optional<double> final_logit_softcapping;
  // gemma3_text: the rope base of sliding layers (default rope, no scaling); the config's
  // rope_theta and rope_scaling are the full-attention layers'.
  std::optional<double> rope_local_base_freq;
  MoeSettings moe;  // the experts of every decoder layer's MLP, when the family has them
  // The checkpoint ships quantized (config.json's quantization_config); nullopt: float.
  std::optional<QuantizationConfig> quantization;

  bool operator==(const ModelConfig&) const = default;
};

// The fields every family shares, read from the top level of config.json: model_type, the
// sizes, head_dim, rms_norm_eps, rope_theta and rope_scaling (or rope_parameters), hidden_act,
// tie_word_embeddings, quantization_config. Throws equiv::Error naming the field and its value.
ModelConfig ReadSharedConfigFields(const ConfigFields& top);
// Those fields as config.json has them; the family adds its own (families/registry.h: ToJson).
nlohmann::json SharedConfigJson(const ModelConfig& config);

// The sliding window of one decoder layer, nullopt when the layer attends fully: from
// layer_types when the config has them, else from sliding_window and max_window_layers.
std::optional<int64_t> SlidingWindowOfLayer(const ModelConfig& config, int64_t layer);

// The names config.json uses: "gelu_pytorch_tanh", "llama3".
std::string_view HiddenActName(HiddenAct act);
std::string_view RopeTypeName(RopeType type);

void PrintTo(HiddenAct act, std::ostream* os);
void PrintTo(RopeType type, std::ostream* os);
// The shared fields as JSON.
void PrintTo(const ModelConfig& config, std::ostream* os);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_CONFIG_MODEL_CONFIG_H_
