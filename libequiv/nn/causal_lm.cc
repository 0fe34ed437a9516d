#include "libequiv/nn/causal_lm.h"

#include <numeric>
#include <vector>

#include "libequiv/nn/rms_norm.h"

namespace equiv::nn {

CausalLmWeights CausalLmWeights::Rounded(Precision precision) const {
  CausalLmWeights out{nn::Rounded(precision, embed_tokens),
                      {},
                      nn::Rounded(precision, norm),
                      nn::Rounded(precision, lm_head)};
  out.layers.reserve(layers.size());
  for (const DecoderLayerWeights& layer : layers) out.layers.push_back(layer.Rounded(precision));
  return out;
}

void CausalLmWeights::Pack(Precision precision) {
  for (DecoderLayerWeights& layer : layers) layer.Pack(precision);
  lm_head_packed = std::make_shared<const PackedMatrix>(lm_head, precision);
}

Matrix LmHead(const Matrix& hidden, const CausalLmWeights& weights, Precision precision) {
  return Linear(hidden, LinearWeights{weights.lm_head, {}, weights.lm_head_packed}, precision);
}

Matrix CausalLmLogits(std::span<const int64_t> ids, const CausalLmWeights& weights,
                      const ModelConfig& config, Precision precision) {
  CausalLmCache cache;
  return CausalLmStep(ids, weights, config, precision, cache);
}

Matrix CausalLmStep(std::span<const int64_t> ids, const CausalLmWeights& weights,
                    const ModelConfig& config, Precision precision, CausalLmCache& cache) {
  const int64_t start = cache.length();
  cache.layers.resize(weights.layers.size());
  std::vector<int64_t> positions(ids.size());
  std::iota(positions.begin(), positions.end(), start);
  Matrix h = Embedding(weights.embed_tokens, ids);
  for (std::size_t i = 0; i < weights.layers.size(); ++i) {
    h = DecoderLayer(h, positions, weights.layers[i], config, static_cast<int64_t>(i), precision,
                     &cache.layers[i]);
  }
  return LmHead(RmsNorm(h, weights.norm, config.rms_norm_eps, precision), weights, precision);
}

}  // namespace equiv::nn
