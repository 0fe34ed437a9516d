// LlamaDecoderLayer and LlamaForCausalLM.
#ifndef EQUIV_LIBEQUIV_NN_DECODER_LAYER_H_
#define EQUIV_LIBEQUIV_NN_DECODER_LAYER_H_

#include <cstdint>
#include <span>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/nn/attention.h"
#include "libequiv/nn/mlp.h"

namespace equiv::nn {

struct DecoderLayerWeights {
  Vector input_layernorm;
  AttentionWeights self_attn;
  Vector post_attention_layernorm;
  MlpWeights mlp;
  // Gemma's norms around the MLP (nn/gemma.h); empty for a llama-like layer.
  Vector pre_feedforward_layernorm = {};
  Vector post_feedforward_layernorm = {};

  DecoderLayerWeights Rounded(Precision precision) const;
};

// h = x + attn(norm1(x)); out = h + mlp(norm2(h)); each residual add rounded.
Matrix DecoderLayer(const Matrix& x, std::span<const int64_t> positions,
                    const DecoderLayerWeights& weights, const ModelConfig& config, int64_t layer,
                    Precision precision);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_DECODER_LAYER_H_
