#include "libequiv/nn/gemma.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "libequiv/nn/linear.h"
#include "libequiv/nn/mlp.h"

namespace equiv::nn {
float GemmaEmbedScale(int64_t hidden_size, Precision precision) {
  // hidden_size**0.5 is a Python float; torch.tensor holds it in float32, the model's dtype
  // rounds it (Gemma 2: torch.tensor(..., dtype=hidden_states.dtype); Gemma 3: the float32
  // embed_scale buffer .to(weight.dtype)).
  const float scale = static_cast<float>(std::sqrt(static_cast<double>(hidden_size)));
  return Round(precision, scale);
}

Matrix MultiplyBy(const Matrix& x, float scale, Precision precision) {
  Matrix out(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.size(); ++i) out.data()[i] = Round(precision, x.data()[i] * scale);
  return out;
}

Matrix ScaleEmbeddings(const Matrix& embeddings, int64_t hidden_size, Precision precision) {
  return MultiplyBy(embeddings, GemmaEmbedScale(hidden_size, precision), precision);
}

AttentionSpec GemmaAttentionSpecOf(const ModelConfig& config, int64_t layer) {
  AttentionSpec spec = AttentionSpecOf(config, layer);
  spec.gemma_head_norms = true;
  return spec;
}

Matrix GemmaDecoderLayer(const Matrix& x, std::span<const int64_t> positions,
                         const DecoderLayerWeights& w, const ModelConfig& config, int64_t layer,
                         Precision precision, LayerKvCache* cache) {
  const double eps = config.rms_norm_eps;
  const Matrix attn = SelfAttention(
      GemmaRmsNorm(x, w.input_layernorm, eps, precision), positions, w.self_attn,
      GemmaAttentionSpecOf(config, layer),
      RotaryFrequenciesOfLayer(config, layer, RotarySeqLen(positions, x.rows(), cache)), precision,
      cache);
  const Matrix h = Rounded(
      precision, Matrix(x + GemmaRmsNorm(attn, w.post_attention_layernorm, eps, precision)));
  const Matrix mlp = GatedMlp(GemmaRmsNorm(h, w.pre_feedforward_layernorm, eps, precision), w.mlp,
                              config.hidden_act, precision);
  return Rounded(precision,
                 Matrix(h + GemmaRmsNorm(mlp, w.post_feedforward_layernorm, eps, precision)));
}

Matrix GemmaLogits(std::span<const int64_t> ids, const CausalLmWeights& weights,
                   const ModelConfig& config, Precision precision) {
  CausalLmCache cache;
  return GemmaStep(ids, weights, config, precision, cache);
}

Matrix GemmaStep(std::span<const int64_t> ids, const CausalLmWeights& weights,
                 const ModelConfig& config, Precision precision, CausalLmCache& cache) {
  cache.layers.resize(weights.layers.size());
  std::vector<int64_t> positions(ids.size());
  std::iota(positions.begin(), positions.end(), cache.length());
  Matrix h = ScaleEmbeddings(Embedding(weights.embed_tokens, ids), config.hidden_size, precision);
  for (std::size_t i = 0; i < weights.layers.size(); ++i) {
    h = GemmaDecoderLayer(h, positions, weights.layers[i], config, static_cast<int64_t>(i),
                          precision, &cache.layers[i]);
  }
  const Matrix normed = GemmaRmsNorm(h, weights.norm, config.rms_norm_eps, precision);
  Matrix logits = LmHead(normed, weights, precision);
  if (config.final_logit_softcapping) {
    logits = SoftCap(logits, *config.final_logit_softcapping, precision);
  }
  return logits;
}

}  // namespace equiv::nn
