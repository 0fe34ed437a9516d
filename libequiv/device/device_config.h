// The simulated accelerator's settings (DESIGN.md, "The simulated device"). Every setting here
// is a legitimate way to run a correct port; bugs are faults (models/fault.h), not settings.
//
//   DeviceConfig device{.tp_degree = 8, .sequence_buckets = {32, 128}};
//   device.Validate(config);  // throws naming the setting that the model's shapes forbid
#ifndef EQUIV_LIBEQUIV_DEVICE_DEVICE_CONFIG_H_
#define EQUIV_LIBEQUIV_DEVICE_DEVICE_CONFIG_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/nn/numerics.h"

namespace equiv::device {

// How a matmul accumulates its reduction: in float32 throughout, or per K-tile in float32 with
// each tile's partial rounded to the activation dtype (bf16 unless the device computes in fp16)
// and the partials summed in that dtype in tile order.
enum class Accumulation { kF32, kBf16PerKTile };

// The dtype an all-reduce adds partials in: kBf16 the device's activation dtype (bf16, or fp16
// on a device that computes in fp16), kF32 float32; the result is stored in the activation
// dtype either way.
enum class CollectiveDtype { kBf16, kF32 };

struct DeviceConfig {
  int64_t tp_degree = 1;  // 1..32; column/row-parallel layers split across this many ranks
  Accumulation accumulation = Accumulation::kF32;
  int64_t k_tile = 128;  // the K-tile of kBf16PerKTile
  CollectiveDtype collective_dtype = CollectiveDtype::kBf16;
  // Context encoding pads the prompt to the smallest bucket >= its length; empty: no padding.
  // The `= {}` lets designated initializers omit it under -Wmissing-field-initializers.
  std::vector<int64_t> sequence_buckets = {};
  bool fused_rmsnorm = false;         // float32 inside, one rounding at the end
  int64_t flash_attention_block = 0;  // > 0: blockwise attention with online softmax
  bool fused_qkv = true;              // one qkv_proj instead of q/k/v_proj
  // Expert parallelism (mixture-of-experts models): the tp_degree ranks form ep_degree groups
  // of tp_degree / ep_degree ranks; each group holds num_experts / ep_degree experts,
  // tensor-parallel within the group. Tokens travel to their experts and back by all-to-all.
  int64_t ep_degree = 1;
  // > 0: each expert's static token buffer holds ceil(percent / 100 * tokens * top_k /
  // num_experts) tokens per dispatch round, as device kernels allocate it; 0: one round.
  int64_t expert_capacity_percent = 0;
  // The dtype the device computes and stores activations in, as a model compiled for one
  // torch_dtype: bf16, or fp16 (IEEE half). Every rounding of the device and of the built-in
  // port's kernels (matmul outputs, collectives, attention, KV cache, norms, the residual
  // adds) is to this dtype; weights are held in it too. The suite sets it from the precision
  // regime (RegimeDevice, models/port.h).
  nn::Precision activation_dtype = nn::Precision::kBf16;

  // A readable parameter name: "tp1", "tp8_f32cc_bucket32-128_fusednorm_flash16",
  // "tp4_ep2_cap100", "tp2_fp16". Only non-default settings appear after tpN; k_tile only with
  // kBf16PerKTile ("tp4_bf16acc128"); the activation dtype only when it is not bf16.
  std::string Name() const;

  // Throws equiv::Error naming the setting and the model dimension it does not fit (tp_degree
  // must divide the heads, the kv heads or be a multiple of them, intermediate_size and vocab;
  // ep_degree must divide tp_degree and num_experts, and tp_degree / ep_degree the experts'
  // sizes), or the setting that is out of range (k_tile, flash_attention_block,
  // sequence_buckets, expert_capacity_percent, an activation_dtype other than bf16 or fp16).
  void Validate(const ModelConfig& config) const;

  bool operator==(const DeviceConfig&) const = default;
};

void PrintTo(const DeviceConfig& device, std::ostream* os);

// The inverse of Name(): "tp8_f32cc_bucket32-128" gives that DeviceConfig. Throws equiv::Error
// naming the part of the name it does not understand.
DeviceConfig DeviceConfigFromName(std::string_view name);

// The TP degrees in [1, 32] that the model's shapes allow.
std::vector<int64_t> AllowedTpDegrees(const ModelConfig& config);

}  // namespace equiv::device

#endif  // EQUIV_LIBEQUIV_DEVICE_DEVICE_CONFIG_H_
