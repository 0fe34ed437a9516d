#include "libequiv/nn/attention.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "libequiv/nn/rms_norm.h"
#include "libequiv/parallel/parallel_for.h"
#include "libequiv/tensor/error.h"

namespace equiv::nn {

AttentionWeights AttentionWeights::Rounded(Precision precision) const {
  return {q_proj.Rounded(precision),      k_proj.Rounded(precision),
          v_proj.Rounded(precision),      o_proj.Rounded(precision),
          nn::Rounded(precision, q_norm), nn::Rounded(precision, k_norm),
          nn::Rounded(precision, sinks)};
}

void AttentionWeights::Pack(Precision precision) {
  for (LinearWeights* w : {&q_proj, &k_proj, &v_proj, &o_proj}) w->Pack(precision);
}

AttentionSpec AttentionSpecOf(const ModelConfig& config, int64_t layer) {
  // Gemma: query_pre_attn_scalar**-0.5, a Python float, when the config has one.
  const double scaling = config.query_pre_attn_scalar > 0
                             ? std::pow(config.query_pre_attn_scalar, -0.5)
                             : 1.0 / std::sqrt(static_cast<double>(config.head_dim));
  return {config.num_attention_heads,
          config.num_key_value_heads,
          config.head_dim,
          scaling,
          SlidingWindowOfLayer(config, layer),
          config.rms_norm_eps,
          config.attn_logit_softcapping};
}

Matrix SoftCap(const Matrix& x, double cap, Precision precision) {
  // x / cap, tanh, * cap: three ops, three roundings (each computes in float32).
  const float c = static_cast<float>(cap);
  Matrix out(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const float scaled = Round(precision, x.data()[i] / c);
    const float bent = Round(precision, std::tanh(scaled));
    out.data()[i] = Round(precision, bent * c);
  }
  return out;
}

namespace {

bool Visible(int64_t query_pos, int64_t key_pos, const AttentionSpec& spec) {
  if (key_pos > query_pos) return false;
  return !spec.sliding_window || query_pos - key_pos < *spec.sliding_window;
}

// Below this many multiply-adds in all, the heads run on one thread.
constexpr int64_t kParallelMacs = int64_t{1} << 22;

void CheckShapes(ConstMatrixRef q, ConstMatrixRef k, ConstMatrixRef v, std::size_t queries,
                 std::size_t keys, const AttentionSpec& spec) {
  const auto shape = [](ConstMatrixRef m) {
    return "[" + std::to_string(m.rows()) + ", " + std::to_string(m.cols()) + "]";
  };
  if (spec.num_heads <= 0 || spec.num_kv_heads <= 0 || spec.num_heads % spec.num_kv_heads != 0 ||
      q.cols() != spec.num_heads * spec.head_dim || k.cols() != spec.num_kv_heads * spec.head_dim ||
      v.cols() != k.cols() || k.rows() != v.rows() ||
      q.rows() != static_cast<Eigen::Index>(queries) ||
      k.rows() != static_cast<Eigen::Index>(keys)) {
    throw Error("ScaledDotProductAttention: q " + shape(q) + ", k " + shape(k) + ", v " + shape(v) +
                " with " + std::to_string(queries) + " query and " + std::to_string(keys) +
                " key positions do not fit " + std::to_string(spec.num_heads) + " heads, " +
                std::to_string(spec.num_kv_heads) + " kv heads of dim " +
                std::to_string(spec.head_dim));
  }
}

// One query head: scores, softmax, probs * v, into out's columns of the head.
void AttendHead(ConstMatrixRef qh, const PackedMatrix& kh, const PackedMatrix& vh,
                std::span<const int64_t> query_positions, std::span<const int64_t> key_positions,
                const AttentionSpec& spec, Precision precision, std::optional<float> sink,
                Eigen::Ref<Matrix> out) {
  const float scaling = static_cast<float>(spec.scaling);
  // attn_weights = matmul(q, k^T) * scaling: two ops, two roundings under bf16.
  Matrix scores = MatmulNT(qh, kh, Vector(), precision, 1);
  for (Eigen::Index i = 0; i < scores.size(); ++i) {
    scores.data()[i] = Round(precision, scores.data()[i] * scaling);
  }
  if (spec.softcap) scores = SoftCap(scores, *spec.softcap, precision);
  // softmax(attn_weights + mask, dtype=float32).to(dtype); masked entries get exactly 0.
  Matrix probs = Matrix::Zero(scores.rows(), scores.cols());
  for (Eigen::Index i = 0; i < scores.rows(); ++i) {
    float max = -std::numeric_limits<float>::infinity();
    for (Eigen::Index j = 0; j < scores.cols(); ++j) {
      if (Visible(query_positions[i], key_positions[j], spec)) max = std::max(max, scores(i, j));
    }
    if (sink) {
      // GPT-OSS: cat([scores, sink]) - max, a bf16 op of its own; softmax of the shifted row
      // (its max is 0) in float32; the sink's probability dropped.
      max = std::max(max, *sink);
      float sum = 0.0f;
      for (Eigen::Index j = 0; j < scores.cols(); ++j) {
        if (!Visible(query_positions[i], key_positions[j], spec)) continue;
        probs(i, j) = std::exp(Round(precision, scores(i, j) - max));
        sum += probs(i, j);
      }
      sum += std::exp(Round(precision, *sink - max));  // the sink is the last column
      for (Eigen::Index j = 0; j < scores.cols(); ++j) {
        probs(i, j) = Round(precision, probs(i, j) / sum);
      }
      continue;
    }
    if (max == -std::numeric_limits<float>::infinity()) continue;  // no visible key
    float sum = 0.0f;
    for (Eigen::Index j = 0; j < scores.cols(); ++j) {
      if (!Visible(query_positions[i], key_positions[j], spec)) continue;
      probs(i, j) = std::exp(scores(i, j) - max);
      sum += probs(i, j);
    }
    for (Eigen::Index j = 0; j < scores.cols(); ++j) {
      probs(i, j) = Round(precision, probs(i, j) / sum);
    }
  }
  out = MatmulNT(probs, vh, Vector(), precision, 1);
}

}  // namespace

Matrix ScaledDotProductAttention(ConstMatrixRef q, ConstMatrixRef k, ConstMatrixRef v,
                                 std::span<const int64_t> query_positions,
                                 std::span<const int64_t> key_positions, const AttentionSpec& spec,
                                 Precision precision, const Vector& sinks) {
  CheckShapes(q, k, v, query_positions.size(), key_positions.size(), spec);
  if (sinks.size() != 0 && sinks.size() != spec.num_heads) {
    throw Error("ScaledDotProductAttention: " + std::to_string(sinks.size()) + " sinks for " +
                std::to_string(spec.num_heads) + " heads");
  }
  const int64_t d = spec.head_dim;
  const int64_t group = spec.num_heads / spec.num_kv_heads;  // repeat_kv
  Matrix out(q.rows(), q.cols());
  const int64_t macs = 2 * spec.num_heads * q.rows() * k.rows() * d;
  // Each kv head (its keys and values packed once) with the query heads that read it.
  ParallelForChunks(spec.num_kv_heads, macs >= kParallelMacs ? 0 : 1, [&](int64_t kv) {
    const auto kv_k = k.middleCols(kv * d, d);
    const auto kv_v = v.middleCols(kv * d, d);
    const PackedMatrix kh(kv_k, OperandPrecision(kv_k, precision));
    const PackedMatrix vh = PackedMatrix::FromTransposed(kv_v, OperandPrecision(kv_v, precision));
    for (int64_t h = kv * group; h < (kv + 1) * group; ++h) {
      const std::optional<float> sink =
          sinks.size() != 0 ? std::optional<float>(sinks(h)) : std::nullopt;
      AttendHead(q.middleCols(h * d, d), kh, vh, query_positions, key_positions, spec, precision,
                 sink, out.middleCols(h * d, d));
    }
  });
  return out;
}

QueryKeyValue ProjectQueryKeyValue(const Matrix& x, std::span<const int64_t> positions,
                                   const AttentionWeights& weights, const AttentionSpec& spec,
                                   const RotaryFrequencies& rotary, Precision precision) {
  const RotaryTables tables = RotaryCosSin(rotary, positions, precision);
  const auto project = [&](const LinearWeights& proj, const Vector& norm) {
    const Matrix projected = Linear(x, proj, precision);
    if (norm.size() == 0) return projected;
    return spec.gemma_head_norms ? GemmaHeadRmsNorm(projected, norm, spec.norm_eps, precision)
                                 : HeadRmsNorm(projected, norm, spec.norm_eps, precision);
  };
  return {ApplyRotary(project(weights.q_proj, weights.q_norm), spec.head_dim, tables, precision),
          ApplyRotary(project(weights.k_proj, weights.k_norm), spec.head_dim, tables, precision),
          Linear(x, weights.v_proj, precision)};
}

Matrix Attention(const Matrix& x, std::span<const int64_t> positions,
                 const AttentionWeights& weights, const AttentionSpec& spec,
                 const RotaryFrequencies& rotary, Precision precision) {
  const QueryKeyValue qkv = ProjectQueryKeyValue(x, positions, weights, spec, rotary, precision);
  // The mask follows the rows' indices, as HF's follows cache_position, whatever the positions
  // (rotary's alone): 0 .. n-1, queries and keys alike.
  std::vector<int64_t> indices(positions.size());
  std::iota(indices.begin(), indices.end(), int64_t{0});
  const Matrix attended = ScaledDotProductAttention(qkv.q, qkv.k, qkv.v, indices, indices, spec,
                                                    precision, weights.sinks);
  return Linear(attended, weights.o_proj, precision);
}

}  // namespace equiv::nn
