// The gpt_oss family's reference: HF's GptOssForCausalLM under one precision. Embedding, q/k/v
// projections, rotary (YaRN), the attention with its sinks (nn::Attention reads them from the
// weights) and lm_head are the llama reference's; the norms round once (nn::RmsNormOneRounding);
// each layer's MLP is nn::GptOssMoe.
#ifndef EQUIV_LIBEQUIV_FAMILIES_GPT_OSS_GPT_OSS_REFERENCE_H_
#define EQUIV_LIBEQUIV_FAMILIES_GPT_OSS_GPT_OSS_REFERENCE_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "libequiv/families/llama/llama_reference.h"
#include "libequiv/nn/gpt_oss_moe.h"

namespace equiv {

class GptOssReference : public Reference {
 public:
  // Weights in float32, rounded to the precision here: `dense` without MLPs, `moe` one block
  // per layer.
  GptOssReference(const ModelConfig& config, const nn::CausalLmWeights& dense,
                  const std::vector<nn::MoeWeights>& moe, nn::Precision precision);

  // Kinds router (logits [n, experts], bias included), experts ([n, experts x hidden],
  // unweighted), moe ([n, hidden]), the norms, decoder_layer and causal_lm here; the rest as the
  // llama reference runs them.
  nn::Matrix Run(std::string_view kind, int64_t layer, const ComponentInput& input) const override;
  nn::Matrix Logits(std::span<const int64_t> ids) const override;
  std::vector<nn::Matrix> RouterLogits(std::span<const int64_t> ids) const override;
  // For decoder_layer: the router's logits on what the attention half makes of the input.
  nn::Matrix RouterLogitsWithin(std::string_view kind, int64_t layer,
                                const ComponentInput& input) const override;
  nn::Precision precision() const override { return precision_; }

 private:
  void CheckLayer(std::string_view kind, int64_t layer) const;  // throws for a bad layer
  // The MoE block's input norm2(x + attn(norm1(x))), and that residual sum h.
  struct AttentionHalf {
    nn::Matrix h, moe_in;
  };
  AttentionHalf Attend(int64_t layer, const nn::Matrix& x,
                       const std::vector<int64_t>& positions) const;
  nn::Matrix Norm(std::string_view kind, int64_t layer, const nn::Matrix& x) const;
  nn::Matrix Moe(int64_t layer, const nn::Matrix& x) const;
  nn::Matrix Layer(int64_t layer, const nn::Matrix& x, const std::vector<int64_t>& positions,
                   std::vector<nn::Matrix>* router_logits = nullptr) const;
  nn::Matrix Forward(std::span<const int64_t> ids, std::vector<nn::Matrix>* router_logits) const;

  ModelConfig config_;
  nn::Precision precision_;
  LlamaReference dense_;
  nn::CausalLmWeights norms_;  // the rounded norm weights (the rest left empty)
  std::vector<nn::MoeWeights> moe_;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_FAMILIES_GPT_OSS_GPT_OSS_REFERENCE_H_
