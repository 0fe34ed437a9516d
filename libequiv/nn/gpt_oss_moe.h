// GPT-OSS's mixture of experts as HF's modeling_gpt_oss.py computes it (transformers 4.55-4.5x,
// GptOssMLP in eval mode): the router (GptOssTopKRouter: a biased linear, top-k of the logits,
// softmax over those k, nn::Route with softmax_after_topk) and GptOssExperts, whose fused
// gate_up_proj has interleaved columns (gate = [..., ::2], up = [..., 1::2]) and whose SwiGLU is
// clamped. The families hold each expert as an MlpWeights de-interleaved by the state-dict
// reader (gate_proj = gate_up_proj[e][:, ::2]^T with its bias, ...): the same columns, so the
// same numbers.
//
//   Matrix y = GptOssMoe(x, moe, RoutingRuleOf(config), SwigluClampOf(config), Precision::kBf16);
#ifndef EQUIV_LIBEQUIV_NN_GPT_OSS_MOE_H_
#define EQUIV_LIBEQUIV_NN_GPT_OSS_MOE_H_

#include "libequiv/config/model_config.h"
#include "libequiv/nn/moe.h"

namespace equiv::nn {

// The clamped SwiGLU's constants (GptOssExperts.alpha and .limit).
struct SwigluClamp {
  float alpha = 1.702f;
  float limit = 7.0f;
};
SwigluClamp SwigluClampOf(const ModelConfig& config);

// One expert on x [n, hidden]: gate_up = x @ W + b (matmul, then bias add: two roundings);
// gate = min(gate, limit); up = clamp(up, -limit, limit); glu = gate * sigmoid(gate * alpha);
// out = ((up + 1) * glu) @ W_down + b_down. Every op rounded to the precision (the products by
// a Python float and the sigmoid compute in float32 and round once, as PyTorch 2.x does).
Matrix ClampedSwigluExpert(const Matrix& x, const MlpWeights& expert, const SwigluClamp& clamp,
                           Precision precision);

// Every expert on every token, side by side: [n, experts x hidden], expert e in columns
// [e * hidden, (e + 1) * hidden), unweighted (what `mlp.experts` computes before the routing
// weights enter).
Matrix EveryClampedExpert(const Matrix& x, const MoeWeights& moe, const SwigluClamp& clamp,
                          Precision precision);

// The block's output [n, hidden] (GptOssMLP): the router's logits (with bias), Route, each
// expert's output times its routing weight (rounded), summed over the experts in ascending
// order in float32 and rounded once (next_states.sum(dim=0)). Unselected experts weigh 0 and
// add nothing.
Matrix GptOssMoe(const Matrix& x, const MoeWeights& moe, const RoutingRule& rule,
                 const SwigluClamp& clamp, Precision precision);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_GPT_OSS_MOE_H_
