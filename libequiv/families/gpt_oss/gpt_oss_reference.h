// The gpt_oss family's reference: HF's GptOssForCausalLM under one precision. Mixtral's decoder
// layer (embedding, q/k/v projections, rotary (YaRN), the attention with its sinks — nn::Attention
// reads them from the weights — and lm_head the llama reference's), with GPT-OSS's own steps:
// the norms round once (nn::RmsNormOneRounding) and each layer's MLP is nn::GptOssMoe.
#ifndef EQUIV_LIBEQUIV_FAMILIES_GPT_OSS_GPT_OSS_REFERENCE_H_
#define EQUIV_LIBEQUIV_FAMILIES_GPT_OSS_GPT_OSS_REFERENCE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "libequiv/families/mixtral/mixtral_reference.h"
#include "libequiv/nn/gpt_oss_moe.h"

namespace equiv {

class GptOssReference : public MixtralReference {
 public:
  // Weights in float32, rounded to the precision here: `dense` without MLPs, `moe` one block
  // per layer. Kinds as MixtralReference runs them: router logits [n, experts] with the bias,
  // experts [n, experts x hidden] unweighted.
  GptOssReference(const ModelConfig& config, const nn::CausalLmWeights& dense,
                  const std::vector<nn::MoeWeights>& moe, nn::Precision precision);

 protected:
  nn::Matrix Norm(std::string_view kind, int64_t layer, const nn::Matrix& x) const override;
  nn::Matrix Moe(int64_t layer, const nn::Matrix& x) const override;
  nn::Matrix Experts(int64_t layer, const nn::Matrix& x) const override;

 private:
  nn::CausalLmWeights norms_;  // the rounded norm weights (the rest left empty)
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_FAMILIES_GPT_OSS_GPT_OSS_REFERENCE_H_
