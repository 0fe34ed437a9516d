#include "libequiv/nn/decoder_layer.h"

#include <algorithm>

#include "libequiv/nn/rms_norm.h"

namespace equiv::nn {

DecoderLayerWeights DecoderLayerWeights::Rounded(Precision precision) const {
  return {nn::Rounded(precision, input_layernorm),
          self_attn.Rounded(precision),
          nn::Rounded(precision, post_attention_layernorm),
          mlp.Rounded(precision),
          nn::Rounded(precision, pre_feedforward_layernorm),
          nn::Rounded(precision, post_feedforward_layernorm)};
}

Matrix DecoderLayer(const Matrix& x, std::span<const int64_t> positions,
                    const DecoderLayerWeights& weights, const ModelConfig& config, int64_t layer,
                    Precision precision) {
  const int64_t seq_len =
      positions.empty() ? 0 : *std::max_element(positions.begin(), positions.end()) + 1;
  const RotaryFrequencies rotary = ComputeRotaryFrequencies(config, seq_len);
  const Matrix attn =
      Attention(RmsNorm(x, weights.input_layernorm, config.rms_norm_eps, precision), positions,
                weights.self_attn, AttentionSpecOf(config, layer), rotary, precision);
  const Matrix h = Rounded(precision, Matrix(x + attn));
  const Matrix mlp =
      GatedMlp(RmsNorm(h, weights.post_attention_layernorm, config.rms_norm_eps, precision),
               weights.mlp, config.hidden_act, precision);
  return Rounded(precision, Matrix(h + mlp));
}

}  // namespace equiv::nn
