// The NxD-like port's state-dict conversion: HF-named weights (as the reference components
// hold them) rounded to the device's activation dtype and laid out as the port's modules hold them:
// the fused QKV weight per rank, column- and row-parallel shards, the vocabulary-parallel
// embedding.
#ifndef EQUIV_LIBEQUIV_PORTS_NXD_INTERNAL_NXD_WEIGHTS_H_
#define EQUIV_LIBEQUIV_PORTS_NXD_INTERNAL_NXD_WEIGHTS_H_

#include <optional>
#include <vector>

#include "libequiv/device/device_config.h"
#include "libequiv/device/parallel_layers.h"
#include "libequiv/nn/causal_lm.h"
#include "libequiv/ports/nxd/internal/head_sharding.h"
#include "libequiv/ports/nxd/nxd_kernels.h"
#include "libequiv/ports/nxd/nxd_steps.h"

namespace equiv::nxd {

struct NxdLayer {
  Vector input_norm;
  Vector post_norm;
  Vector q_norm, k_norm;             // per-head norms [head_dim]; empty when the model has none
  Vector pre_ff_norm, post_ff_norm;  // Gemma's norms around the MLP; empty when none
  Vector sinks;                      // GPT-OSS: one sink logit per query head; empty when none
  std::optional<device::ColumnParallelLinear> qkv;      // fused: rank r holds [q_r; k_r; v_r]
  std::optional<device::ColumnParallelLinear> q, k, v;  // unfused
  std::optional<device::RowParallelLinear> o_proj;
  MlpShards mlp;
};

struct NxdWeights {
  std::optional<device::ParallelEmbedding> embed;
  std::vector<NxdLayer> layers;
  Vector final_norm;
  std::optional<device::ColumnParallelLinear> lm_head;
};

// `hf` in float32 (lm_head already the embedding table when tied); rounded to the activation dtype
// here.
NxdWeights ConvertWeights(const nn::CausalLmWeights& hf, const ModelConfig& config,
                          const device::DeviceConfig& device, const HeadSharding& heads,
                          const NxdSteps& steps);

}  // namespace equiv::nxd

#endif  // EQUIV_LIBEQUIV_PORTS_NXD_INTERNAL_NXD_WEIGHTS_H_
