#include "libequiv/device/flash_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "libequiv/tensor/error.h"

namespace equiv::device {
namespace {

using RowVector = Eigen::RowVectorXf;

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

std::string Str(int64_t value) { return std::to_string(value); }
std::string ShapeStr(const Matrix& m) { return "[" + Str(m.rows()) + ", " + Str(m.cols()) + "]"; }

void CheckInputs(const std::string& kernel, const Matrix& q, const Matrix& k, const Matrix& v,
                 std::span<const int64_t> query_positions, std::span<const int64_t> key_positions,
                 const AttentionKernelSpec& spec) {
  if (spec.num_heads < 1 || spec.num_kv_heads < 1 || spec.head_dim < 1) {
    throw Error(kernel + ": num_heads " + Str(spec.num_heads) + ", num_kv_heads " +
                Str(spec.num_kv_heads) + " and head_dim " + Str(spec.head_dim) +
                " must all be positive");
  }
  if (spec.num_heads % spec.num_kv_heads != 0) {
    throw Error(kernel + ": num_heads " + Str(spec.num_heads) +
                " does not divide by num_kv_heads " + Str(spec.num_kv_heads));
  }
  if (spec.sliding_window && *spec.sliding_window < 1) {
    throw Error(kernel + ": sliding_window " + Str(*spec.sliding_window) + " is not positive");
  }
  if (q.cols() != spec.num_heads * spec.head_dim) {
    throw Error(kernel + ": q " + ShapeStr(q) + " does not have num_heads * head_dim = " +
                Str(spec.num_heads * spec.head_dim) + " columns");
  }
  if (!spec.sinks.empty() && static_cast<int64_t>(spec.sinks.size()) != spec.num_heads) {
    throw Error(kernel + ": " + Str(static_cast<int64_t>(spec.sinks.size())) + " sinks for " +
                Str(spec.num_heads) + " heads");
  }
  const int64_t kv_width = spec.num_kv_heads * spec.head_dim;
  if (k.cols() != kv_width || v.cols() != kv_width || k.rows() != v.rows()) {
    throw Error(kernel + ": k " + ShapeStr(k) + " and v " + ShapeStr(v) +
                " must both be [keys, num_kv_heads * head_dim = " + Str(kv_width) + "]");
  }
  if (static_cast<int64_t>(query_positions.size()) != q.rows()) {
    throw Error(kernel + ": " + Str(static_cast<int64_t>(query_positions.size())) +
                " query positions for " + Str(q.rows()) + " query rows");
  }
  if (static_cast<int64_t>(key_positions.size()) != k.rows()) {
    throw Error(kernel + ": " + Str(static_cast<int64_t>(key_positions.size())) +
                " key positions for " + Str(k.rows()) + " key rows");
  }
}

// Causal, and within the sliding window when there is one.
bool Visible(int64_t query_pos, int64_t key_pos, const std::optional<int64_t>& window) {
  return key_pos <= query_pos && (!window || query_pos - key_pos < *window);
}

// A score times the scaling, soft-capped (in float32) when the spec has a cap.
float Scaled(float score, const AttentionKernelSpec& spec) {
  const float scaled = score * spec.scaling;
  return spec.softcap ? *spec.softcap * std::tanh(scaled / *spec.softcap) : scaled;
}

// The softmax's arithmetic: a no-op in float32, round to nearest even in the activation dtype
// when the spec says so.
float SoftmaxRound(const AttentionKernelSpec& spec, float x) {
  return spec.softmax_in_activation_dtype ? nn::Round(spec.dtype, x) : x;
}

// One exp of the softmax: of the score less the row's max, or, in a kernel that skips the
// subtraction, of the raw score held in the activation dtype.
float SoftmaxExp(const AttentionKernelSpec& spec, float score, float max) {
  if (!spec.softmax_subtracts_max) return nn::Round(spec.dtype, std::exp(score));
  return SoftmaxRound(spec, std::exp(SoftmaxRound(spec, score - max)));
}

}  // namespace

Matrix DeviceAttention(const Matrix& q, const Matrix& k, const Matrix& v,
                       std::span<const int64_t> query_positions,
                       std::span<const int64_t> key_positions, const AttentionKernelSpec& spec) {
  CheckInputs("DeviceAttention", q, k, v, query_positions, key_positions, spec);
  const int64_t d = spec.head_dim;
  const int64_t group = spec.num_heads / spec.num_kv_heads;
  Matrix out = Matrix::Zero(q.rows(), q.cols());
  std::vector<float> p(static_cast<std::size_t>(k.rows()));
  for (int64_t h = 0; h < spec.num_heads; ++h) {
    const int64_t g = h / group;
    Matrix scores = q.middleCols(h * d, d) * k.middleCols(g * d, d).transpose();
    for (int64_t i = 0; i < q.rows(); ++i) {
      float max = kMinusInf;
      bool any = false;
      for (int64_t j = 0; j < k.rows(); ++j) {
        if (!Visible(query_positions[i], key_positions[j], spec.sliding_window)) continue;
        scores(i, j) = Scaled(scores(i, j), spec);
        max = std::max(max, scores(i, j));
        any = true;
      }
      if (!any) continue;  // no visible key: the row stays zero rather than 0/0
      const bool sink = !spec.sinks.empty();
      if (sink) max = std::max(max, spec.sinks[h]);
      float sum = 0.0f;
      for (int64_t j = 0; j < k.rows(); ++j) {
        if (!Visible(query_positions[i], key_positions[j], spec.sliding_window)) continue;
        p[j] = SoftmaxExp(spec, scores(i, j), max);
        sum = SoftmaxRound(spec, sum + p[j]);
      }
      // The sink's column: in the sum, with no value row.
      if (sink) sum = SoftmaxRound(spec, sum + SoftmaxExp(spec, spec.sinks[h], max));
      RowVector acc = RowVector::Zero(d);
      for (int64_t j = 0; j < k.rows(); ++j) {
        if (!Visible(query_positions[i], key_positions[j], spec.sliding_window)) continue;
        // Materialized probabilities are stored in the activation dtype before the value matmul.
        const float prob = nn::Round(spec.dtype, p[j] / sum);
        acc += prob * v.row(j).segment(g * d, d);
      }
      for (int64_t c = 0; c < d; ++c) out(i, h * d + c) = nn::Round(spec.dtype, acc(c));
    }
  }
  return out;
}

Matrix FlashAttention(const Matrix& q, const Matrix& k, const Matrix& v,
                      std::span<const int64_t> query_positions,
                      std::span<const int64_t> key_positions, const AttentionKernelSpec& spec,
                      int64_t block) {
  CheckInputs("FlashAttention", q, k, v, query_positions, key_positions, spec);
  if (block < 1) throw Error("FlashAttention: block " + Str(block) + " is not positive");
  const int64_t d = spec.head_dim;
  const int64_t group = spec.num_heads / spec.num_kv_heads;
  const bool subtracts = spec.softmax_subtracts_max;
  Matrix out = Matrix::Zero(q.rows(), q.cols());
  for (int64_t h = 0; h < spec.num_heads; ++h) {
    const int64_t g = h / group;
    // Per query row: running max m, running sum l, unnormalized output acc.
    // A sink starts each row as a key of score sink and value zero: m = sink, l = exp(0) = 1.
    // A kernel that subtracts no max keeps m at 0 (so alpha = 1): l starts at exp(sink).
    const bool sink = !spec.sinks.empty();
    const float m0 = !subtracts ? 0.0f : sink ? spec.sinks[h] : kMinusInf;
    const float l0 = !sink ? 0.0f : subtracts ? 1.0f : SoftmaxExp(spec, spec.sinks[h], 0.0f);
    std::vector<float> m(static_cast<std::size_t>(q.rows()), m0);
    std::vector<float> l(static_cast<std::size_t>(q.rows()), l0);
    Matrix acc = Matrix::Zero(q.rows(), d);
    for (int64_t b0 = 0; b0 < k.rows(); b0 += block) {
      const int64_t len = std::min(block, k.rows() - b0);
      Matrix s = q.middleCols(h * d, d) * k.block(b0, g * d, len, d).transpose();
      for (int64_t i = 0; i < q.rows(); ++i) {
        const auto visible = [&](int64_t j) {
          return Visible(query_positions[i], key_positions[b0 + j], spec.sliding_window);
        };
        float block_max = kMinusInf;
        bool any = false;
        for (int64_t j = 0; j < len; ++j) {
          if (!visible(j)) continue;
          s(i, j) = Scaled(s(i, j), spec);
          block_max = std::max(block_max, s(i, j));
          any = true;
        }
        if (!any) continue;
        const float m_new = subtracts ? std::max(m[i], block_max) : 0.0f;
        float block_sum = 0.0f;
        RowVector block_acc = RowVector::Zero(d);
        for (int64_t j = 0; j < len; ++j) {
          if (!visible(j)) continue;
          // Kept on chip in float32: not rounded before the value matmul.
          const float e = SoftmaxExp(spec, s(i, j), m_new);
          block_sum = SoftmaxRound(spec, block_sum + e);
          block_acc += e * v.row(b0 + j).segment(g * d, d);
        }
        // exp(-inf) = 0 on the first visible block, when l and acc are still zero.
        const float alpha = std::exp(m[i] - m_new);
        l[i] = SoftmaxRound(spec, alpha * l[i] + block_sum);
        acc.row(i) = alpha * acc.row(i) + block_acc;
        m[i] = m_new;
      }
    }
    for (int64_t i = 0; i < q.rows(); ++i) {
      if (l[i] == 0.0f) continue;  // no visible key
      for (int64_t c = 0; c < d; ++c) out(i, h * d + c) = nn::Round(spec.dtype, acc(i, c) / l[i]);
    }
  }
  return out;
}

}  // namespace equiv::device
