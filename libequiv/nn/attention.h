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

  AttentionWeights Rounded(Precision precision) const;
  void Pack(Precision precision);  // the four projections' weights, for MatmulNT
};

// The shape of one layer's attention.
struct AttentionSpec {
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // divides num_heads; query head h reads kv head h / (heads / kv)
  int64_t head_dim = 0;
  double scaling = 0.0;  // head_dim^-0.5
  // Key j is visible to query i when pos_j <= pos_i and, with a window, pos_i - pos_j < window.
  std::optional<int64_t> sliding_window;
  double norm_eps = 1e-6;  // of the per-head q/k norms, when the weights have them
};
AttentionSpec AttentionSpecOf(const ModelConfig& config, int64_t layer);

// Per query head: softmax(q k^T * scaling + mask) v. q [queries, heads * head_dim], k and v
// [keys, kv_heads * head_dim]; positions give the mask. HF eager numerics: the score matmul
// and the scaling each round to the precision, softmax runs in float32 and rounds, and the
// value matmul rounds. Output [queries, heads * head_dim]. The kv heads run in parallel
// (EQUIV_THREADS); every output row depends only on its query row and the keys, so the rows of
// a KV-cached step are those of a full forward, bit for bit.
Matrix ScaledDotProductAttention(ConstMatrixRef q, ConstMatrixRef k, ConstMatrixRef v,
                                 std::span<const int64_t> query_positions,
                                 std::span<const int64_t> key_positions, const AttentionSpec& spec,
                                 Precision precision);

// The attention inputs of hidden states x [positions, hidden]: the q, k and v projections, the
// per-head q/k norms (when the weights have them), rotary on q and k at `positions`.
struct QueryKeyValue {
  Matrix q;  // [positions, heads * head_dim]
  Matrix k;  // [positions, kv_heads * head_dim]
  Matrix v;
};
QueryKeyValue ProjectQueryKeyValue(const Matrix& x, std::span<const int64_t> positions,
                                   const AttentionWeights& weights, const AttentionSpec& spec,
                                   const RotaryFrequencies& rotary, Precision precision);

// The whole module on hidden states x [positions, hidden]: ProjectQueryKeyValue, attention
// over the same positions, o_proj.
Matrix Attention(const Matrix& x, std::span<const int64_t> positions,
                 const AttentionWeights& weights, const AttentionSpec& spec,
                 const RotaryFrequencies& rotary, Precision precision);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_ATTENTION_H_
