// The component tables of gemma2 and gemma3_text: what their suites test, in which order, on
// which inputs, and what localization says a failure there usually is. Kinds follow HF's
// module paths: Gemma 2's embed_tokens is the plain lookup (the model's forward scales it),
// Gemma 3's scales itself; Gemma 3's sliding layers use model.rotary_emb_local.
#include "libequiv/families/gemma/gemma_family.h"

namespace equiv {
namespace {

using enum InputKind;

constexpr RootCauseTexts kNormCauses = {
    .precision_ordering =
        "a rounding to bf16 before the (1 + w) multiply (HF rounds once, after "
        "it), or the variance accumulated in bf16",
    .missing_algorithm =
        "the norm applied as x * w instead of x * (1 + w), or rms_norm_eps "
        "ignored",
    .wrong_computation = "the wrong one of the layer's four norms",
};

constexpr RootCauseTexts kHeadNormCauses = {
    .precision_ordering =
        "the per-head variance accumulated in bf16, or a rounding before the "
        "(1 + w) multiply",
    .missing_algorithm = "the q/k norm skipped, or applied as x * w instead of x * (1 + w)",
    .wrong_computation = "the norm taken over the whole row instead of each head",
};

ComponentKind Norm(std::string_view name, std::string_view path, std::string_view contains,
                   int sub_order) {
  return {.name = name,
          .hf_paths = {path},
          .contains = contains,
          .per_layer = true,
          .order_group = 0,
          .sub_order = sub_order,
          .inputs = {kNormal, kUniform, kOutlierChannels, kSmallMagnitude},
          .causes = kNormCauses};
}

std::vector<ComponentKind> MakeTable(bool gemma3) {
  std::vector<ComponentKind> table = {
      {.name = "embedding",
       .hf_paths = {"model.embed_tokens"},
       .contains = gemma3 ? "the token embedding lookup times sqrt(hidden_size) in the hidden "
                            "dtype (Gemma3TextScaledWordEmbedding)"
                          : "the token embedding lookup (unscaled: Gemma2Model's forward "
                            "multiplies by sqrt(hidden_size) after it)",
       .order_group = 1,
       .input = InputShape::kIds,
       .inputs = {kNormal},
       .causes = {.precision_ordering = "the embedding scale sqrt(hidden_size) kept in float32 "
                                        "where HF rounds it to the hidden dtype first",
                  .missing_algorithm = "the embedding scale sqrt(hidden_size) not applied",
                  .wrong_computation = "the wrong embedding table or scale"}},
      Norm("input_layernorm", "model.layers.{i}.input_layernorm",
           "the (1 + w) RMSNorm before attention", 0),
      Norm("post_attention_layernorm", "model.layers.{i}.post_attention_layernorm",
           "the (1 + w) RMSNorm on the attention output, before the residual add", 1),
      Norm("pre_feedforward_layernorm", "model.layers.{i}.pre_feedforward_layernorm",
           "the (1 + w) RMSNorm before the MLP", 2),
      Norm("post_feedforward_layernorm", "model.layers.{i}.post_feedforward_layernorm",
           "the (1 + w) RMSNorm on the MLP output, before the residual add", 3),
      {.name = "qkv_proj",
       .hf_paths = {"model.layers.{i}.self_attn.q_proj", "model.layers.{i}.self_attn.k_proj",
                    "model.layers.{i}.self_attn.v_proj"},
       .contains = "the q, k and v projections, output columns q | k | v",
       .per_layer = true,
       .order_group = 2,
       .inputs = {kNormal, kUniform, kSmallMagnitude},
       .causes = {.precision_ordering =
                      "matmul accumulation precision: partial sums accumulated or reduced in bf16",
                  .missing_algorithm = "a bias dropped (attention_bias)",
                  .wrong_computation =
                      "q, k, v weights swapped or concatenated in the wrong order"}},
      {.name = "rotary",
       .hf_paths = {"model.rotary_emb"},
       .contains = gemma3 ? "the global rotary embedding (rope_theta, rope_scaling) applied to "
                            "q | k: full-attention layers"
                          : "rotary position embedding applied to q | k",
       .per_layer = true,
       .order_group = 3,
       .input = InputShape::kQueryKey,
       .needs_positions = true,
       .inputs = {kNormal, kUniform, kSmallMagnitude, kLongSequence},
       .layer_from_target = true,
       .followed_by = {"attention", "decoder_layer"},
       .causes = {.precision_ordering = "rotary scaling applied after the bf16 cast of cos/sin",
                  .missing_algorithm = "rope_scaling ignored, or the local base used on a "
                                       "full-attention layer (sliding/full alternation wrong)",
                  .wrong_computation = "interleaved rotary pairs instead of rotate_half halves, "
                                       "or wrong positions"}},
      {.name = "attention",
       .hf_paths = {"model.layers.{i}.self_attn"},
       .contains = gemma3 ? "the whole self-attention: projections, (1 + w) q/k norms, the "
                            "layer's rotary, softmax(q k^T * query_pre_attn_scalar^-0.5 + "
                            "mask), the layer's window, o_proj"
                          : "the whole self-attention: projections, rotary, softmax(softcap(q "
                            "k^T * query_pre_attn_scalar^-0.5) + mask), the layer's window, "
                            "o_proj",
       .per_layer = true,
       .order_group = 5,
       .needs_positions = true,
       .inputs = {kNormal, kUniform, kSmallMagnitude, kLongSequence},
       .causes = {.precision_ordering = "softmax computed in bf16, or a scale close to the "
                                        "right one (head_dim^-0.5 instead of "
                                        "query_pre_attn_scalar^-0.5)",
                  .missing_algorithm = "the attention-logit soft-cap, the sliding window or the "
                                       "sliding/full alternation wrong, or the scale from "
                                       "head_dim instead of query_pre_attn_scalar",
                  .wrong_computation = "weights swapped, wrong head layout (GQA repeat) or a "
                                       "missing scale"}},
      {.name = "mlp",
       .hf_paths = {"model.layers.{i}.mlp"},
       .contains = "the gated MLP: down_proj(gelu_tanh(gate_proj(x)) * up_proj(x))",
       .per_layer = true,
       .order_group = 4,
       .inputs = {kNormal, kUniform, kSmallMagnitude},
       .causes = {.precision_ordering = "activation precision: GELU or the gate product "
                                        "computed in bf16",
                  .missing_algorithm = "wrong activation function (exact GELU for "
                                       "gelu_pytorch_tanh)",
                  .wrong_computation = "gate and up projections swapped"}},
      {.name = "decoder_layer",
       .hf_paths = {"model.layers.{i}"},
       .contains = "the decoder layer: four norms, attention, the MLP and the residual adds",
       .per_layer = true,
       .order_group = 7,
       .needs_positions = true,
       .inputs = {kNormal, kUniform, kOutlierChannels, kSmallMagnitude, kLongSequence},
       .causes = {.precision_ordering = "a residual add in bf16 or in the wrong order",
                  .missing_algorithm = "a residual connection or a post-norm missing"}},
      {.name = "final_norm",
       .hf_paths = {"model.norm"},
       .contains = "the (1 + w) RMSNorm on the last hidden state",
       .order_group = 0,
       .after_layers = true,
       .inputs = {kNormal, kUniform, kOutlierChannels, kSmallMagnitude},
       .causes = kNormCauses},
      {.name = "lm_head",
       .hf_paths = {"lm_head"},
       .contains = "the vocabulary projection (the embedding table when tied); the final "
                   "soft-cap is the model's, not lm_head's",
       .order_group = 6,
       .inputs = {kNormal, kUniform, kSmallMagnitude},
       .causes = {.precision_ordering =
                      "matmul accumulation precision: partial sums accumulated or reduced in bf16",
                  .missing_algorithm = "tied embeddings not applied"}},
      {.name = "causal_lm",
       .hf_paths = {""},
       .contains = "the whole model: ids at positions 0..n-1 to (soft-capped) logits",
       .order_group = 8,
       .input = InputShape::kIds,
       .inputs = {kNormal, kLongSequence}},
  };
  if (gemma3) {
    table.push_back({.name = "q_norm",
                     .hf_paths = {"model.layers.{i}.self_attn.q_norm"},
                     .contains = "the (1 + w) RMSNorm over each query head, before rotary",
                     .per_layer = true,
                     .order_group = 2,
                     .sub_order = 1,
                     .input = InputShape::kQueryHeads,
                     .inputs = {kNormal, kUniform, kSmallMagnitude},
                     .causes = kHeadNormCauses});
    table.push_back({.name = "k_norm",
                     .hf_paths = {"model.layers.{i}.self_attn.k_norm"},
                     .contains = "the (1 + w) RMSNorm over each key head, before rotary",
                     .per_layer = true,
                     .order_group = 2,
                     .sub_order = 2,
                     .input = InputShape::kKeyHeads,
                     .inputs = {kNormal, kUniform, kSmallMagnitude},
                     .causes = kHeadNormCauses});
    table.push_back(
        {.name = "rotary_local",
         .hf_paths = {"model.rotary_emb_local"},
         .contains = "the local rotary embedding (rope_local_base_freq, no scaling) applied to "
                     "q | k: sliding layers",
         .per_layer = true,
         .order_group = 3,
         .sub_order = 1,
         .input = InputShape::kQueryKey,
         .needs_positions = true,
         .inputs = {kNormal, kUniform, kSmallMagnitude, kLongSequence},
         .layer_from_target = true,
         .followed_by = {"attention", "decoder_layer"},
         .causes = {.precision_ordering = "the local frequencies rounded to bf16",
                    .missing_algorithm = "rope_local_base_freq ignored (the global base or its "
                                         "scaling on a sliding layer), or the sliding/full "
                                         "alternation wrong",
                    .wrong_computation = "interleaved rotary pairs instead of rotate_half "
                                         "halves, or wrong positions"}});
  }
  return table;
}

}  // namespace

std::span<const ComponentKind> GemmaFamily::Components() const {
  static const std::vector<ComponentKind> kGemma2 = MakeTable(false);
  static const std::vector<ComponentKind> kGemma3 = MakeTable(true);
  return Gemma3() ? kGemma3 : kGemma2;
}

}  // namespace equiv
