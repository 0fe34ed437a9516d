// Gemma 2 and Gemma 3 (text) as HF's modeling_gemma2.py and modeling_gemma3.py compute them
// (transformers 4.50-4.5x): the (1 + w) RMSNorm in float32 with one rounding, the embedding
// scaled by sqrt(hidden_size) in the hidden dtype, query_pre_attn_scalar, attention and final
// logit soft-capping, four norms per layer, sliding and full layers, Gemma 3's per-head q/k
// norms and its local rotary embedding for sliding layers. Docs: docs/reference-numerics.md.
//
//   GemmaWeights w = ...;  // float32, HF names (families/gemma/)
//   Matrix logits = GemmaLogits(ids, w.Rounded(Precision::kBf16), config, Precision::kBf16);
#ifndef EQUIV_LIBEQUIV_NN_GEMMA_H_
#define EQUIV_LIBEQUIV_NN_GEMMA_H_

#include <cstdint>
#include <span>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/nn/attention.h"
#include "libequiv/nn/mlp.h"
#include "libequiv/nn/rotary.h"

namespace equiv::nn {

// Gemma2RMSNorm / Gemma3RMSNorm: h = x.float(); h = h * rsqrt(mean(h^2) + eps);
// h = h * (1 + w.float()); h.type_as(x): everything in float32, one rounding at the end.
Matrix GemmaRmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision);
// The same over each head of x [n, heads * head_dim] (Gemma 3's q_norm, k_norm).
Matrix GemmaHeadRmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision);

// sqrt(hidden_size) as the model holds it: in float32, then in the hidden dtype (bf16 rounds
// it: sqrt(3072) = 55.4256 becomes 55.5).
float GemmaEmbedScale(int64_t hidden_size, Precision precision);
// Embeddings [n, hidden] times that scale, rounded (Gemma 2's model forward, Gemma 3's
// Gemma3TextScaledWordEmbedding).
Matrix ScaleEmbeddings(const Matrix& embeddings, int64_t hidden_size, Precision precision);

// Whether a layer is a sliding layer of HF's layer_types (it slides only with a window).
bool IsSlidingLayer(const ModelConfig& config, int64_t layer);
// The rotary configuration of Gemma 3's local embedding (model.rotary_emb_local): rope_theta
// = rope_local_base_freq, default rope; the config itself when it has no local base.
ModelConfig LocalRopeConfig(const ModelConfig& config);
// The frequencies a layer's attention uses: the local ones for Gemma 3's sliding layers,
// the config's (model.rotary_emb) otherwise.
RotaryFrequencies GemmaRotaryFrequencies(const ModelConfig& config, int64_t layer,
                                         int64_t seq_len);
// query_pre_attn_scalar^-0.5 (head_dim^-0.5 without one), the layer's window, Gemma 2's
// attention soft-cap.
AttentionSpec GemmaAttentionSpecOf(const ModelConfig& config, int64_t layer);

struct GemmaLayerWeights {
  Vector input_layernorm;
  AttentionWeights self_attn;  // q_norm, k_norm: Gemma 3's (1 + w) norms; empty for Gemma 2
  Vector post_attention_layernorm;
  Vector pre_feedforward_layernorm;
  Vector post_feedforward_layernorm;
  MlpWeights mlp;

  GemmaLayerWeights Rounded(Precision precision) const;
};

struct GemmaWeights {
  Matrix embed_tokens;  // [vocab, hidden], unscaled
  std::vector<GemmaLayerWeights> layers;
  Vector norm;
  Matrix lm_head;  // the embedding table when tied (Gemma's default)

  GemmaWeights Rounded(Precision precision) const;
};

// Gemma2Attention / Gemma3Attention (eager): projections, the per-head q/k norms when the
// weights have them, rotary, softcap(q k^T * scaling) + mask, softmax in float32, o_proj.
Matrix GemmaAttention(const Matrix& x, std::span<const int64_t> positions,
                      const AttentionWeights& weights, const AttentionSpec& spec,
                      const RotaryFrequencies& rotary, Precision precision);

// The decoder layer: h = x + post_attention_layernorm(attn(input_layernorm(x)));
// out = h + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h))); adds rounded.
Matrix GemmaDecoderLayer(const Matrix& x, std::span<const int64_t> positions,
                         const GemmaLayerWeights& weights, const ModelConfig& config,
                         int64_t layer, Precision precision);

// Logits [ids, vocab] at positions 0 .. n-1: scaled embeddings, the layers, the final norm,
// lm_head, then the final soft-cap when the config has one (GemmaXForCausalLM.forward).
Matrix GemmaLogits(std::span<const int64_t> ids, const GemmaWeights& weights,
                   const ModelConfig& config, Precision precision);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_GEMMA_H_
