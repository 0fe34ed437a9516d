// The llama family's reference: HF's LlamaForCausalLM (MistralForCausalLM, Qwen2ForCausalLM,
// and Qwen3's per-head q/k norms) computed by the nn components under one precision.
#ifndef EQUIV_LIBEQUIV_FAMILIES_LLAMA_LLAMA_REFERENCE_H_
#define EQUIV_LIBEQUIV_FAMILIES_LLAMA_LLAMA_REFERENCE_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "libequiv/config/model_config.h"
#include "libequiv/models/reference.h"
#include "libequiv/nn/causal_lm.h"

namespace equiv {

class LlamaReference : public Reference {
 public:
  // `weights` in float32; rounded to the precision here.
  LlamaReference(const ModelConfig& config, const nn::CausalLmWeights& weights,
                 nn::Precision precision);

  nn::Matrix Run(std::string_view kind, int64_t layer, const ComponentInput& input) const override;
  nn::Matrix Logits(std::span<const int64_t> ids) const override;
  // A KV cache per layer (nn::CausalLmStep): each Append runs only the new positions.
  std::unique_ptr<ReferenceDecoder> StartDecoding() const override;
  nn::Precision precision() const override { return precision_; }
  // The weights rounded to the precision and packed (the MoE references' attention reads them).
  const nn::CausalLmWeights& weights() const { return weights_; }

 private:
  ModelConfig config_;
  nn::Precision precision_;
  nn::CausalLmWeights weights_;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_FAMILIES_LLAMA_LLAMA_REFERENCE_H_
