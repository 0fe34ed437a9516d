// Qwen2-MoE and Qwen3-MoE: the qwen2 and qwen3 decoders with each MLP a sparse mixture of
// experts (HF's Qwen2MoeSparseMoeBlock, Qwen3MoeSparseMoeBlock at model.layers.{i}.mlp: a
// router `gate`, num_experts SwiGLU experts gate_proj/up_proj/down_proj of
// moe_intermediate_size, top num_experts_per_tok routing renormalized only if norm_topk_prob;
// Qwen2-MoE adds a shared expert gated by sigmoid(shared_expert_gate(x))). Built on the mixtral
// family: its parameters, module tree, reference (nn::SparseMoe) and port (nxd::NxdMoePort with
// expert parallelism), with qwen3's q/k norms for qwen3_moe.
#ifndef EQUIV_LIBEQUIV_FAMILIES_QWEN_MOE_QWEN_MOE_FAMILY_H_
#define EQUIV_LIBEQUIV_FAMILIES_QWEN_MOE_QWEN_MOE_FAMILY_H_

#include "libequiv/families/mixtral/mixtral_family.h"

namespace equiv {

class QwenMoeFamily : public MixtralFamily {
 public:
  // 2: qwen2_moe (qkv bias, shared expert); 3: qwen3_moe (q/k norms, no shared expert).
  explicit constexpr QwenMoeFamily(int version) : version_(version) {}

  std::string_view name() const override;
  std::span<const std::string_view> model_types() const override;
  std::string_view tiny_config() const override;
  void ReadConfig(const ConfigFields& fields, ModelConfig& config) const override;
  void WriteConfig(const ModelConfig& config, nlohmann::json& json) const override;
  std::span<const ComponentKind> Components() const override;
  std::span<const FaultInfo> Faults() const override;

 protected:
  std::string ClassPrefix(const ModelConfig&) const override;
  bool QkNorm() const override { return version_ == 3; }
  std::span<const nxd::NxdFault> OwnPortFaults() const override;
  SparseMoeNames MoeNames() const override;

 private:
  int version_;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_FAMILIES_QWEN_MOE_QWEN_MOE_FAMILY_H_
