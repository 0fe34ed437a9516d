#include "libequiv/nn/gpt_oss_moe.h"

#include <algorithm>
#include <cmath>

namespace equiv::nn {

SwigluClamp SwigluClampOf(const ModelConfig& config) {
  return {static_cast<float>(config.moe.swiglu_alpha), static_cast<float>(config.moe.swiglu_limit)};
}

Matrix ClampedSwigluExpert(const Matrix& x, const MlpWeights& expert, const SwigluClamp& clamp,
                           Precision precision) {
  const Matrix gate = LinearThenBias(x, expert.gate_proj, precision);
  const Matrix up = LinearThenBias(x, expert.up_proj, precision);
  Matrix h(gate.rows(), gate.cols());
  for (Eigen::Index i = 0; i < gate.size(); ++i) {
    const float g = std::min(gate.data()[i], clamp.limit);                // clamp(max=limit)
    const float u = std::clamp(up.data()[i], -clamp.limit, clamp.limit);  // clamp(-limit, limit)
    const float scaled = Round(precision, g * clamp.alpha);               // gate * alpha
    const float sig = Round(precision, 1.0f / (1.0f + std::exp(-scaled)));
    const float glu = Round(precision, g * sig);
    const float up1 = Round(precision, u + 1.0f);
    h.data()[i] = Round(precision, up1 * glu);
  }
  return LinearThenBias(h, expert.down_proj, precision);
}

Matrix EveryClampedExpert(const Matrix& x, const MoeWeights& moe, const SwigluClamp& clamp,
                          Precision precision) {
  Matrix out(x.rows(), x.cols() * static_cast<Eigen::Index>(moe.experts.size()));
  for (std::size_t e = 0; e < moe.experts.size(); ++e) {
    out.middleCols(static_cast<Eigen::Index>(e) * x.cols(), x.cols()) =
        ClampedSwigluExpert(x, moe.experts[e], clamp, precision);
  }
  return out;
}

Matrix GptOssMoe(const Matrix& x, const MoeWeights& moe, const RoutingRule& rule,
                 const SwigluClamp& clamp, Precision precision) {
  const Routing routing = Route(Linear(x, moe.gate, precision), rule, precision);
  Matrix sum = Matrix::Zero(x.rows(), x.cols());  // float32 accumulator
  for (std::size_t e = 0; e < moe.experts.size(); ++e) {
    std::vector<int64_t> tokens;
    std::vector<float> weights;
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
      for (int64_t s = 0; s < routing.top_k; ++s) {
        if (routing.Expert(t, s) != static_cast<int64_t>(e)) continue;
        tokens.push_back(t);
        weights.push_back(routing.weights(t, s));
      }
    }
    if (tokens.empty()) continue;
    Matrix rows(static_cast<Eigen::Index>(tokens.size()), x.cols());
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      rows.row(static_cast<Eigen::Index>(i)) = x.row(tokens[i]);
    }
    const Matrix y = ClampedSwigluExpert(rows, moe.experts[e], clamp, precision);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      for (Eigen::Index c = 0; c < y.cols(); ++c) {
        sum(tokens[i], c) += Round(precision, y(static_cast<Eigen::Index>(i), c) * weights[i]);
      }
    }
  }
  return Rounded(precision, sum);
}

}  // namespace equiv::nn
