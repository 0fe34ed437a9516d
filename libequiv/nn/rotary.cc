#include "libequiv/nn/rotary.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "libequiv/tensor/error.h"

namespace equiv::nn {
namespace {

// HF _compute_default_rope_parameters: 1 / base^(arange(0, dim, 2).float() / dim), in float32.
std::vector<float> DefaultInvFreq(double base, int64_t dim) {
  std::vector<float> inv_freq(static_cast<std::size_t>(dim / 2));
  for (int64_t i = 0; i < dim / 2; ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(dim);
    inv_freq[i] = 1.0f / std::pow(static_cast<float>(base), exponent);
  }
  return inv_freq;
}

// HF _compute_yarn_parameters: blend interpolated and extrapolated frequencies over the
// correction range of dimensions.
std::vector<float> YarnInvFreq(const ModelConfig& config) {
  const RopeScaling& s = config.rope_scaling;
  const int64_t dim = config.head_dim;
  const double base = config.rope_theta;
  const auto correction_dim = [&](double rotations) {
    return (static_cast<double>(dim) *
            std::log(static_cast<double>(s.original_max_position_embeddings) /
                     (rotations * 2 * std::numbers::pi))) /
           (2 * std::log(base));
  };
  double low = correction_dim(s.beta_fast);
  double high = correction_dim(s.beta_slow);
  if (s.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(dim - 1));
  if (low == high) high += 0.001;  // linear_ramp_factor avoids a zero range

  std::vector<float> inv_freq(static_cast<std::size_t>(dim / 2));
  const float factor = static_cast<float>(s.factor);
  for (int64_t i = 0; i < dim / 2; ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(dim);
    const float pos_freq = std::pow(static_cast<float>(base), exponent);
    const float extrapolation = 1.0f / pos_freq;
    const float interpolation = 1.0f / (factor * pos_freq);
    const float ramp = std::clamp(
        (static_cast<float>(i) - static_cast<float>(low)) / static_cast<float>(high - low), 0.0f,
        1.0f);
    const float extrapolation_factor = 1.0f - ramp;
    inv_freq[i] =
        interpolation * (1.0f - extrapolation_factor) + extrapolation * extrapolation_factor;
  }
  return inv_freq;
}

// HF _compute_llama3_parameters: long wavelengths divided by factor, short ones kept, a smooth
// blend between. Evaluated as PyTorch evaluates it: `2 * math.pi / inv_freq` and
// `old_context_len / wavelen` are python-number / tensor, Tensor.__rtruediv__, which is
// `reciprocal() * number` (two roundings, not one division); the python-float operands are
// computed in double and enter the float32 ops cast to float.
void ApplyLlama3(const RopeScaling& s, std::vector<float>& inv_freq) {
  const float factor = static_cast<float>(s.factor);
  const auto old_context = static_cast<double>(s.original_max_position_embeddings);
  const float low_freq_factor = static_cast<float>(s.low_freq_factor);
  const float low_freq_wavelen = static_cast<float>(old_context / s.low_freq_factor);
  const float high_freq_wavelen = static_cast<float>(old_context / s.high_freq_factor);
  const float band = static_cast<float>(s.high_freq_factor - s.low_freq_factor);
  const float two_pi = static_cast<float>(2 * std::numbers::pi);
  for (float& f : inv_freq) {
    const float wavelen = (1.0f / f) * two_pi;
    const float scaled = wavelen > low_freq_wavelen ? f / factor : f;
    const float smooth =
        ((1.0f / wavelen) * static_cast<float>(old_context) - low_freq_factor) / band;
    const float smoothed = (1.0f - smooth) * scaled / factor + smooth * scaled;
    const bool medium = !(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen);
    f = medium ? smoothed : scaled;
  }
}

// HF _compute_dynamic_ntk_parameters once seq_len passes max_position_embeddings: seq_len is
// then a tensor (max(position_ids) + 1, int64), so the grown base is float32 tensor arithmetic:
// factor * seq_len, / max_position_embeddings and - (factor - 1) each round to float32 (the
// python numbers cast to float), the 0-dim tensor ** (dim / (dim - 2)) is PyTorch's
// pow_tensor_scalar, std::pow in double on the float value, rounded to float32, and base *
// that rounds again.
float DynamicNtkBase(const ModelConfig& config, int64_t seq_len) {
  const RopeScaling& s = config.rope_scaling;
  const auto dim = static_cast<double>(config.head_dim);
  const float grown = static_cast<float>(s.factor) * static_cast<float>(seq_len) /
                          static_cast<float>(config.max_position_embeddings) -
                      static_cast<float>(s.factor - 1);
  const auto power = static_cast<float>(std::pow(static_cast<double>(grown), dim / (dim - 2)));
  return static_cast<float>(config.rope_theta) * power;
}

}  // namespace

RotaryFrequencies ComputeRotaryFrequencies(const ModelConfig& config, int64_t seq_len) {
  const RopeScaling& s = config.rope_scaling;
  const int64_t dim = config.head_dim;
  RotaryFrequencies out;
  switch (s.type) {
    case RopeType::kDefault:
      out.inv_freq = DefaultInvFreq(config.rope_theta, dim);
      break;
    case RopeType::kLinear:
      out.inv_freq = DefaultInvFreq(config.rope_theta, dim);
      for (float& f : out.inv_freq) f /= static_cast<float>(s.factor);
      break;
    case RopeType::kDynamic:
      // The base grows once seq_len passes the context. Up to it HF keeps the buffer of its
      // init, where seq_len is max_position_embeddings, a python int: the same formula in
      // double (its factor is 1, up to rounding).
      if (seq_len > config.max_position_embeddings) {
        out.inv_freq = DefaultInvFreq(DynamicNtkBase(config, seq_len), dim);
      } else {
        const double d = static_cast<double>(dim);
        const auto max_pos = static_cast<double>(config.max_position_embeddings);
        const double grown = s.factor * max_pos / max_pos - (s.factor - 1);
        out.inv_freq = DefaultInvFreq(config.rope_theta * std::pow(grown, d / (d - 2)), dim);
      }
      break;
    case RopeType::kYarn:
      out.inv_freq = YarnInvFreq(config);
      break;
    case RopeType::kLlama3:
      out.inv_freq = DefaultInvFreq(config.rope_theta, dim);
      ApplyLlama3(s, out.inv_freq);
      break;
  }
  out.attention_scaling = static_cast<float>(s.attention_factor);
  return out;
}

RotaryTables RotaryCosSin(const RotaryFrequencies& frequencies, std::span<const int64_t> positions,
                          Precision precision) {
  const auto half = static_cast<Eigen::Index>(frequencies.inv_freq.size());
  const auto n = static_cast<Eigen::Index>(positions.size());
  RotaryTables t{Matrix(n, 2 * half), Matrix(n, 2 * half)};
  for (Eigen::Index p = 0; p < n; ++p) {
    for (Eigen::Index i = 0; i < half; ++i) {
      // freqs = inv_freq @ position_ids in float32; emb = cat(freqs, freqs).
      const float freq = frequencies.inv_freq[i] * static_cast<float>(positions[p]);
      const float c = Round(precision, std::cos(freq) * frequencies.attention_scaling);
      const float s = Round(precision, std::sin(freq) * frequencies.attention_scaling);
      t.cos(p, i) = t.cos(p, i + half) = c;
      t.sin(p, i) = t.sin(p, i + half) = s;
    }
  }
  return t;
}

Matrix ApplyRotary(const Matrix& x, int64_t head_dim, const RotaryTables& tables,
                   Precision precision) {
  if (head_dim != tables.cos.cols() || x.cols() % head_dim != 0 || x.rows() != tables.cos.rows()) {
    throw Error("ApplyRotary: x [" + std::to_string(x.rows()) + ", " + std::to_string(x.cols()) +
                "] does not fit head_dim " + std::to_string(head_dim) + " and tables for " +
                std::to_string(tables.cos.rows()) + " positions of " +
                std::to_string(tables.cos.cols()) + " dims");
  }
  const int64_t half = head_dim / 2;
  Matrix out(x.rows(), x.cols());
  for (Eigen::Index p = 0; p < x.rows(); ++p) {
    for (Eigen::Index base = 0; base < x.cols(); base += head_dim) {
      for (int64_t d = 0; d < head_dim; ++d) {
        // rotate_half(x) = cat(-x2, x1)
        const float rotated = d < half ? -x(p, base + d + half) : x(p, base + d - half);
        const float a = Round(precision, x(p, base + d) * tables.cos(p, d));
        const float b = Round(precision, rotated * tables.sin(p, d));
        out(p, base + d) = Round(precision, a + b);
      }
    }
  }
  return out;
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

RotaryFrequencies RotaryFrequenciesOfLayer(const ModelConfig& config, int64_t layer,
                                           int64_t seq_len) {
  if (config.rope_local_base_freq && !config.layer_types.empty() &&
      config.layer_types.at(static_cast<std::size_t>(layer)) == LayerAttention::kSliding) {
    return ComputeRotaryFrequencies(LocalRopeConfig(config), seq_len);
  }
  return ComputeRotaryFrequencies(config, seq_len);
}

}  // namespace equiv::nn
