// The built-in port of a mixture-of-experts decoder (Mixtral, Qwen2-MoE, Qwen3-MoE): NxdPort's
// attention, graphs, KV cache and patches, with each layer's MLP a sparse MoE block run with expert
// parallelism on the simulated device. The router runs on every rank (replicated); the experts are
// spread over ep_degree groups of tp_degree / ep_degree ranks, each expert tensor-parallel within
// its group. A token travels to its experts by an all-to-all dispatch and back by an all-to-all
// combine (payloads in the activation dtype, device::AllToAll); each rank then adds its tokens'
// weighted expert outputs in ascending expert order, one rounding per add, as HF's index_add_ does.
// Qwen2-MoE's shared expert runs as a dense tensor-parallel MLP on every token, is multiplied by
// its sigmoid gate and added last. With an expert capacity an expert serves its tokens in rounds of
// that many (docs/device.md).
//
//   NxdMoePort port(config, dense_weights, moe_weights, {.tp_degree = 4, .ep_degree = 2},
//                   DefaultSteps(nn::Precision::kBf16), {"NeuronMixtral"});
#ifndef EQUIV_LIBEQUIV_PORTS_NXD_NXD_MOE_PORT_H_
#define EQUIV_LIBEQUIV_PORTS_NXD_NXD_MOE_PORT_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "libequiv/nn/moe.h"
#include "libequiv/ports/nxd/nxd_port.h"

namespace equiv::nxd {

// One layer's mixture of experts as the port holds it.
struct NxdMoeLayer {
  std::optional<device::ColumnParallelLinear> router;  // replicated: every rank holds it whole
  std::vector<MlpShards> experts;  // slot e, tensor-parallel over its group's ranks
  // Qwen2-MoE: the shared expert, tensor-parallel over all ranks as a dense MLP, and its gate
  // [1, hidden], replicated.
  std::optional<MlpShards> shared_expert;
  std::optional<device::ColumnParallelLinear> shared_expert_gate;
};

// The experts of every layer from HF's float32 weights: rounded to the activation dtype, the router
// replicated, slot e loaded from HF expert steps.expert_source(e), each expert sharded over
// tp_degree / ep_degree ranks.
std::vector<NxdMoeLayer> ConvertMoeWeights(std::span<const nn::MoeWeights> hf,
                                           const ModelConfig& config,
                                           const device::DeviceConfig& device,
                                           const NxdSteps& steps);

// NxdModuleTree with each layer's mlp an NxD MoE module: router (RouterTopK > linear_router)
// and expert_mlps (ExpertMLPs > mlp_op with the experts' fused gate_up_proj and down_proj);
// with a shared expert, shared_experts (SharedExperts: gate_proj, up_proj, down_proj) and
// shared_expert_gate.
ModuleNode NxdMoeModuleTree(const ModelConfig& config, const device::DeviceConfig& device,
                            const NxdNaming& naming);

class NxdMoePort : public NxdPort {
 public:
  // `dense` holds everything but the MLPs (theirs empty); `moe` one block per layer, float32.
  NxdMoePort(const ModelConfig& config, const nn::CausalLmWeights& dense,
             std::span<const nn::MoeWeights> moe, const device::DeviceConfig& device,
             NxdSteps steps, NxdNaming naming);

  ModuleNode Tree() const override;

 protected:
  nn::Matrix AddFeedForward(int64_t layer, const nn::Matrix& h,
                            const nn::Matrix& normed) const override;
  std::optional<nn::Matrix> RunOwnKind(const ComponentCall& call,
                                       const nn::Matrix& x) const override;
  std::optional<bool> OwnKindTakesLayer(std::string_view kind) const override;
  std::optional<std::string_view> OwnLayerModuleKind(std::string_view suffix) const override;

 private:
  // One expert on its rows: GPT-OSS's clamped SwiGLU when the config has a swiglu_limit, the
  // gated MLP otherwise.
  nn::Matrix RunExpert(const MlpShards& expert, const nn::Matrix& x, HiddenAct act) const;
  nn::Matrix Router(int64_t layer, const nn::Matrix& x) const;
  nn::Matrix Experts(int64_t layer, const nn::Matrix& x) const;
  nn::Matrix Moe(int64_t layer, const nn::Matrix& x) const;
  nn::Matrix SharedExpert(int64_t layer, const nn::Matrix& x) const;
  nn::Matrix SharedExpertGate(int64_t layer, const nn::Matrix& x) const;

  std::vector<NxdMoeLayer> moe_;
};

}  // namespace equiv::nxd

#endif  // EQUIV_LIBEQUIV_PORTS_NXD_NXD_MOE_PORT_H_
