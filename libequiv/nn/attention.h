// LlamaAttention with the eager attention path (MHA, GQA and MQA; causal mask; Mistral's
// sliding window; Qwen2's q/k/v bias; Qwen3's per-head q/k norms).
#ifndef EQUIV_LIBEQUIV_NN_ATTENTION_H_
#define EQUIV_LIBEQUIV_NN_ATTENTION_H_

#include <cstdint>
#include <optional>
#include <span>

#include "libequiv/config/model_config.h"
#include "libequiv/nn/gemm.h"
#include "libequiv/nn/linear.h"
#include "libequiv/nn/rotary.h"

namespace equiv::nn {

struct AttentionWeights {
  LinearWeights q_proj;  // [heads * head_dim, hidden]
  LinearWeights k_proj;  // [kv_heads * head_dim, hidden]
  LinearWeights v_proj;  // [kv_heads * head_dim, hidden]
  LinearWeights o_proj;  // [hidden, heads * head_dim]
  // Qwen3: RMSNorm over each query and key head before rotary, [head_dim]; empty: none.
  Vector q_norm = {};
  Vector k_norm = {};
  // GPT-OSS: one learned sink logit per query head [heads]; empty: none.
  Vector sinks = {};

  AttentionWeights Rounded(Precision precision) const;
  void Pack(Precision precision);  // the four projections' weights, for MatmulNT
};

// The shape of one layer's attention.
struct AttentionSpec {
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // divides num_heads; query head h reads kv head h / (heads / kv)
  int64_t head_dim = 0;
  double scaling = 0.0;  // head_dim^-0.5
  // Key j is visible to query i when j <= i and, with a window, i - j < window, in the mask's
  // indices (ScaledDotProductAttention).
  std::optional<int64_t> sliding_window;
  double norm_eps = 1e-6;  // of the per-head q/k norms, when the weights have them
  // Gemma 2: the scaled scores become cap * tanh(scores / cap) before the mask; none: as is.
  std::optional<double> softcap = std::nullopt;
  // The per-head q/k norms are Gemma's x * (1 + w) (GemmaHeadRmsNorm), not Llama's x * w.
  bool gemma_head_norms = false;
};
// The config's spec of a layer: scaling head_dim^-0.5 (query_pre_attn_scalar^-0.5 when the
// config has one), the layer's window, the attention-logit soft-cap when the config has one.
AttentionSpec AttentionSpecOf(const ModelConfig& config, int64_t layer);

// Gemma's soft-capping, cap * tanh(x / cap), elementwise as HF writes it: x / cap, tanh, * cap,
// each op's output rounded to the precision.
Matrix SoftCap(const Matrix& x, double cap, Precision precision);

// Per query head: softmax(softcap(q k^T * scaling) + mask) v. q [queries, heads * head_dim], k and
// v [keys, kv_heads * head_dim]; query_positions and key_positions are the mask's indices: HF's
// cache_position of each query and the cache index of each key (0 .. n-1 for a forward
// without a cache), never the position ids, which only rotary reads. HF eager numerics: the score
// matmul and the scaling each round to the precision (and each of the soft-cap's three ops),
// softmax runs in float32 and rounds, and the value matmul rounds. Output [queries, heads *
// head_dim]. The kv heads run in parallel (EQUIV_THREADS); every output row depends only on its
// query row and the keys, so the rows of a KV-cached step are those of a full forward, bit for
// bit. With `sinks` (one per query head, GPT-OSS's eager_attention_forward): each row's scores
// get the head's sink as one more column, the row's max is subtracted (rounded: a bf16 op), the
// softmax runs in float32 and rounds, and the sink's column is dropped (the remaining
// probabilities are not renormalized).
Matrix ScaledDotProductAttention(ConstMatrixRef q, ConstMatrixRef k, ConstMatrixRef v,
                                 std::span<const int64_t> query_positions,
                                 std::span<const int64_t> key_positions, const AttentionSpec& spec,
                                 Precision precision, const Vector& sinks = Vector());

// The attention inputs of hidden states x [positions, hidden]: the q, k and v projections, the
// per-head q/k norms (when the weights have them; Gemma's with spec.gemma_head_norms), rotary on
// q and k at `positions`.
struct QueryKeyValue {
  Matrix q;  // [positions, heads * head_dim]
  Matrix k;  // [positions, kv_heads * head_dim]
  Matrix v;
};
QueryKeyValue ProjectQueryKeyValue(const Matrix& x, std::span<const int64_t> positions,
                                   const AttentionWeights& weights, const AttentionSpec& spec,
                                   const RotaryFrequencies& rotary, Precision precision);

// The whole module on hidden states x [positions, hidden]: ProjectQueryKeyValue, attention over
// the same rows (with the weights' sinks when they have them) (the mask by row index, as HF's:
// positions need not be 0 .. n-1), o_proj.
Matrix Attention(const Matrix& x, std::span<const int64_t> positions,
                 const AttentionWeights& weights, const AttentionSpec& spec,
                 const RotaryFrequencies& rotary, Precision precision);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_ATTENTION_H_
