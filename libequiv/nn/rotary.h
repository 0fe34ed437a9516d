// Rotary position embedding with every rope_scaling type of the llama family (HF
// modeling_rope_utils), and apply_rotary_pos_emb with rotate_half.
//
//   RotaryFrequencies f = ComputeRotaryFrequencies(config, /*seq_len=*/max_position + 1);
//   RotaryTables t = RotaryCosSin(f, positions, Precision::kBf16);
//   Matrix q_rotated = ApplyRotary(q, config.head_dim, t, Precision::kBf16);
#ifndef EQUIV_LIBEQUIV_NN_ROTARY_H_
#define EQUIV_LIBEQUIV_NN_ROTARY_H_

#include <cstdint>
#include <span>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/nn/numerics.h"

namespace equiv::nn {

// inv_freq (head_dim / 2 values, float32 as HF keeps them) and the factor cos and sin are
// multiplied by (YaRN's attention factor; 1 for the other types).
struct RotaryFrequencies {
  std::vector<float> inv_freq;
  float attention_scaling = 1.0f;
};

// `seq_len` matters only to dynamic NTK scaling, which grows the base once positions pass
// max_position_embeddings (HF passes max(position_ids) + 1).
RotaryFrequencies ComputeRotaryFrequencies(const ModelConfig& config, int64_t seq_len);

// Gemma 3's local rotary embedding (model.rotary_emb_local): the config with rope_theta =
// rope_local_base_freq and default rope; the config itself when it has no local base.
ModelConfig LocalRopeConfig(const ModelConfig& config);
// The frequencies layer `layer` uses: the local ones on Gemma 3's sliding layers, the
// config's (model.rotary_emb) everywhere else.
RotaryFrequencies RotaryFrequenciesOfLayer(const ModelConfig& config, int64_t layer,
                                           int64_t seq_len);

// cos and sin [positions, head_dim] (each half repeated, as HF's cat(freqs, freqs)), computed in
// float32, multiplied by attention_scaling, then rounded to the precision.
struct RotaryTables {
  Matrix cos;
  Matrix sin;
};
RotaryTables RotaryCosSin(const RotaryFrequencies& frequencies, std::span<const int64_t> positions,
                          Precision precision);

// x [positions, heads * head_dim]: every head becomes x * cos + rotate_half(x) * sin, each
// product and the sum rounded to the precision (three bf16 roundings under kBf16).
Matrix ApplyRotary(const Matrix& x, int64_t head_dim, const RotaryTables& tables,
                   Precision precision);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_ROTARY_H_
