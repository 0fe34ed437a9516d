// The gpt_oss family's port steps and faults: the built-in port's correct steps for GPT-OSS, and
// GPT-OSS's own porting bugs, each a replacement of one step (ports/nxd/nxd_steps.h) with the
// component it lives in, the tiny config that shows it and the band measured for it
// (detection_matrix --family gpt_oss).
#include <cmath>
#include <limits>
#include <utility>

#include "libequiv/families/gpt_oss/gpt_oss_family.h"
#include "libequiv/nn/rms_norm.h"
#include "libequiv/ports/nxd/nxd_kernels.h"

namespace equiv {
namespace {

using enum Band;
using nxd::AndThen;
using nxd::NxdSteps;
using Spec = device::AttentionKernelSpec;
constexpr Visibility kComp = Visibility::kComponent;

// GptOssRMSNorm on the device: float32 inside, one rounding to the activation dtype, fused or
// not.
nxd::NormKernel GptOssNormKernel(nn::Precision dtype) {
  return [dtype](const nxd::Matrix& x, const nxd::Vector& weight, float eps, bool /*fused*/) {
    return nn::RmsNormOneRounding(x, weight, eps, dtype);
  };
}

// The fused gate_up_proj as HF stores it (row 2j gate j, row 2j + 1 up j, as nn::Linear rows)
// read back as halves: gate = rows [0, I), up = rows [I, 2I).
void SplitAsHalves(nn::MlpWeights& e) {
  const Eigen::Index inter = e.gate_proj.weight.rows();
  nn::Matrix fused(2 * inter, e.gate_proj.weight.cols());
  nn::Vector bias(2 * inter);
  for (Eigen::Index j = 0; j < inter; ++j) {
    fused.row(2 * j) = e.gate_proj.weight.row(j);
    fused.row(2 * j + 1) = e.up_proj.weight.row(j);
    bias(2 * j) = e.gate_proj.bias(j);
    bias(2 * j + 1) = e.up_proj.bias(j);
  }
  e.gate_proj.weight = fused.topRows(inter);
  e.up_proj.weight = fused.bottomRows(inter);
  e.gate_proj.bias = bias.head(inter);
  e.up_proj.bias = bias.tail(inter);
}

constexpr nxd::NxdFault kFaults[] = {
    {{"sinks_dropped", "attention",
      "the attention sinks left out of the flash-attention kernel: a plain softmax over the keys "
      "(a Llama attention kernel reused)",
      kComp, kMissingAlgorithm, "tiny-gpt-oss"},
     [](NxdSteps& s) { AndThen(s.attention_spec, [](Spec& spec) { spec.sinks.clear(); }); }},
    {{"swiglu_clamp_missing", "experts",
      "swiglu_limit not read: the experts' gate and up projections are not clamped before the "
      "SwiGLU",
      kComp, kWrongComputation, "tiny-gpt-oss"},
     [](NxdSteps& s) {
       AndThen(s.read_config,
               [](ModelConfig& c) { c.moe.swiglu_limit = std::numeric_limits<float>::max(); });
     }},
    {{"router_bias_dropped", "router",
      "the state-dict conversion loads the router's weight and drops its bias (a bias-free "
      "Mixtral router reused)",
      kComp, kMissingAlgorithm, "tiny-gpt-oss"},
     [](NxdSteps& s) { s.convert_router = [](nn::LinearWeights& r) { r.bias = nn::Vector(); }; }},
    {{"softmax_over_all_experts", "moe",
      "Mixtral's routing order: softmax over all experts' logits, then the top-k probabilities "
      "(not renormalized), where GPT-OSS takes the top-k logits and softmaxes those k",
      kComp, kMissingAlgorithm, "tiny-gpt-oss"},
     [](NxdSteps& s) {
       s.route = [dtype = s.dtype](const nxd::Matrix& logits, const nn::RoutingRule& rule) {
         nn::RoutingRule mixtral = rule;
         mixtral.softmax_after_topk = false;
         mixtral.renormalize = false;
         return nn::Route(logits, mixtral, dtype);
       };
     }},
    {{"gate_up_deinterleaved", "experts",
      "the conversion splits the fused gate_up_proj into halves (gate = first I columns, up = "
      "the rest) where HF interleaves them (gate = [..., ::2], up = [..., 1::2])",
      kComp, kWrongComputation, "tiny-gpt-oss"},
     [](NxdSteps& s) { s.convert_expert = SplitAsHalves; }},
    {{"yarn_attention_factor_missing", "rotary",
      "YaRN's attention factor (0.1 ln(factor) + 1) not applied to cos and sin: the port "
      "computes YaRN's frequencies only",
      kComp, kMissingAlgorithm, "tiny-gpt-oss"},
     [](NxdSteps& s) {
       AndThen(s.read_config, [](ModelConfig& c) { c.rope_scaling.attention_factor = 1.0; });
     }},
};
static_assert(nxd::UniqueFaultNames(kFaults), "two gpt_oss faults share a name");

}  // namespace

nxd::NxdSteps GptOssSteps(nn::Precision dtype) {
  NxdSteps steps = nxd::DefaultSteps(dtype);
  steps.norm = GptOssNormKernel(dtype);
  steps.combine_in_float32 = true;
  return steps;
}

std::span<const nxd::NxdFault> GptOssPortFaults() { return kFaults; }

}  // namespace equiv
