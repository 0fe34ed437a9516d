// GPT-OSS (model_type gpt_oss): HF's GptOssForCausalLM. A llama-like decoder whose attention has
// q/k/v/o biases, one learned sink logit per head and alternating sliding/full layers
// (layer_types) with YaRN rotary, whose norms round once (GptOssRMSNorm), and whose MLP is a
// mixture of experts: a biased router that softmaxes its top-k logits, and experts with a fused,
// interleaved gate_up_proj, biases and a clamped SwiGLU (nn/gpt_oss_moe.h). Built on the mixtral
// family (its module tree, component rows and the port's expert parallelism). Weights are
// float32/bf16 tensors, or the experts in MXFP4 as openai ships them (config.json's
// quantization_config; docs/regimes.md, "A checkpoint that ships quantized").
#ifndef EQUIV_LIBEQUIV_FAMILIES_GPT_OSS_GPT_OSS_FAMILY_H_
#define EQUIV_LIBEQUIV_FAMILIES_GPT_OSS_GPT_OSS_FAMILY_H_

#include <vector>

#include "libequiv/families/mixtral/mixtral_family.h"

namespace equiv {

class GptOssFamily : public MixtralFamily {
 public:
  std::string_view name() const override { return "gpt_oss"; }
  std::span<const std::string_view> model_types() const override;
  std::string_view tiny_config() const override { return "tiny-gpt-oss"; }
  void ReadConfig(const ConfigFields& fields, ModelConfig& config) const override;
  void WriteConfig(const ModelConfig& config, nlohmann::json& json) const override;
  std::vector<ParameterSpec> Parameters(const ModelConfig& config) const override;
  std::span<const ComponentKind> Components() const override;
  ModuleNode ReferenceTree(const ModelConfig& config) const override;
  std::unique_ptr<Reference> MakeReference(const ModelConfig& config, const StateDict& weights,
                                           nn::Precision precision) const override;
  std::unique_ptr<Port> MakeBuiltinPort(const PortContext& context) const override;
  std::span<const FaultInfo> Faults() const override;

 protected:
  std::string ClassPrefix(const ModelConfig&) const override { return "GptOss"; }
  std::span<const nxd::NxdFault> OwnPortFaults() const override;
  SparseMoeNames MoeNames() const override;
};

// The attention and norm weights (every layer's sinks included; no MLPs) from HF-named float32
// parameters. Throws equiv::Error naming a missing or misshapen parameter.
nn::CausalLmWeights GptOssDenseWeights(const StateDict& weights, const ModelConfig& config);

// Every layer's MoE block: the router with its bias, and each expert de-interleaved from the
// stacked gate_up_proj [experts, hidden, 2 x intermediate] (gate = even columns, up = odd) and
// down_proj [experts, intermediate, hidden], transposed to nn::Linear's [out, in], with biases.
std::vector<nn::MoeWeights> GptOssMoeWeights(const StateDict& weights, const ModelConfig& config);

// The built-in port's correct steps for GPT-OSS: the one-rounding norm kernel, the experts'
// weighted outputs summed in float32 (the attention sinks and the clamped experts follow the
// config and the weights).
nxd::NxdSteps GptOssSteps(nn::Precision dtype);
// The GPT-OSS port faults (gpt_oss_faults.cc).
std::span<const nxd::NxdFault> GptOssPortFaults();

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_FAMILIES_GPT_OSS_GPT_OSS_FAMILY_H_
