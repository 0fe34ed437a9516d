// The steps of the built-in NxD-like port that a porting bug can replace: how it reads
// config.json, its state-dict conversion, and its kernels. The port runs whatever these hold;
// a catalog fault (nxd_faults.h) is a replacement of one step, so the numerics carry no fault
// switches.
#ifndef EQUIV_LIBEQUIV_PORTS_NXD_NXD_STEPS_H_
#define EQUIV_LIBEQUIV_PORTS_NXD_NXD_STEPS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/device/flash_attention.h"
#include "libequiv/models/regime.h"
#include "libequiv/nn/gpt_oss_moe.h"
#include "libequiv/nn/moe.h"
#include "libequiv/nn/numerics.h"
#include "libequiv/nn/rotary.h"

namespace equiv::nxd {

using nn::Matrix;
using nn::Vector;

// The RMSNorm kernel: x [rows, features], a weight in the activation dtype; fused keeps the
// normalized value in float32 (one rounding).
using NormKernel =
    std::function<Matrix(const Matrix& x, const Vector& weight, float eps, bool fused)>;
// One rank's fused QKV weight rows (or bias) from its q, k and v parts.
using QkvPacking = std::function<Matrix(const Matrix& q, const Matrix& k, const Matrix& v)>;
using QkvBiasPacking = std::function<Vector(const Vector& q, const Vector& k, const Vector& v)>;
// Rotary on x [positions, heads * head_dim] with cos/sin tables in the activation dtype.
using RotaryKernel =
    std::function<Matrix(const Matrix& x, int64_t head_dim, const nn::RotaryTables& tables)>;
// The port's attention on one rank: q, k, v of its heads, the query and key positions.
using AttentionFn = std::function<Matrix(
    const Matrix& q, const Matrix& k, const Matrix& v, std::span<const int64_t> query_positions,
    std::span<const int64_t> key_positions, const device::AttentionKernelSpec& spec,
    int64_t flash_block)>;
// The gated MLP on one layer's sharded weights (see nxd_kernels.h for the correct one).
struct MlpShards;
using MlpKernel = std::function<Matrix(const MlpShards& mlp, const Matrix& x, HiddenAct act)>;
// GPT-OSS's expert on one expert's sharded weights (biases in the shards), clamped SwiGLU.
using ClampedExpertKernel =
    std::function<Matrix(const MlpShards& mlp, const Matrix& x, const nn::SwigluClamp& clamp)>;

struct NxdSteps {
  // The device's activation dtype (DeviceConfig::activation_dtype) the kernels round to:
  // DefaultSteps(dtype) binds them to it, and a fault that replaces a kernel reads it here. The
  // port checks it against its device.
  nn::Precision dtype = nn::Precision::kBf16;

  // How the port reads config.json: the fields it uses, as it understands them.
  std::function<void(ModelConfig&)> read_config = [](ModelConfig&) {};

  // State-dict conversion.
  // How it dequantizes a parameter a weight-only regime hands over packed (PortContext::packed):
  // as the format defines (DequantizePacked); the conversion then rounds it to the activation
  // dtype as every weight.
  std::function<Tensor(std::string_view name, const PackedWeight& packed)> dequantize =
      [](std::string_view name, const PackedWeight& packed) {
        return DequantizePacked(name, packed);
      };
  QkvPacking pack_qkv;
  QkvBiasPacking pack_qkv_bias;
  bool load_qkv_bias = true;
  // The lm_head the conversion loads: the checkpoint's head (the embedding table when tied).
  std::function<Matrix(const Matrix& loaded, const ModelConfig& config)> lm_head =
      [](const Matrix& loaded, const ModelConfig&) { return loaded; };

  // Kernels.
  NormKernel norm;
  // The rotary frequencies after the port computed them (float32, as HF keeps them).
  std::function<void(std::vector<float>& inv_freq)> rotary_frequencies = [](std::vector<float>&) {};
  RotaryKernel rotary;
  // The attention spec the port builds for a layer, before the kernel runs.
  std::function<void(device::AttentionKernelSpec& spec)> attention_spec =
      [](device::AttentionKernelSpec&) {};
  // The key and value heads a rank's query heads read (GQA): by default the kernel repeats
  // them as repeat_kv does; a replacement may expand them itself.
  std::function<void(Matrix& k, Matrix& v, device::AttentionKernelSpec& spec)> expand_kv =
      [](Matrix&, Matrix&, device::AttentionKernelSpec&) {};
  // The query positions the causal mask compares keys against.
  std::function<void(std::vector<int64_t>& query_positions)> mask_positions =
      [](std::vector<int64_t>&) {};
  AttentionFn attention;
  // Per-head q/k norms (models that have them): the kernel on one row per head, run on the
  // projected heads before rotary.
  NormKernel head_norm;
  bool qk_norm_after_rotary = false;
  std::function<HiddenAct(HiddenAct)> activation = [](HiddenAct act) { return act; };
  MlpKernel mlp;
  // Mixture of experts (nxd_moe_port.h). The router's logits to top-k ids and weights: HF's
  // float32 softmax, top-k, renormalization when the rule says, one cast to the activation
  // dtype.
  std::function<nn::Routing(const Matrix& logits, const nn::RoutingRule& rule)> route;
  // The HF expert whose weights the state-dict conversion loads into the port's expert `slot`.
  std::function<int64_t(int64_t slot, int64_t experts)> expert_source = [](int64_t slot, int64_t) {
    return slot;
  };
  // How the conversion loads one HF expert's gate, up and down weights (as they are).
  std::function<void(nn::MlpWeights& expert)> convert_expert = [](nn::MlpWeights&) {};
  // How the conversion loads a router's weight and bias (as they are).
  std::function<void(nn::LinearWeights& router)> convert_router = [](nn::LinearWeights&) {};
  // GPT-OSS's experts (a config with swiglu_limit > 0), and how the combine adds a token's
  // weighted expert outputs: in float32 with one rounding (GPT-OSS's sum over experts) or with
  // a rounding per add to the activation dtype (index_add_, the other MoE families).
  ClampedExpertKernel clamped_expert;
  bool combine_in_float32 = false;
  // Qwen2-MoE's shared expert: the factor its output is multiplied by, from the gate's logits
  // [n, 1] (HF: F.sigmoid, rounded to the activation dtype).
  std::function<Matrix(const Matrix& gate_logits)> shared_expert_gate;
  // Tokens over an expert's capacity: served in further rounds (false, what HF computes) or
  // dropped; the capacity (percent of tokens * top_k / experts) used when the device sets none
  // (0: unbounded).
  bool drop_over_capacity = false;
  int64_t default_capacity_percent = 0;
  bool capacity_counts_top_k = true;  // tokens * top_k assignments, not tokens, share the experts
  // The combine's blocks as a rank receives them, one per EP rank in rank order, before it
  // reads them back in its dispatch order.
  std::function<void(std::vector<Matrix>& blocks)> combine_blocks = [](std::vector<Matrix>&) {};
  // Token generation: the position the new token is rotated at.
  std::function<int64_t(int64_t position)> token_rotary_position = [](int64_t p) { return p; };

  // The model forward around the modules (Gemma's; llama-like models have neither).
  // The factor the graphs multiply the embeddings by, held in the activation dtype (each
  // product rounded);
  // none: the embeddings as they are.
  std::function<std::optional<float>(int64_t hidden_size)> embed_scale = [](int64_t) {
    return std::optional<float>();
  };
  // What the graphs do to the logits after lm_head (the final soft-cap).
  std::function<void(Matrix& logits, const ModelConfig& config)> final_logits =
      [](Matrix&, const ModelConfig&) {};
};

// Makes `step` do what it did, then `more`: a fault that adjusts what a step reads or gives
// (AndThen(s.read_config, [](ModelConfig& c) { ... })).
template <typename T, typename F>
void AndThen(std::function<void(T&)>& step, F more) {
  step = [before = std::move(step), more = std::move(more)](T& value) {
    before(value);
    more(value);
  };
}

// The correct steps of a device that computes in `dtype` (bf16 or fp16).
NxdSteps DefaultSteps(nn::Precision dtype);

}  // namespace equiv::nxd

#endif  // EQUIV_LIBEQUIV_PORTS_NXD_NXD_STEPS_H_
