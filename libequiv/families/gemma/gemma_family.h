// Gemma 2 (model_type gemma2) and Gemma 3 text (gemma3_text): HF's Gemma2ForCausalLM and
// Gemma3ForCausalLM. One class, two families: their config fields, parameters, component
// tables, module trees and references (nn/gemma.h) differ only where Gemma 3 adds q/k norms, a
// local rotary embedding and a scaling embedding module. Their built-in port is the NxD-like
// port (ports/nxd/) with Gemma's steps (GemmaSteps) and naming; the Gemma port faults live here
// (gemma_faults.cc): each family lists those whose showcase is its tiny config, and both ports
// accept all of them.
#ifndef EQUIV_LIBEQUIV_FAMILIES_GEMMA_GEMMA_FAMILY_H_
#define EQUIV_LIBEQUIV_FAMILIES_GEMMA_GEMMA_FAMILY_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/models/architecture.h"
#include "libequiv/nn/causal_lm.h"
#include "libequiv/ports/nxd/nxd_faults.h"
#include "libequiv/ports/nxd/nxd_naming.h"

namespace equiv {

class GemmaFamily : public Architecture {
 public:
  // 2: gemma2; 3: gemma3_text.
  explicit constexpr GemmaFamily(int version) : version_(version) {}

  std::string_view name() const override;
  std::span<const std::string_view> model_types() const override;
  std::string_view tiny_config() const override;
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
  std::string_view BuiltinPortMappingJson() const override;
  std::span<const FaultInfo> Faults() const override;

 private:
  bool Gemma3() const { return version_ == 3; }
  std::string ClassPrefix() const { return Gemma3() ? "Gemma3" : "Gemma2"; }
  nxd::NxdNaming PortNaming() const;

  int version_;
};

// The reference components' weights from HF-named float32 parameters, the feed-forward norms
// included; lm_head is the embedding table when tied; q_norm and k_norm read for Gemma 3.
// Throws equiv::Error naming a missing or misshapen parameter.
nn::CausalLmWeights GemmaWeightsOf(const StateDict& weights, const ModelConfig& config);

// The built-in port's correct steps for Gemma: the (1 + w) norm kernel (every norm, the q/k
// norms too), the embedding scale sqrt(hidden_size) in bf16, the final soft-cap.
nxd::NxdSteps GemmaSteps(nn::Precision dtype);

// Every Gemma port fault (both families' ports accept each), and those whose showcase config
// is `tiny_config`.
std::span<const nxd::NxdFault> GemmaPortFaults();
std::vector<FaultInfo> GemmaFaultsShownOn(std::string_view tiny_config);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_FAMILIES_GEMMA_GEMMA_FAMILY_H_
