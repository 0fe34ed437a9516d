// Gemma 2 and Gemma 3 (text) as HF's modeling_gemma2.py and modeling_gemma3.py compute them
// (transformers 4.50-4.5x): the (1 + w) RMSNorm in float32 with one rounding, the embedding
// scaled by sqrt(hidden_size) in the hidden dtype, four norms per layer, the final-logit
// soft-cap. query_pre_attn_scalar, the attention-logit soft-cap and the windows of sliding
// layers are the attention spec's (AttentionSpecOf), the local rotary of Gemma 3's sliding
// layers RotaryFrequenciesOfLayer's. Docs: docs/reference-numerics.md.
//
//   CausalLmWeights w = ...;  // float32, HF names, with the feed-forward norms (families/gemma/)
//   Matrix logits = GemmaLogits(ids, w.Rounded(Precision::kBf16), config, Precision::kBf16);
#ifndef EQUIV_LIBEQUIV_NN_GEMMA_H_
#define EQUIV_LIBEQUIV_NN_GEMMA_H_

#include <cstdint>
#include <span>

#include "libequiv/config/model_config.h"
#include "libequiv/nn/attention.h"
#include "libequiv/nn/causal_lm.h"
#include "libequiv/nn/rms_norm.h"
#include "libequiv/nn/rotary.h"

namespace equiv::nn {

// sqrt(hidden_size) as the model holds it: in float32, then in the hidden dtype (bf16 rounds
// it: sqrt(3072) = 55.4256 becomes 55.5).
float GemmaEmbedScale(int64_t hidden_size, Precision precision);
// x times a scalar held in the hidden dtype: each product rounded.
Matrix MultiplyBy(const Matrix& x, float scale, Precision precision);
// Embeddings [n, hidden] times that scale, rounded (Gemma 2's model forward, Gemma 3's
// Gemma3TextScaledWordEmbedding).
Matrix ScaleEmbeddings(const Matrix& embeddings, int64_t hidden_size, Precision precision);

// A Gemma layer's attention spec: AttentionSpecOf's (query_pre_attn_scalar, the soft-cap, the
// layer's window) with Gemma's (1 + w) q/k norms. nn::Attention with it is Gemma2Attention /
// Gemma3Attention (eager).
AttentionSpec GemmaAttentionSpecOf(const ModelConfig& config, int64_t layer);

// The decoder layer: h = x + post_attention_layernorm(attn(input_layernorm(x)));
// out = h + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h))); adds rounded. With a
// cache, as DecoderLayer's: x holds the positions after the cached ones, rows bit for bit the
// full forward's.
Matrix GemmaDecoderLayer(const Matrix& x, std::span<const int64_t> positions,
                         const DecoderLayerWeights& weights, const ModelConfig& config,
                         int64_t layer, Precision precision, LayerKvCache* cache = nullptr);

// Logits [ids, vocab] at positions 0 .. n-1: scaled embeddings, the layers, the final norm,
// lm_head, then the final soft-cap when the config has one (GemmaXForCausalLM.forward).
Matrix GemmaLogits(std::span<const int64_t> ids, const CausalLmWeights& weights,
                   const ModelConfig& config, Precision precision);
// GemmaLogits incrementally (CausalLmStep's contract): the rows of ids at positions
// cache.length() .., appended to the cache.
Matrix GemmaStep(std::span<const int64_t> ids, const CausalLmWeights& weights,
                 const ModelConfig& config, Precision precision, CausalLmCache& cache);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_GEMMA_H_
