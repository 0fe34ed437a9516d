#include "libequiv/ports/nxd/nxd_kernels.h"

#include <cmath>
#include <vector>

#include "libequiv/nn/activation.h"
#include "libequiv/nn/numerics.h"
#include "libequiv/ports/nxd/nxd_steps.h"

namespace equiv::nxd {

Matrix ScaleRows(const Matrix& x, const Vector& weight, bool fused, nn::Precision dtype,
                 const std::function<float(Eigen::Index row)>& inv_rms) {
  Matrix out(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const float scale = inv_rms(r);
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      // The fused kernel keeps the normalized value in float32: one rounding.
      const float normed = fused ? x(r, c) * scale : nn::Round(dtype, x(r, c) * scale);
      out(r, c) = nn::Round(dtype, weight[c] * normed);
    }
  }
  return out;
}

Matrix RmsNormKernel(const Matrix& x, const Vector& weight, float eps, bool fused,
                     nn::Precision dtype) {
  const float n = static_cast<float>(x.cols());
  return ScaleRows(x, weight, fused, dtype, [&](Eigen::Index r) {
    float sum = 0.0f;
    for (Eigen::Index c = 0; c < x.cols(); ++c) sum += x(r, c) * x(r, c);
    return 1.0f / std::sqrt(sum / n + eps);
  });
}

NormKernel RmsNormIn(nn::Precision dtype) {
  return [dtype](const Matrix& x, const Vector& weight, float eps, bool fused) {
    return RmsNormKernel(x, weight, eps, fused, dtype);
  };
}

Matrix StackQkv(const Matrix& q, const Matrix& k, const Matrix& v) {
  Matrix out(q.rows() + k.rows() + v.rows(), q.cols());
  out << q, k, v;
  return out;
}

Vector StackQkvBias(const Vector& q, const Vector& k, const Vector& v) {
  Vector out(q.size() + k.size() + v.size());
  out << q, k, v;
  return out;
}

Matrix RotaryHalves(const Matrix& x, int64_t head_dim, const nn::RotaryTables& tables,
                    nn::Precision dtype) {
  return nn::ApplyRotary(x, head_dim, tables, dtype);
}

Matrix AttentionKernel(const Matrix& q, const Matrix& k, const Matrix& v,
                       std::span<const int64_t> query_positions,
                       std::span<const int64_t> key_positions,
                       const device::AttentionKernelSpec& spec, int64_t flash_block) {
  if (flash_block > 0) {
    return device::FlashAttention(q, k, v, query_positions, key_positions, spec, flash_block);
  }
  return device::DeviceAttention(q, k, v, query_positions, key_positions, spec);
}

Matrix GatedMlpKernel(const MlpShards& mlp, const Matrix& x, HiddenAct act, nn::Precision dtype) {
  const std::vector<Matrix> gate = mlp.gate->ForwardSharded(x);
  const std::vector<Matrix> up = mlp.up->ForwardSharded(x);
  std::vector<Matrix> products;
  for (std::size_t r = 0; r < gate.size(); ++r) {
    const Matrix activated = nn::Activation(act, gate[r], dtype);
    products.push_back(nn::Rounded(dtype, Matrix(activated.cwiseProduct(up[r]))));
  }
  return mlp.down->ForwardSharded(products);
}

Matrix ClampedSwigluKernel(const MlpShards& mlp, const Matrix& x, const nn::SwigluClamp& clamp,
                           nn::Precision dtype) {
  const std::vector<Matrix> gate = mlp.gate->ForwardSharded(x);
  const std::vector<Matrix> up = mlp.up->ForwardSharded(x);
  std::vector<Matrix> products;
  for (std::size_t r = 0; r < gate.size(); ++r) {
    Matrix h(gate[r].rows(), gate[r].cols());
    for (Eigen::Index i = 0; i < h.size(); ++i) {
      const float g = std::min(gate[r].data()[i], clamp.limit);
      const float u = std::clamp(up[r].data()[i], -clamp.limit, clamp.limit);
      const float sig =
          nn::Round(dtype, 1.0f / (1.0f + std::exp(-nn::Round(dtype, g * clamp.alpha))));
      h.data()[i] = nn::Round(dtype, nn::Round(dtype, u + 1.0f) * nn::Round(dtype, g * sig));
    }
    products.push_back(std::move(h));
  }
  return mlp.down->ForwardSharded(products);
}

Matrix SigmoidGateKernel(const Matrix& logits, nn::Precision dtype) {
  Matrix gate(logits.rows(), logits.cols());
  for (Eigen::Index i = 0; i < logits.size(); ++i) {
    gate(i) = nn::Round(dtype, 1.0f / (1.0f + std::exp(-logits(i))));  // F.sigmoid, rounded out
  }
  return gate;
}

NxdSteps DefaultSteps(nn::Precision dtype) {
  NxdSteps steps;
  steps.dtype = dtype;
  steps.pack_qkv = StackQkv;
  steps.pack_qkv_bias = StackQkvBias;
  steps.norm = RmsNormIn(dtype);
  steps.head_norm = RmsNormIn(dtype);
  steps.rotary = [dtype](const Matrix& x, int64_t head_dim, const nn::RotaryTables& tables) {
    return RotaryHalves(x, head_dim, tables, dtype);
  };
  steps.attention = AttentionKernel;
  steps.mlp = [dtype](const MlpShards& mlp, const Matrix& x, HiddenAct act) {
    return GatedMlpKernel(mlp, x, act, dtype);
  };
  steps.route = [dtype](const Matrix& logits, const nn::RoutingRule& rule) {
    return nn::Route(logits, rule, dtype);
  };
  steps.shared_expert_gate = [dtype](const Matrix& logits) {
    return SigmoidGateKernel(logits, dtype);
  };
  steps.clamped_expert = [dtype](const MlpShards& mlp, const Matrix& x,
                                 const nn::SwigluClamp& clamp) {
    return ClampedSwigluKernel(mlp, x, clamp, dtype);
  };
  return steps;
}

}  // namespace equiv::nxd
