// The NxD-like port's kernels on the simulated device, as a correct port runs them (the
// defaults of nxd_steps.h): fused-or-plain RMSNorm, the attention kernel, rotary with
// rotate_half, the tensor-parallel gated MLP, and the fused QKV packing.
#ifndef EQUIV_LIBEQUIV_PORTS_NXD_NXD_KERNELS_H_
#define EQUIV_LIBEQUIV_PORTS_NXD_NXD_KERNELS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "libequiv/config/model_config.h"
#include "libequiv/device/flash_attention.h"
#include "libequiv/device/parallel_layers.h"
#include "libequiv/nn/gpt_oss_moe.h"
#include "libequiv/nn/linear.h"
#include "libequiv/nn/rotary.h"
#include "libequiv/ports/nxd/nxd_steps.h"

namespace equiv::nxd {

using nn::Matrix;
using nn::Vector;

// One layer's MLP as the port holds it: column-parallel gate and up, row-parallel down, and
// the bf16 down weight whole (for a kernel that keeps everything in float32).
struct MlpShards {
  std::optional<device::ColumnParallelLinear> gate, up;
  std::optional<device::RowParallelLinear> down;
  nn::LinearWeights down_full;
};

// Every kernel below rounds to `dtype`, the device's activation dtype (bf16 or fp16);
// DefaultSteps(dtype) binds them to it.

// RMSNorm with float32 statistics: each row scaled by 1 / sqrt(mean(x^2) + eps), then by the
// weight; the normalized value rounded to `dtype` first unless fused (one rounding).
Matrix RmsNormKernel(const Matrix& x, const Vector& weight, float eps, bool fused,
                     nn::Precision dtype);
// RmsNormKernel bound to `dtype`: a NormKernel.
NormKernel RmsNormIn(nn::Precision dtype);
// The scaling part of RMSNorm with a given per-row 1/rms: what every norm kernel shares.
Matrix ScaleRows(const Matrix& x, const Vector& weight, bool fused, nn::Precision dtype,
                 const std::function<float(Eigen::Index row)>& inv_rms);

// [q; k; v] rows (or biases), the fused QKV weight of one rank.
Matrix StackQkv(const Matrix& q, const Matrix& k, const Matrix& v);
Vector StackQkvBias(const Vector& q, const Vector& k, const Vector& v);

// HF's rotate_half rotary, each op rounded to `dtype`.
Matrix RotaryHalves(const Matrix& x, int64_t head_dim, const nn::RotaryTables& tables,
                    nn::Precision dtype);

// DeviceAttention, or FlashAttention over blocks of `flash_block` keys when it is > 0.
Matrix AttentionKernel(const Matrix& q, const Matrix& k, const Matrix& v,
                       std::span<const int64_t> query_positions,
                       std::span<const int64_t> key_positions,
                       const device::AttentionKernelSpec& spec, int64_t flash_block);

// act(gate) * up per rank in `dtype`, then the row-parallel down projection.
Matrix GatedMlpKernel(const MlpShards& mlp, const Matrix& x, HiddenAct act, nn::Precision dtype);

// GPT-OSS's expert: gate and up column-parallel (biases added in the projection), per rank in
// `dtype` gate = min(gate, limit), up = clamp(up, -limit, limit), (up + 1) * gate *
// sigmoid(alpha * gate), then the row-parallel down projection with its bias.
Matrix ClampedSwigluKernel(const MlpShards& mlp, const Matrix& x, const nn::SwigluClamp& clamp,
                           nn::Precision dtype);

// Qwen2-MoE's shared-expert gate: sigmoid of each logit in float32, rounded to `dtype`.
Matrix SigmoidGateKernel(const Matrix& logits, nn::Precision dtype);

}  // namespace equiv::nxd

#endif  // EQUIV_LIBEQUIV_PORTS_NXD_NXD_KERNELS_H_
