// The mixtral family's reference: HF's MixtralForCausalLM under one precision (and
// Qwen2MoeForCausalLM, Qwen3MoeForCausalLM: families/qwen_moe/; GptOssForCausalLM derives from
// it, families/gpt_oss/). The attention, norms, embedding
// and lm_head are the llama family's reference (its MLPs empty); each layer's MoE block is
// nn::SparseMoe, with Qwen2-MoE's gated shared expert when the weights have one.
#ifndef EQUIV_LIBEQUIV_FAMILIES_MIXTRAL_MIXTRAL_REFERENCE_H_
#define EQUIV_LIBEQUIV_FAMILIES_MIXTRAL_MIXTRAL_REFERENCE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "libequiv/families/llama/llama_reference.h"
#include "libequiv/nn/moe.h"

namespace equiv {

class MixtralReference : public Reference {
 public:
  // Weights in float32, rounded to the precision here: `dense` without MLPs, `moe` one block
  // per layer.
  MixtralReference(const ModelConfig& config, const nn::CausalLmWeights& dense,
                   const std::vector<nn::MoeWeights>& moe, nn::Precision precision);

  // Kinds router (logits [n, experts]), experts ([n, experts x hidden]), moe ([n, hidden]),
  // shared_expert ([n, hidden], ungated), shared_expert_gate (its logit [n, 1]), the norms,
  // decoder_layer and causal_lm here; the rest as the llama reference runs them.
  nn::Matrix Run(std::string_view kind, int64_t layer, const ComponentInput& input) const override;
  nn::Matrix Logits(std::span<const int64_t> ids) const override;
  // A KV cache per layer: each Append runs only the new positions through the layers (the
  // llama attention over the cache, then the MoE block), the rows Logits gives, bit for bit;
  // the decoder's RouterLogits are those of the same forwards.
  std::unique_ptr<ReferenceDecoder> StartDecoding() const override;
  std::vector<nn::Matrix> RouterLogits(std::span<const int64_t> ids) const override;
  // For decoder_layer: its output and the router's logits on what the attention half makes of
  // the input, from one pass.
  RoutedOutput RunWithRouterLogits(std::string_view kind, int64_t layer,
                                   const ComponentInput& input) const override;
  nn::Precision precision() const override { return precision_; }

 protected:
  // The steps a family built on Mixtral's decoder layer changes (families/gpt_oss): its norms
  // (input_layernorm, post_attention_layernorm, final_norm: the llama reference's here), its
  // MoE block and its experts' unweighted outputs. `x` is rounded to the precision.
  virtual nn::Matrix Norm(std::string_view kind, int64_t layer, const nn::Matrix& x) const;
  virtual nn::Matrix Moe(int64_t layer, const nn::Matrix& x) const;
  virtual nn::Matrix Experts(int64_t layer, const nn::Matrix& x) const;
  const ModelConfig& config() const { return config_; }
  const nn::MoeWeights& moe(int64_t layer) const { return moe_[layer]; }

 private:
  void CheckLayer(std::string_view kind, int64_t layer) const;  // throws for a bad layer
  // A decoder layer's first half, h = x + attn(norm1(x)), and the MoE block's input norm2(h).
  // With a cache, x holds the positions after the cached ones: their keys and values are
  // appended and the attention reads every cached position (nn::SelfAttention).
  struct AttentionHalf {
    nn::Matrix h, moe_in;
  };
  AttentionHalf Attend(int64_t layer, const nn::Matrix& x, std::span<const int64_t> positions,
                       nn::LayerKvCache* cache) const;
  // `router_logits`, when given, receives the layer's router logits.
  nn::Matrix Layer(int64_t layer, const nn::Matrix& x, std::span<const int64_t> positions,
                   std::vector<nn::Matrix>* router_logits = nullptr,
                   nn::LayerKvCache* cache = nullptr) const;
  // The final hidden states of ids at positions 0 .. n-1 (no cache), or at cache->length() ..
  // appended to the cache.
  nn::Matrix Forward(std::span<const int64_t> ids, std::vector<nn::Matrix>* router_logits,
                     nn::CausalLmCache* cache = nullptr) const;
  // final_norm and lm_head on Forward's hidden states: the logits.
  nn::Matrix Head(const nn::Matrix& hidden) const;
  // The decoder's step: Forward over the cache, the routers' logits appended to
  // cache.router_logits.
  nn::Matrix Step(std::span<const int64_t> ids, nn::CausalLmCache& cache) const;

  ModelConfig config_;
  nn::Precision precision_;
  LlamaReference dense_;
  std::vector<nn::MoeWeights> moe_;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_FAMILIES_MIXTRAL_MIXTRAL_REFERENCE_H_
