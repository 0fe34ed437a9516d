// A model's parameters by HuggingFace name (`model.layers.{i}.self_attn.q_proj.weight`), in
// float32: made by a seeded initialisation or loaded from a safetensors checkpoint, from the
// parameter list of the model's family (families/registry.h has the config-level forms).
//
//   StateDict weights = InitStateDict(family.Parameters(config), /*seed=*/1);
//   nn::Matrix w = MatrixParameter(weights, "model.layers.0.mlp.up_proj.weight");
#ifndef EQUIV_LIBEQUIV_MODELS_STATE_DICT_H_
#define EQUIV_LIBEQUIV_MODELS_STATE_DICT_H_

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "libequiv/models/packed_weight.h"
#include "libequiv/nn/numerics.h"
#include "libequiv/tensor/tensor.h"

namespace equiv {

using StateDict = std::map<std::string, Tensor>;  // f32 tensors

// How a seeded initialisation draws a parameter, at the scale of PyTorch's module defaults so
// attention is not uniform and every fault shows: linear weights N(0, 1/in_features),
// embeddings N(0, 1), norm gains 1 + N(0, 0.1^2) and biases N(0, 0.1^2) (as in trained
// checkpoints, where a dropped gain or bias matters). A kLinear parameter of rank 3 is HF's
// stacked expert weights [experts, in, out] (GPT-OSS's x @ W layout): N(0, 1/in) likewise.
enum class ParameterInit { kLinear, kEmbedding, kNormGain, kBias };

struct ParameterSpec {
  std::string name;
  std::vector<int64_t> shape;
  ParameterInit init = ParameterInit::kLinear;
};

// Seeded initialisation of every parameter. Each parameter has its own stream (seed, name), so
// adding parameters never changes the others.
StateDict InitStateDict(std::span<const ParameterSpec> parameters, uint64_t seed);

// Reads every expected parameter from a safetensors file (F32, F16, BF16 or F64, widened to
// float32; a quantized parameter dequantized exactly as HF does: MXFP4 `<name>_blocks` and
// `<name>_scales`, expert tensors of rank 3 transposed as HF's GPT-OSS loader does, or int8
// weight-only `<name>` I8 with `<name>_scale`; precision/mxfp4.h, precision/int8_weight.h). Throws
// equiv::Error naming the path and the parameter for a missing tensor, a wrong shape, a
// non-floating dtype or an unexpected tensor (rotary inv_freq buffers and the `tolerated` names
// excepted). With `shipped`, every parameter the file ships quantized is also kept there as the
// checkpoint packed it (its very bytes: MXFP4 blocks and scales, int8 values and their scales
// widened to float32), for a port that dequantizes it itself; the float ones are not.
StateDict LoadStateDict(const std::string& path, std::span<const ParameterSpec> parameters,
                        std::span<const std::string> tolerated = {},
                        PackedWeights* shipped = nullptr);

// Reads only `parameters` (widened to float32, shapes checked) from a checkpoint as real ones
// ship: one safetensors file, HF's sharded index (model.safetensors.index.json: its weight_map
// names each tensor's shard, and only the shards holding a parameter asked for are opened), or
// a folder holding either; quantized parameters as LoadStateDict. Other tensors are ignored. Throws
// equiv::Error naming the file and the parameter for a missing one, a wrong shape or dtype, or a
// malformed index. `shipped` as LoadStateDict's.
StateDict LoadParameters(const std::string& checkpoint, std::span<const ParameterSpec> parameters,
                         PackedWeights* shipped = nullptr);

// Whether a checkpoint (as LoadParameters takes it) ships quantized parameters: MXFP4
// `_blocks`/`_scales`, int8 `_scale` companions or I8 tensors (an index: by the names of its
// weight_map). A regime then uses the dequantized weights as they are (models/regime.h).
bool HoldsQuantizedParameters(const std::string& checkpoint);

// Writes a state dict as a safetensors file in f32 (a checkpoint LoadStateDict reads back).
void SaveStateDict(const StateDict& weights, const std::string& path);

// One parameter as a matrix (rank 2) or vector (rank 1); throws naming it when missing or
// of another rank.
nn::Matrix MatrixParameter(const StateDict& weights, const std::string& name);
nn::Vector VectorParameter(const StateDict& weights, const std::string& name);
// A rank-3 parameter [n, rows, cols] as n matrices [rows, cols] (HF's stacked expert weights).
std::vector<nn::Matrix> StackedMatrixParameter(const StateDict& weights, const std::string& name);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_STATE_DICT_H_
