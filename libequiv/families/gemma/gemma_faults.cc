// The Gemma families' port steps and faults: the built-in port's correct steps for Gemma, and
// Gemma's own porting bugs, each a replacement of one step (ports/nxd/nxd_steps.h) with the
// component it lives in, the tiny config that shows it and the band measured for it
// (nxd_faults_test, detection_matrix).
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "libequiv/families/gemma/gemma_family.h"
#include "libequiv/nn/attention.h"
#include "libequiv/nn/gemma.h"
#include "libequiv/nn/rms_norm.h"
#include "libequiv/ports/nxd/nxd_kernels.h"

namespace equiv {
namespace {

using enum Band;
using nxd::AndThen;
using nxd::NxdSteps;
using Spec = device::AttentionKernelSpec;
constexpr Visibility kComp = Visibility::kComponent;
// Gemma 2's embed_tokens is the plain lookup and lm_head is not soft-capped (the model's
// forward scales and caps): faults there leave every component green and show end to end.
constexpr Visibility kE2e = Visibility::kEndToEnd;

// Gemma's norm on the device: float32 inside, one rounding to the activation dtype (fused or
// not: HF rounds once too).
nxd::NormKernel GemmaNormKernel(nn::Precision dtype) {
  return [dtype](const nxd::Matrix& x, const nxd::Vector& weight, float eps, bool /*fused*/) {
    return nn::GemmaRmsNorm(x, weight, eps, dtype);
  };
}

constexpr nxd::NxdFault kFaults[] = {
    {{"gemma_norm_without_offset", "input_layernorm",
      "Gemma's RMSNorm applied as x * w, a Llama RMSNorm reused: the checkpoint stores the w "
      "of x * (1 + w)",
      kComp, kWrongComputation, "tiny-gemma2"},
     [](NxdSteps& s) { s.norm = s.head_norm = nxd::RmsNormIn(s.dtype); }},
    {{"embed_scale_missing", "embedding",
      "the embeddings not multiplied by sqrt(hidden_size) (Gemma2Model.forward's normalizer "
      "left out)",
      kE2e, kMissingAlgorithm, "tiny-gemma2"},
     [](NxdSteps& s) { s.embed_scale = [](int64_t) { return std::optional<float>(); }; }},
    {{"attn_softcap_missing", "attention",
      "the attention-logit soft-cap cap * tanh(scores / cap) left out of the attention kernel",
      kComp, kMissingAlgorithm, "tiny-gemma2"},
     [](NxdSteps& s) { AndThen(s.attention_spec, [](Spec& spec) { spec.softcap.reset(); }); }},
    {{"final_softcap_missing", "lm_head",
      "the final-logit soft-cap cap * tanh(logits / cap) not applied after lm_head", kE2e,
      kLikelyBug, "tiny-gemma2"},
     [](NxdSteps& s) { s.final_logits = [](nxd::Matrix&, const ModelConfig&) {}; }},
    {{"sliding_alternation_shifted", "attention",
      "the sliding/global alternation shifted by one layer: layer i attends as HF's layer i + 1 "
      "(global layers slide, sliding layers attend globally)",
      kComp, kWrongComputation, "tiny-gemma2", 128},
     [](NxdSteps& s) {
       AndThen(s.read_config, [](ModelConfig& c) {
         std::vector<LayerAttention> shifted;
         for (std::size_t i = 0; i < c.layer_types.size(); ++i) {
           shifted.push_back(c.layer_types[(i + 1) % c.layer_types.size()]);
         }
         c.layer_types = std::move(shifted);
       });
     }},
    {{"query_pre_attn_scalar_ignored", "attention",
      "attention scores scaled by head_dim^-0.5 instead of query_pre_attn_scalar^-0.5", kComp,
      kMissingAlgorithm, "tiny-gemma2"},
     [](NxdSteps& s) {
       AndThen(s.attention_spec, [](Spec& spec) {
         spec.scaling = static_cast<float>(1.0 / std::sqrt(static_cast<double>(spec.head_dim)));
       });
     }},
    // Gemma 3's own: tiny-gemma3 has a local base (1e4) far from the global one (1e6, linear
    // scaling 8) and per-head q/k norms.
    {{"local_rope_base_ignored", "rotary_local",
      "the sliding layers' rotary built from rope_theta instead of rope_local_base_freq "
      "(rope_local_base_freq not read, as a Gemma 2 config reader would)",
      kComp, kWrongComputation, "tiny-gemma3"},
     [](NxdSteps& s) {
       AndThen(s.read_config, [](ModelConfig& c) {
         if (c.rope_local_base_freq) c.rope_local_base_freq = c.rope_theta;
       });
     }},
    {{"qk_norm_without_offset", "q_norm",
      "Gemma 3's q/k norms applied as x * w, Qwen 3's per-head RMSNorm reused: the checkpoint "
      "stores the w of x * (1 + w)",
      kComp, kWrongComputation, "tiny-gemma3"},
     [](NxdSteps& s) { s.head_norm = nxd::RmsNormIn(s.dtype); }},
};
static_assert(nxd::UniqueFaultNames(kFaults), "two gemma faults share a name");

}  // namespace

NxdSteps GemmaSteps(nn::Precision dtype) {
  NxdSteps steps = nxd::DefaultSteps(dtype);
  steps.norm = steps.head_norm = GemmaNormKernel(dtype);
  steps.embed_scale = [dtype](int64_t hidden) {
    return std::optional<float>(nn::GemmaEmbedScale(hidden, dtype));
  };
  steps.final_logits = [dtype](nxd::Matrix& logits, const ModelConfig& config) {
    // The port's model code on the logits: x / cap, tanh, * cap, each op rounded.
    if (config.final_logit_softcapping) {
      logits = nn::SoftCap(logits, *config.final_logit_softcapping, dtype);
    }
  };
  return steps;
}

std::span<const nxd::NxdFault> GemmaPortFaults() { return kFaults; }

std::vector<FaultInfo> GemmaFaultsShownOn(std::string_view tiny_config) {
  std::vector<FaultInfo> infos;
  for (const nxd::NxdFault& fault : kFaults) {
    if (fault.info.showcase_config == tiny_config) infos.push_back(fault.info);
  }
  return infos;
}

}  // namespace equiv
