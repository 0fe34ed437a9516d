// LlamaAttention with the eager attention path (MHA, GQA and MQA; causal mask; Mistral's
// sliding window; Qwen2's q/k/v bias).
#ifndef EQUIV_LIBEQUIV_NN_ATTENTION_H_
#define EQUIV_LIBEQUIV_NN_ATTENTION_H_

#include <cstdint>
#include <optional>
#include <span>

#include "libequiv/config/model_config.h"
#include "libequiv/nn/linear.h"
#include "libequiv/nn/rotary.h"

namespace equiv::nn {

struct AttentionWeights {
  LinearWeights q_proj;  // [heads * head_dim, hidden]
  LinearWeights k_proj;  // [kv_heads * head_dim, hidden]
  LinearWeights v_proj;  // [kv_heads * head_dim, hidden]
  LinearWeights o_proj;  // [hidden, heads * head_dim]

  AttentionWeights Rounded(Precision precision) const;
};

// The shape of one layer's attention.
struct AttentionSpec {
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // divides num_heads; query head h reads kv head h / (heads / kv)
  int64_t head_dim = 0;
  double scaling = 0.0;  // head_dim^-0.5
  // Key j is visible to query i when pos_j <= pos_i and, with a window, pos_i - pos_j < window.
  std::optional<int64_t> sliding_window;
};
AttentionSpec AttentionSpecOf(const ModelConfig& config, int64_t layer);

// Per query head: softmax(q k^T * scaling + mask) v. q [queries, heads * head_dim], k and v
// [keys, kv_heads * head_dim]; positions give the mask. HF eager numerics: the score matmul
// and the scaling each round to the precision, softmax runs in float32 and rounds, and the
// value matmul rounds. Output [queries, heads * head_dim].
Matrix ScaledDotProductAttention(const Matrix& q, const Matrix& k, const Matrix& v,
                                 std::span<const int64_t> query_positions,
                                 std::span<const int64_t> key_positions, const AttentionSpec& spec,
                                 Precision precision);

// The whole module on hidden states x [positions, hidden]: projections, rotary on q and k,
// attention over the same positions, o_proj.
Matrix Attention(const Matrix& x, std::span<const int64_t> positions,
                 const AttentionWeights& weights, const AttentionSpec& spec,
                 const RotaryFrequencies& rotary, Precision precision);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_ATTENTION_H_
