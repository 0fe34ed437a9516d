#include "libequiv/nn/rms_norm.h"

#include <cmath>
#include <string>

#include "libequiv/tensor/error.h"

namespace equiv::nn {
namespace {

void CheckWidth(const char* name, const Matrix& x, const Vector& weight) {
  if (x.cols() != weight.size()) {
    throw Error(std::string(name) + ": input has " + std::to_string(x.cols()) +
                " features, the weight " + std::to_string(weight.size()));
  }
}

// 1 / sqrt(mean(x_r^2) + eps) of row r: variance = hidden_states.pow(2).mean(-1) in float32,
// as HF upcasts.
float InverseRms(const Matrix& x, Eigen::Index r, float eps) {
  float sum = 0.0f;
  for (Eigen::Index c = 0; c < x.cols(); ++c) sum += x(r, c) * x(r, c);
  const float variance = sum / static_cast<float>(x.cols());
  return 1.0f / std::sqrt(variance + eps);
}

// `norm` over each head of x [n, heads * head_dim], weight [head_dim].
template <typename Norm>
Matrix PerHead(const char* name, const Matrix& x, const Vector& weight, Norm norm) {
  const Eigen::Index d = weight.size();
  if (d == 0 || x.cols() % d != 0) {
    throw Error(std::string(name) + ": input has " + std::to_string(x.cols()) +
                " features, not a whole number of heads of " + std::to_string(d));
  }
  // Row-major [n, heads * d] is [n * heads, d]: one row per head.
  const Eigen::Map<const Matrix> heads(x.data(), x.size() / d, d);
  const Matrix out = norm(Matrix(heads));
  return Eigen::Map<const Matrix>(out.data(), x.rows(), x.cols());
}

}  // namespace

Matrix RmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision) {
  CheckWidth("RmsNorm", x, weight);
  Matrix out(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const float inv_rms = InverseRms(x, r, static_cast<float>(eps));
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      const float normed = Round(precision, x(r, c) * inv_rms);  // .to(input_dtype)
      out(r, c) = Round(precision, weight[c] * normed);
    }
  }
  return out;
}

Matrix RmsNormOneRounding(const Matrix& x, const Vector& weight, double eps, Precision precision) {
  CheckWidth("RmsNormOneRounding", x, weight);
  Matrix out(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const float inv_rms = InverseRms(x, r, static_cast<float>(eps));
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      out(r, c) = Round(precision, weight[c] * (x(r, c) * inv_rms));
    }
  }
  return out;
}

Matrix HeadRmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision) {
  return PerHead("HeadRmsNorm", x, weight,
                 [&](const Matrix& rows) { return RmsNorm(rows, weight, eps, precision); });
}

Matrix GemmaRmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision) {
  CheckWidth("GemmaRmsNorm", x, weight);
  Matrix out(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const float inv_rms = InverseRms(x, r, static_cast<float>(eps));
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      // _norm(x.float()) * (1.0 + weight.float()), then type_as(x): one rounding.
      out(r, c) = Round(precision, (x(r, c) * inv_rms) * (1.0f + weight[c]));
    }
  }
  return out;
}

Matrix GemmaHeadRmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision) {
  return PerHead("GemmaHeadRmsNorm", x, weight,
                 [&](const Matrix& rows) { return GemmaRmsNorm(rows, weight, eps, precision); });
}

}  // namespace equiv::nn
