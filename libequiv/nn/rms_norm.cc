#include "libequiv/nn/rms_norm.h"

#include <cmath>
#include <string>

#include "libequiv/tensor/error.h"

namespace equiv::nn {

Matrix RmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision) {
  if (x.cols() != weight.size()) {
    throw Error("RmsNorm: input has " + std::to_string(x.cols()) + " features, the weight " +
                std::to_string(weight.size()));
  }
  Matrix out(x.rows(), x.cols());
  const float eps_f = static_cast<float>(eps);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    // variance = hidden_states.pow(2).mean(-1): float32, as HF upcasts.
    float sum = 0.0f;
    for (Eigen::Index c = 0; c < x.cols(); ++c) sum += x(r, c) * x(r, c);
    const float variance = sum / static_cast<float>(x.cols());
    const float inv_rms = 1.0f / std::sqrt(variance + eps_f);
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      const float normed = Round(precision, x(r, c) * inv_rms);  // .to(input_dtype)
      out(r, c) = Round(precision, weight[c] * normed);
    }
  }
  return out;
}

Matrix HeadRmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision) {
  const Eigen::Index d = weight.size();
  if (d == 0 || x.cols() % d != 0) {
    throw Error("HeadRmsNorm: input has " + std::to_string(x.cols()) +
                " features, not a whole number of heads of " + std::to_string(d));
  }
  // Row-major [n, heads * d] is [n * heads, d]: one row per head.
  const Eigen::Map<const Matrix> heads(x.data(), x.size() / d, d);
  const Matrix out = RmsNorm(Matrix(heads), weight, eps, precision);
  return Eigen::Map<const Matrix>(out.data(), x.rows(), x.cols());
}

}  // namespace equiv::nn
