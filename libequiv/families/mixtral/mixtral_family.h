// Mixtral: Mistral's decoder with each MLP a sparse mixture of experts (HF's
// MixtralSparseMoeBlock: a router `gate`, num_local_experts SwiGLU experts w1/w3/w2, top
// num_experts_per_tok routing renormalized). The attention, norms and graphs are the llama
// family's; the reference adds nn::SparseMoe, the built-in port nxd::NxdMoePort with expert
// parallelism on the simulated device.
#ifndef EQUIV_LIBEQUIV_FAMILIES_MIXTRAL_MIXTRAL_FAMILY_H_
#define EQUIV_LIBEQUIV_FAMILIES_MIXTRAL_MIXTRAL_FAMILY_H_

#include <vector>

#include "libequiv/families/llama/llama_family.h"
#include "libequiv/nn/moe.h"

namespace equiv {

// How a family whose MLPs are sparse MoE blocks names HF's modules: Mixtral's by default.
struct SparseMoeNames {
  std::string_view block = "block_sparse_moe";  // model.layers.{i}.<block>
  std::string_view block_class = "MixtralSparseMoeBlock";
  std::string_view expert_class = "MixtralBlockSparseTop2MLP";  // also the shared expert's
  std::string_view gate = "w1", up = "w3", down = "w2";         // each expert's projections
};

// Mixtral, and the base of the other llama-like families with a sparse MoE block in place of
// each MLP (families/qwen_moe/): they change the hooks below and their config rules.
class MixtralFamily : public LlamaFamily {
 public:
  std::string_view name() const override { return "mixtral"; }
  std::span<const std::string_view> model_types() const override;
  std::string_view tiny_config() const override { return "tiny-mixtral"; }
  void ReadConfig(const ConfigFields& fields, ModelConfig& config) const override;
  void WriteConfig(const ModelConfig& config, nlohmann::json& json) const override;
  std::vector<ParameterSpec> Parameters(const ModelConfig& config) const override;
  std::span<const ComponentKind> Components() const override;
  ModuleNode ReferenceTree(const ModelConfig& config) const override;
  std::unique_ptr<Reference> MakeReference(const ModelConfig& config, const StateDict& weights,
                                           nn::Precision precision) const override;
  std::unique_ptr<Port> MakeBuiltinPort(const PortContext& context) const override;
  ModuleNode BuiltinPortTree(const ModelConfig& config,
                             const device::DeviceConfig& device) const override;
  std::span<const FaultInfo> Faults() const override;

 protected:
  std::string ClassPrefix(const ModelConfig&) const override { return "Mixtral"; }
  std::span<const nxd::NxdFault> OwnPortFaults() const override;
  virtual SparseMoeNames MoeNames() const { return {}; }
};

// Every layer's MoE block from HF-named float32 parameters, with the shared expert and its gate
// when the config has one (equiv::Error naming a missing or misshapen parameter).
std::vector<nn::MoeWeights> SparseMoeWeights(const StateDict& weights, const ModelConfig& config,
                                             const SparseMoeNames& names);

// The router, experts and moe rows of a MoE family's component table, at these HF paths
// (string literals: the table keeps views of them).
std::vector<ComponentKind> SparseMoeComponents(std::string_view router, std::string_view experts,
                                               std::string_view block);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_FAMILIES_MIXTRAL_MIXTRAL_FAMILY_H_
