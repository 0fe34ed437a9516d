#include "libequiv/nn/moe.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "libequiv/tensor/error.h"

namespace equiv::nn {
namespace {

// The rows of x at `rows`, in that order.
Matrix Gather(const Matrix& x, const std::vector<int64_t>& rows) {
  Matrix out(static_cast<Eigen::Index>(rows.size()), x.cols());
  for (std::size_t i = 0; i < rows.size(); ++i)
    out.row(static_cast<Eigen::Index>(i)) = x.row(rows[i]);
  return out;
}

}  // namespace

void MoeWeights::Pack(Precision precision) {
  gate.Pack(precision);
  for (MlpWeights& e : experts) e.Pack(precision);
  if (has_shared_expert()) {
    shared_expert.Pack(precision);
    shared_expert_gate.Pack(precision);
  }
}

MoeWeights MoeWeights::Rounded(Precision precision) const {
  MoeWeights out{gate.Rounded(precision),
                 {},
                 shared_expert.Rounded(precision),
                 shared_expert_gate.Rounded(precision)};
  out.experts.reserve(experts.size());
  for (const MlpWeights& e : experts) out.experts.push_back(e.Rounded(precision));
  return out;
}

RoutingRule RoutingRuleOf(const ModelConfig& config) {
  return {config.moe.num_experts_per_tok, config.moe.norm_topk_prob, config.moe.softmax_after_topk};
}

Routing Route(const Matrix& logits, const RoutingRule& rule, Precision precision) {
  const int64_t experts = logits.cols();
  if (rule.top_k < 1 || rule.top_k > experts) {
    throw Error("Route: top_k " + std::to_string(rule.top_k) + " is outside [1, " +
                std::to_string(experts) + "] experts");
  }
  Routing r;
  r.top_k = rule.top_k;
  r.experts.resize(static_cast<std::size_t>(logits.rows() * rule.top_k));
  r.weights.resize(logits.rows(), rule.top_k);
  std::vector<float> probs(static_cast<std::size_t>(experts));
  std::vector<int64_t> order(static_cast<std::size_t>(experts));
  for (Eigen::Index t = 0; t < logits.rows() && rule.softmax_after_topk; ++t) {
    // topk of the logits (ties: the lower index), then softmax over the k values only.
    std::iota(order.begin(), order.end(), int64_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return logits(t, a) > logits(t, b); });
    const float max = logits(t, order[0]);
    float sum = 0.0f;
    for (int64_t s = 0; s < rule.top_k; ++s) {
      probs[s] = std::exp(logits(t, order[s]) - max);
      sum += probs[s];
    }
    const float inverse = 1.0f / sum;
    for (int64_t s = 0; s < rule.top_k; ++s) {
      r.experts[t * rule.top_k + s] = order[s];
      r.weights(t, s) = Round(precision, probs[s] * inverse);
    }
  }
  for (Eigen::Index t = 0; t < logits.rows() && !rule.softmax_after_topk; ++t) {
    // softmax(dtype=float32): the logits (bf16 values in a bf16 run) upcast, no rounding.
    float max = logits(t, 0);
    for (int64_t e = 1; e < experts; ++e) max = std::max(max, logits(t, e));
    float sum = 0.0f;
    for (int64_t e = 0; e < experts; ++e) {
      probs[e] = std::exp(logits(t, e) - max);
      sum += probs[e];
    }
    const float inverse = 1.0f / sum;  // torch's softmax kernel scales by the reciprocal
    for (float& p : probs) p *= inverse;
    std::iota(order.begin(), order.end(), int64_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return probs[a] > probs[b]; });
    float top_sum = 0.0f;
    for (int64_t s = 0; s < rule.top_k; ++s) top_sum += probs[order[s]];
    for (int64_t s = 0; s < rule.top_k; ++s) {
      r.experts[t * rule.top_k + s] = order[s];
      const float w = rule.renormalize ? probs[order[s]] / top_sum : probs[order[s]];
      r.weights(t, s) = Round(precision, w);  // .to(hidden_states.dtype)
    }
  }
  return r;
}

Matrix GatedSharedExpert(const Matrix& x, const MoeWeights& moe, HiddenAct act,
                         Precision precision) {
  const Matrix shared = GatedMlp(x, moe.shared_expert, act, precision);
  Matrix gate = Linear(x, moe.shared_expert_gate, precision);  // [n, 1]
  for (Eigen::Index t = 0; t < gate.rows(); ++t) {
    gate(t, 0) = Round(precision, 1.0f / (1.0f + std::exp(-gate(t, 0))));  // F.sigmoid
  }
  Matrix out(shared.rows(), shared.cols());
  for (Eigen::Index t = 0; t < out.rows(); ++t) {
    for (Eigen::Index c = 0; c < out.cols(); ++c)
      out(t, c) = Round(precision, gate(t, 0) * shared(t, c));
  }
  return out;
}

Matrix SparseMoe(const Matrix& x, const MoeWeights& moe, const RoutingRule& rule, HiddenAct act,
                 Precision precision) {
  const Routing routing = Route(Linear(x, moe.gate, precision), rule, precision);
  Matrix out = Matrix::Zero(x.rows(), x.cols());
  for (std::size_t e = 0; e < moe.experts.size(); ++e) {
    std::vector<int64_t> tokens;
    std::vector<float> weights;
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
      for (int64_t s = 0; s < rule.top_k; ++s) {
        if (routing.Expert(t, s) != static_cast<int64_t>(e)) continue;
        tokens.push_back(t);
        weights.push_back(routing.weights(t, s));
      }
    }
    if (tokens.empty()) continue;
    const Matrix y = GatedMlp(Gather(x, tokens), moe.experts[e], act, precision);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      for (Eigen::Index c = 0; c < y.cols(); ++c) {
        // expert(x) * weight, rounded; index_add_ into the output, rounded.
        const float weighted = Round(precision, y(static_cast<Eigen::Index>(i), c) * weights[i]);
        out(tokens[i], c) = Round(precision, out(tokens[i], c) + weighted);
      }
    }
  }
  if (moe.has_shared_expert()) {
    out = Rounded(precision, Matrix(out + GatedSharedExpert(x, moe, act, precision)));
  }
  return out;
}

Matrix EveryExpert(const Matrix& x, const MoeWeights& moe, HiddenAct act, Precision precision) {
  Matrix out(x.rows(), x.cols() * static_cast<Eigen::Index>(moe.experts.size()));
  for (std::size_t e = 0; e < moe.experts.size(); ++e) {
    out.middleCols(static_cast<Eigen::Index>(e) * x.cols(), x.cols()) =
        GatedMlp(x, moe.experts[e], act, precision);
  }
  return out;
}

}  // namespace equiv::nn
