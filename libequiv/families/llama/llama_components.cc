// The component table of the llama family (llama, mistral, qwen2): what its suites test, in
// which order, on which inputs, and what localization says a failure there usually is.
#include "libequiv/families/llama/llama_family.h"

namespace equiv {
namespace {

using enum InputKind;

constexpr RootCauseTexts kNormCauses = {
    .precision_ordering = "variance accumulated in bf16, or a cast to bf16 before the reduction",
    .missing_algorithm = "rms_norm_eps ignored or the norm weight not applied",
};

}  // namespace

const std::vector<ComponentKind>& LlamaComponents() {
  static const std::vector<ComponentKind> kTable = {
      {.name = "embedding",
       .hf_paths = {"model.embed_tokens"},
       .contains = "the token embedding lookup",
       .order_group = 1,
       .input = InputShape::kIds,
       .inputs = {kNormal},
       .causes = {.precision_ordering =
                      "an embedding scale or dtype conversion at the wrong point"}},
      {.name = "input_layernorm",
       .hf_paths = {"model.layers.{i}.input_layernorm"},
       .contains = "the RMSNorm before attention",
       .per_layer = true,
       .order_group = 0,
       .inputs = {kNormal, kUniform, kOutlierChannels, kSmallMagnitude},
       .causes = kNormCauses},
      {.name = "qkv_proj",
       .hf_paths = {"model.layers.{i}.self_attn.q_proj", "model.layers.{i}.self_attn.k_proj",
                    "model.layers.{i}.self_attn.v_proj"},
       .contains = "the q, k and v projections, output columns q | k | v",
       .per_layer = true,
       .order_group = 2,
       .inputs = {kNormal, kUniform, kSmallMagnitude},
       .causes = {.precision_ordering =
                      "matmul accumulation precision: partial sums accumulated or reduced in bf16",
                  .missing_algorithm = "a bias dropped (q/k/v bias of qwen2)",
                  .wrong_computation =
                      "q, k, v weights swapped or concatenated in the wrong order"}},
      {.name = "rotary",
       .hf_paths = {"model.rotary_emb"},
       .contains = "rotary position embedding applied to q | k, with the config's rope scaling",
       .per_layer = true,
       .order_group = 3,
       .input = InputShape::kQueryKey,
       .needs_positions = true,
       .inputs = {kNormal, kUniform, kSmallMagnitude, kLongSequence},
       .layer_from_target = true,
       .followed_by = {"attention", "decoder_layer"},
       .causes = {.precision_ordering =
                      "rotary scaling (attention factor) applied after the bf16 cast of cos/sin",
                  .missing_algorithm =
                      "rope_scaling ignored (YaRN, llama3, linear or dynamic scaling not applied)",
                  .wrong_computation = "interleaved rotary pairs instead of rotate_half halves, "
                                       "or wrong positions"}},
      {.name = "attention",
       .hf_paths = {"model.layers.{i}.self_attn"},
       .contains = "the whole self-attention: projections, rotary, masked softmax, o_proj",
       .per_layer = true,
       .order_group = 5,
       .needs_positions = true,
       .inputs = {kNormal, kUniform, kSmallMagnitude, kLongSequence, kSharedDirection},
       .causes = {.precision_ordering = "softmax computed in bf16, or the 1/sqrt(head_dim) scale "
                                        "missing or misplaced",
                  .missing_algorithm = "causal mask or sliding window wrong, or the rotary "
                                       "embedding's layout or scaling when no rotary case of its "
                                       "own runs",
                  .wrong_computation = "weights swapped, wrong head layout (GQA repeat) or a "
                                       "missing scale"}},
      {.name = "post_attention_layernorm",
       .hf_paths = {"model.layers.{i}.post_attention_layernorm"},
       .contains = "the RMSNorm before the MLP",
       .per_layer = true,
       .order_group = 0,
       .sub_order = 1,
       .inputs = {kNormal, kUniform, kOutlierChannels, kSmallMagnitude},
       .causes = kNormCauses},
      {.name = "mlp",
       .hf_paths = {"model.layers.{i}.mlp"},
       .contains = "the gated MLP: down_proj(act(gate_proj(x)) * up_proj(x))",
       .per_layer = true,
       .order_group = 4,
       .inputs = {kNormal, kUniform, kSmallMagnitude},
       .causes = {.precision_ordering =
                      "activation precision: SiLU or the gate product computed in bf16",
                  .missing_algorithm = "wrong activation function",
                  .wrong_computation = "gate and up projections swapped"}},
      {.name = "decoder_layer",
       .hf_paths = {"model.layers.{i}"},
       .contains = "the decoder layer: both norms, attention, the MLP and the residual adds",
       .per_layer = true,
       .order_group = 7,
       .needs_positions = true,
       .inputs = {kNormal, kUniform, kOutlierChannels, kSmallMagnitude, kLongSequence,
                  kSharedDirection},
       .causes = {.precision_ordering = "a residual add in bf16 or in the wrong order",
                  .missing_algorithm = "a residual connection missing"}},
      {.name = "final_norm",
       .hf_paths = {"model.norm"},
       .contains = "the RMSNorm on the last hidden state",
       .order_group = 0,
       .after_layers = true,
       .inputs = {kNormal, kUniform, kOutlierChannels, kSmallMagnitude},
       .causes = kNormCauses},
      {.name = "lm_head",
       .hf_paths = {"lm_head"},
       .contains = "the vocabulary projection (the embedding table when tied)",
       .order_group = 6,
       .inputs = {kNormal, kUniform, kSmallMagnitude},
       .causes = {.precision_ordering =
                      "matmul accumulation precision: partial sums accumulated or reduced in bf16",
                  .missing_algorithm = "tied embeddings or a logit scale not applied"}},
      {.name = "causal_lm",
       .hf_paths = {""},
       .contains = "the whole model: ids at positions 0..n-1 to logits",
       .order_group = 8,
       .input = InputShape::kIds,
       .needs_positions = false,
       .inputs = {kNormal, kLongSequence}},
  };
  return kTable;
}

}  // namespace equiv
