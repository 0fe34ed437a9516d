// The reference: HuggingFace's LlamaForCausalLM (Mistral, Qwen2) computed by the nn components
// under one precision, from float32 weights (rounded to bf16 for the bf16 run).
//
//   ReferenceModel fp32(config, weights, nn::Precision::kFp32);
//   nn::Matrix logits = fp32.Logits(ids);
#ifndef EQUIV_LIBEQUIV_MODELS_REFERENCE_MODEL_H_
#define EQUIV_LIBEQUIV_MODELS_REFERENCE_MODEL_H_

#include <cstdint>
#include <span>

#include "libequiv/models/component.h"
#include "libequiv/config/model_config.h"
#include "libequiv/models/module_tree.h"
#include "libequiv/models/state_dict.h"
#include "libequiv/nn/causal_lm.h"

namespace equiv {

class ReferenceModel {
 public:
  ReferenceModel(const ModelConfig& config, const StateDict& weights, nn::Precision precision);

  // One component on an input (see component.h); `layer` in [0, num_hidden_layers) for the
  // per-layer components. Throws equiv::Error naming the component for a bad layer or input.
  nn::Matrix Run(Component component, int64_t layer, const ComponentInput& input) const;

  // Logits [ids, vocab] at positions 0 .. n-1, one forward pass.
  nn::Matrix Logits(std::span<const int64_t> ids) const;

  const ModelConfig& config() const { return config_; }
  nn::Precision precision() const { return precision_; }
  const nn::CausalLmWeights& weights() const { return weights_; }

 private:
  ModelConfig config_;
  nn::Precision precision_;
  nn::CausalLmWeights weights_;
};

// The HF module tree: LlamaForCausalLM > LlamaModel > embed_tokens, layers (LlamaDecoderLayer:
// self_attn with q/k/v/o_proj, mlp with gate/up/down_proj and act_fn, the two norms), norm,
// rotary_emb; lm_head. Class names follow the model type (MistralAttention, Qwen2MLP, ...).
ModuleNode ReferenceModuleTree(const ModelConfig& config);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_REFERENCE_MODEL_H_
