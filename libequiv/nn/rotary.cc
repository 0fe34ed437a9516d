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
// blend between.
void ApplyLlama3(const RopeScaling& s, std::vector<float>& inv_freq) {
  const float factor = static_cast<float>(s.factor);
  const float low_freq_factor = static_cast<float>(s.low_freq_factor);
  const float high_freq_factor = static_cast<float>(s.high_freq_factor);
  const float old_context = static_cast<float>(s.original_max_position_embeddings);
  const float low_freq_wavelen = old_context / low_freq_factor;
  const float high_freq_wavelen = old_context / high_freq_factor;
  for (float& f : inv_freq) {
    const float wavelen = static_cast<float>(2 * std::numbers::pi) / f;
    const float scaled = wavelen > low_freq_wavelen ? f / factor : f;
    const float smooth =
        (old_context / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
    const float smoothed = (1.0f - smooth) * scaled / factor + smooth * scaled;
    const bool medium = !(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen);
    f = medium ? smoothed : scaled;
  }
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
    case RopeType::kDynamic: {
      // HF _compute_dynamic_ntk_parameters: the base grows once seq_len passes the context.
      const double max_pos = static_cast<double>(config.max_position_embeddings);
      const double len = std::max(static_cast<double>(seq_len), max_pos);
      const double d = static_cast<double>(dim);
      const double base =
          config.rope_theta * std::pow(s.factor * len / max_pos - (s.factor - 1), d / (d - 2));
      out.inv_freq = DefaultInvFreq(base, dim);
      break;
    }
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
