#include "libequiv/nn/gemma.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "libequiv/nn/linear.h"
#include "libequiv/tensor/error.h"

namespace equiv::nn {
namespace {

int64_t SeqLenOf(std::span<const int64_t> positions) {
  return positions.empty() ? 0 : *std::max_element(positions.begin(), positions.end()) + 1;
}

}  // namespace

Matrix GemmaRmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision) {
  if (x.cols() != weight.size()) {
    throw Error("GemmaRmsNorm: input has " + std::to_string(x.cols()) + " features, the weight " +
                std::to_string(weight.size()));
  }
  Matrix out(x.rows(), x.cols());
  const float eps_f = static_cast<float>(eps);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    float sum = 0.0f;
    for (Eigen::Index c = 0; c < x.cols(); ++c) sum += x(r, c) * x(r, c);
    const float inv_rms = 1.0f / std::sqrt(sum / static_cast<float>(x.cols()) + eps_f);
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      // _norm(x.float()) * (1.0 + weight.float()), then type_as(x): one rounding.
      out(r, c) = Round(precision, (x(r, c) * inv_rms) * (1.0f + weight[c]));
    }
  }
  return out;
}

Matrix GemmaHeadRmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision) {
  const Eigen::Index d = weight.size();
  if (d == 0 || x.cols() % d != 0) {
    throw Error("GemmaHeadRmsNorm: input has " + std::to_string(x.cols()) +
                " features, not a whole number of heads of " + std::to_string(d));
  }
  // Row-major [n, heads * d] is [n * heads, d]: one row per head.
  const Eigen::Map<const Matrix> heads(x.data(), x.size() / d, d);
  const Matrix out = GemmaRmsNorm(Matrix(heads), weight, eps, precision);
  return Eigen::Map<const Matrix>(out.data(), x.rows(), x.cols());
}

float GemmaEmbedScale(int64_t hidden_size, Precision precision) {
  // hidden_size**0.5 is a Python float; torch.tensor holds it in float32, the model's dtype
  // rounds it (Gemma 2: torch.tensor(..., dtype=hidden_states.dtype); Gemma 3: the float32
  // embed_scale buffer .to(weight.dtype)).
  const float scale = static_cast<float>(std::sqrt(static_cast<double>(hidden_size)));
  return Round(precision, scale);
}

Matrix ScaleEmbeddings(const Matrix& embeddings, int64_t hidden_size, Precision precision) {
  const float scale = GemmaEmbedScale(hidden_size, precision);
  Matrix out(embeddings.rows(), embeddings.cols());
  for (Eigen::Index i = 0; i < embeddings.size(); ++i) {
    out.data()[i] = Round(precision, embeddings.data()[i] * scale);
  }
  return out;
}

bool IsSlidingLayer(const ModelConfig& config, int64_t layer) {
  if (!config.layer_types.empty()) {
    return config.layer_types.at(static_cast<std::size_t>(layer)) == LayerAttention::kSliding;
  }
  return SlidingWindowOfLayer(config, layer).has_value();
}

ModelConfig LocalRopeConfig(const ModelConfig& config) {
  ModelConfig local = config;
  if (config.rope_local_base_freq) {
    // Gemma3TextModel: a copy of the config with rope_theta = rope_local_base_freq and
    // rope_scaling {"rope_type": "default"}.
    local.rope_theta = *config.rope_local_base_freq;
    local.rope_scaling = RopeScaling{};
  }
  return local;
}

RotaryFrequencies GemmaRotaryFrequencies(const ModelConfig& config, int64_t layer,
                                         int64_t seq_len) {
  if (config.rope_local_base_freq && IsSlidingLayer(config, layer)) {
    return ComputeRotaryFrequencies(LocalRopeConfig(config), seq_len);
  }
  return ComputeRotaryFrequencies(config, seq_len);
}

AttentionSpec GemmaAttentionSpecOf(const ModelConfig& config, int64_t layer) {
  AttentionSpec spec = AttentionSpecOf(config, layer);
  // config.query_pre_attn_scalar**-0.5, a Python float.
  if (config.query_pre_attn_scalar > 0) spec.scaling = std::pow(config.query_pre_attn_scalar, -0.5);
  // Gemma2Attention passes softcap=attn_logit_softcapping to the attention function;
  // Gemma3Attention reads the field but passes no softcap.
  if (config.model_type == "gemma2") spec.softcap = config.attn_logit_softcapping;
  return spec;
}

GemmaLayerWeights GemmaLayerWeights::Rounded(Precision precision) const {
  return {nn::Rounded(precision, input_layernorm),
          self_attn.Rounded(precision),
          nn::Rounded(precision, post_attention_layernorm),
          nn::Rounded(precision, pre_feedforward_layernorm),
          nn::Rounded(precision, post_feedforward_layernorm),
          mlp.Rounded(precision)};
}

GemmaWeights GemmaWeights::Rounded(Precision precision) const {
  GemmaWeights out{nn::Rounded(precision, embed_tokens), {}, nn::Rounded(precision, norm),
                   nn::Rounded(precision, lm_head)};
  out.layers.reserve(layers.size());
  for (const GemmaLayerWeights& layer : layers) out.layers.push_back(layer.Rounded(precision));
  return out;
}

Matrix GemmaAttention(const Matrix& x, std::span<const int64_t> positions,
                      const AttentionWeights& weights, const AttentionSpec& spec,
                      const RotaryFrequencies& rotary, Precision precision) {
  const RotaryTables tables = RotaryCosSin(rotary, positions, precision);
  const auto project = [&](const LinearWeights& proj, const Vector& norm) {
    const Matrix projected = Linear(x, proj, precision);
    return norm.size() == 0 ? projected
                            : GemmaHeadRmsNorm(projected, norm, spec.norm_eps, precision);
  };
  const Matrix q =
      ApplyRotary(project(weights.q_proj, weights.q_norm), spec.head_dim, tables, precision);
  const Matrix k =
      ApplyRotary(project(weights.k_proj, weights.k_norm), spec.head_dim, tables, precision);
  const Matrix v = Linear(x, weights.v_proj, precision);
  const Matrix attended = ScaledDotProductAttention(q, k, v, positions, positions, spec, precision);
  return Linear(attended, weights.o_proj, precision);
}

Matrix GemmaDecoderLayer(const Matrix& x, std::span<const int64_t> positions,
                         const GemmaLayerWeights& w, const ModelConfig& config, int64_t layer,
                         Precision precision) {
  const double eps = config.rms_norm_eps;
  const Matrix attn =
      GemmaAttention(GemmaRmsNorm(x, w.input_layernorm, eps, precision), positions, w.self_attn,
                     GemmaAttentionSpecOf(config, layer),
                     GemmaRotaryFrequencies(config, layer, SeqLenOf(positions)), precision);
  const Matrix h = Rounded(
      precision, Matrix(x + GemmaRmsNorm(attn, w.post_attention_layernorm, eps, precision)));
  const Matrix mlp = GatedMlp(GemmaRmsNorm(h, w.pre_feedforward_layernorm, eps, precision), w.mlp,
                              config.hidden_act, precision);
  return Rounded(precision,
                 Matrix(h + GemmaRmsNorm(mlp, w.post_feedforward_layernorm, eps, precision)));
}

Matrix GemmaLogits(std::span<const int64_t> ids, const GemmaWeights& weights,
                   const ModelConfig& config, Precision precision) {
  std::vector<int64_t> positions(ids.size());
  std::iota(positions.begin(), positions.end(), int64_t{0});
  Matrix h = ScaleEmbeddings(Embedding(weights.embed_tokens, ids), config.hidden_size, precision);
  for (std::size_t i = 0; i < weights.layers.size(); ++i) {
    h = GemmaDecoderLayer(h, positions, weights.layers[i], config, static_cast<int64_t>(i),
                          precision);
  }
  const Matrix normed = GemmaRmsNorm(h, weights.norm, config.rms_norm_eps, precision);
  Matrix logits = Linear(normed, LinearWeights{weights.lm_head, {}}, precision);
  if (config.final_logit_softcapping) {
    logits = SoftCap(logits, *config.final_logit_softcapping, precision);
  }
  return logits;
}

}  // namespace equiv::nn
