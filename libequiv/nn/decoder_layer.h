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
  void Pack(Precision precision);
};

// One layer's keys (after rotary) and values of every position so far, in the precision, as
// HF's DynamicCache keeps them; rows are positions 0, 1, ..., length() - 1.
class LayerKvCache {
 public:
  void Append(const Matrix& keys, const Matrix& values);
  int64_t length() const { return length_; }
  ConstMatrixRef keys() const { return keys_.topRows(length_); }
  ConstMatrixRef values() const { return values_.topRows(length_); }

 private:
  Matrix keys_;  // capacity rows, grown by doubling
  Matrix values_;
  int64_t length_ = 0;
};

// The attention module on normed hidden states x: nn::Attention without a cache; with one, the
// keys and values of x's positions (continuing from cache->length()) are appended and attention
// reads every cached position, so each output row is the full forward's, bit for bit.
Matrix SelfAttention(const Matrix& x, std::span<const int64_t> positions,
                     const AttentionWeights& weights, const AttentionSpec& spec,
                     const RotaryFrequencies& rotary, Precision precision, LayerKvCache* cache);

// The sequence length a layer's rotary tables cover: past the last position, and past the
// cached positions plus x's rows with a cache.
int64_t RotarySeqLen(std::span<const int64_t> positions, int64_t rows, const LayerKvCache* cache);

// h = x + attn(norm1(x)); out = h + mlp(norm2(h)); each residual add rounded. With a cache, x
// holds the positions after the cached ones (`positions` continue from cache->length()): their
// keys and values are appended and attention reads every cached position; each output row is
// the one a forward over the whole sequence gives, bit for bit.
Matrix DecoderLayer(const Matrix& x, std::span<const int64_t> positions,
                    const DecoderLayerWeights& weights, const ModelConfig& config, int64_t layer,
                    Precision precision, LayerKvCache* cache = nullptr);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_DECODER_LAYER_H_
