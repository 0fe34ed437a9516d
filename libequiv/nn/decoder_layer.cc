#include "libequiv/nn/decoder_layer.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "libequiv/nn/rms_norm.h"
#include "libequiv/tensor/error.h"

namespace equiv::nn {

DecoderLayerWeights DecoderLayerWeights::Rounded(Precision precision) const {
  return {nn::Rounded(precision, input_layernorm),
          self_attn.Rounded(precision),
          nn::Rounded(precision, post_attention_layernorm),
          mlp.Rounded(precision),
          nn::Rounded(precision, pre_feedforward_layernorm),
          nn::Rounded(precision, post_feedforward_layernorm)};
}

void DecoderLayerWeights::Pack(Precision precision) {
  self_attn.Pack(precision);
  mlp.Pack(precision);
}

void LayerKvCache::Append(const Matrix& keys, const Matrix& values) {
  if (keys.rows() != values.rows() || keys.cols() != values.cols() ||
      (length_ > 0 && keys.cols() != keys_.cols())) {
    throw Error("LayerKvCache: keys [" + std::to_string(keys.rows()) + ", " +
                std::to_string(keys.cols()) + "] and values [" + std::to_string(values.rows()) +
                ", " + std::to_string(values.cols()) + "] do not fit a cache of width " +
                std::to_string(keys_.cols()));
  }
  const int64_t needed = length_ + keys.rows();
  if (needed > keys_.rows() || keys_.cols() != keys.cols()) {
    const int64_t capacity = std::max<int64_t>({needed, 2 * keys_.rows(), 16});
    keys_.conservativeResize(capacity, keys.cols());
    values_.conservativeResize(capacity, values.cols());
  }
  keys_.middleRows(length_, keys.rows()) = keys;
  values_.middleRows(length_, values.rows()) = values;
  length_ = needed;
}

int64_t RotarySeqLen(std::span<const int64_t> positions, int64_t rows, const LayerKvCache* cache) {
  int64_t seq_len =
      positions.empty() ? 0 : *std::max_element(positions.begin(), positions.end()) + 1;
  if (cache != nullptr) seq_len = std::max(seq_len, cache->length() + rows);
  return seq_len;
}

Matrix SelfAttention(const Matrix& x, std::span<const int64_t> positions,
                     const AttentionWeights& weights, const AttentionSpec& spec,
                     const RotaryFrequencies& rotary, Precision precision, LayerKvCache* cache) {
  if (cache == nullptr) return Attention(x, positions, weights, spec, rotary, precision);
  const QueryKeyValue qkv = ProjectQueryKeyValue(x, positions, weights, spec, rotary, precision);
  // The mask by index, as HF's by cache_position: the new rows continue the cached ones.
  const int64_t start = cache->length();
  cache->Append(qkv.k, qkv.v);
  std::vector<int64_t> keys(static_cast<std::size_t>(cache->length()));
  std::iota(keys.begin(), keys.end(), int64_t{0});
  const std::span<const int64_t> queries =
      std::span<const int64_t>(keys).subspan(static_cast<std::size_t>(start));
  return Linear(ScaledDotProductAttention(qkv.q, cache->keys(), cache->values(), queries, keys,
                                          spec, precision, weights.sinks),
                weights.o_proj, precision);
}

Matrix DecoderLayer(const Matrix& x, std::span<const int64_t> positions,
                    const DecoderLayerWeights& weights, const ModelConfig& config, int64_t layer,
                    Precision precision, LayerKvCache* cache) {
  const RotaryFrequencies rotary =
      ComputeRotaryFrequencies(config, RotarySeqLen(positions, x.rows(), cache));
  const Matrix attn =
      SelfAttention(RmsNorm(x, weights.input_layernorm, config.rms_norm_eps, precision), positions,
                    weights.self_attn, AttentionSpecOf(config, layer), rotary, precision, cache);
  const Matrix h = Rounded(precision, Matrix(x + attn));
  const Matrix mlp =
      GatedMlp(RmsNorm(h, weights.post_attention_layernorm, config.rms_norm_eps, precision),
               weights.mlp, config.hidden_act, precision);
  return Rounded(precision, Matrix(h + mlp));
}

}  // namespace equiv::nn
