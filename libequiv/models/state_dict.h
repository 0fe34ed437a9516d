// A causal LM's parameters by HuggingFace name (`model.layers.{i}.self_attn.q_proj.weight`),
// in float32: made by a seeded initialisation or loaded from a safetensors checkpoint, and
// turned into the reference components' weights.
//
//   StateDict weights = InitStateDict(config, /*seed=*/1);
//   nn::CausalLmWeights reference = ReferenceWeights(weights, config);
#ifndef EQUIV_LIBEQUIV_MODELS_STATE_DICT_H_
#define EQUIV_LIBEQUIV_MODELS_STATE_DICT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/nn/causal_lm.h"
#include "libequiv/tensor/tensor.h"

namespace equiv {

using StateDict = std::map<std::string, Tensor>;  // f32 tensors

struct ParameterSpec {
  std::string name;
  std::vector<int64_t> shape;
};

// Every parameter HF's LlamaForCausalLM (MistralForCausalLM, Qwen2ForCausalLM) has for the
// config, in module order; no lm_head.weight when the embeddings are tied.
std::vector<ParameterSpec> ExpectedParameters(const ModelConfig& config);

// Seeded initialisation at the scale of PyTorch's module defaults, so attention is not
// uniform and every fault shows: linear weights N(0, 1/in_features), embeddings N(0, 1),
// norm gains 1 + N(0, 0.1^2) and biases N(0, 0.1^2) (as in trained checkpoints, where a
// dropped gain or bias matters). Each parameter has its own stream (seed, name), so adding
// parameters never changes the others.
StateDict InitStateDict(const ModelConfig& config, uint64_t seed);

// Reads every expected parameter from a safetensors file (F32, F16, BF16 or F64, widened to
// float32). Throws equiv::Error naming the path and the parameter for a missing tensor, a
// wrong shape, a non-floating dtype or an unexpected tensor (rotary inv_freq buffers excepted).
StateDict LoadStateDict(const std::string& path, const ModelConfig& config);

// Writes a state dict as a safetensors file in f32 (a checkpoint LoadStateDict reads back).
void SaveStateDict(const StateDict& weights, const std::string& path);

// The reference components' weights; lm_head is the embedding table when tied. Throws
// equiv::Error naming a missing or misshapen parameter.
nn::CausalLmWeights ReferenceWeights(const StateDict& weights, const ModelConfig& config);

// One parameter as a matrix (rank 2) or vector (rank 1); throws naming it when missing or
// of another rank.
nn::Matrix MatrixParameter(const StateDict& weights, const std::string& name);
nn::Vector VectorParameter(const StateDict& weights, const std::string& name);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_STATE_DICT_H_
