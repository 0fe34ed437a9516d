// The Gemma families' reference: HF's Gemma2ForCausalLM and Gemma3ForCausalLM computed by the
// nn components (nn/gemma.h) under one precision. Each kind returns what HF's module at its
// path returns: Gemma 2's embed_tokens unscaled, Gemma 3's scaled; lm_head without the final
// soft-cap; rotary the global embedding, rotary_local Gemma 3's local one.
#ifndef EQUIV_LIBEQUIV_FAMILIES_GEMMA_GEMMA_REFERENCE_H_
#define EQUIV_LIBEQUIV_FAMILIES_GEMMA_GEMMA_REFERENCE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "libequiv/config/model_config.h"
#include "libequiv/models/reference.h"
#include "libequiv/nn/gemma.h"

namespace equiv {

class GemmaReference : public Reference {
 public:
  // `weights` in float32; rounded to the precision here.
  GemmaReference(const ModelConfig& config, const nn::CausalLmWeights& weights,
                 nn::Precision precision);

  nn::Matrix Run(std::string_view kind, int64_t layer, const ComponentInput& input) const override;
  nn::Matrix Logits(std::span<const int64_t> ids) const override;
  // A KV cache per layer (nn::GemmaStep): each Append runs only the new positions.
  std::unique_ptr<ReferenceDecoder> StartDecoding() const override;
  nn::Precision precision() const override { return precision_; }

 private:
  ModelConfig config_;
  nn::Precision precision_;
  nn::CausalLmWeights weights_;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_FAMILIES_GEMMA_GEMMA_REFERENCE_H_
