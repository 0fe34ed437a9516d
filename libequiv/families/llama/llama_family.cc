#include "libequiv/families/llama/llama_family.h"

#include <array>
#include <utility>

#include "libequiv/families/internal/shipped_port_mappings.h"
#include "libequiv/families/llama/llama_reference.h"
#include "libequiv/ports/nxd/nxd_port.h"

namespace equiv {

std::span<const std::string_view> LlamaFamily::model_types() const {
  static constexpr std::array<std::string_view, 3> kTypes = {"llama", "mistral", "qwen2"};
  return kTypes;
}

std::string LlamaFamily::ClassPrefix(const ModelConfig& config) const {
  if (config.model_type == "mistral") return "Mistral";
  if (config.model_type == "qwen2") return "Qwen2";
  return "Llama";
}

nxd::NxdNaming LlamaFamily::PortNaming(const ModelConfig& config) const {
  return {"Neuron" + ClassPrefix(config), QkNorm()};
}

std::span<const ComponentKind> LlamaFamily::Components() const { return LlamaComponents(); }

std::unique_ptr<Reference> LlamaFamily::MakeReference(const ModelConfig& config,
                                                      const StateDict& weights,
                                                      nn::Precision precision) const {
  return std::make_unique<LlamaReference>(config, LlamaWeights(weights, config, QkNorm()),
                                          precision);
}

std::unique_ptr<Port> LlamaFamily::MakeBuiltinPort(const PortContext& context) const {
  const std::span<const nxd::NxdFault> catalogs[] = {nxd::NxdFaults(), OwnPortFaults()};
  nxd::NxdSteps steps =
      nxd::StepsWith(nxd::DefaultSteps(context.device.activation_dtype), context.faults, catalogs);
  StateDict storage;
  const StateDict& weights = nxd::PortStateDict(context, steps, storage);
  return std::make_unique<nxd::NxdPort>(
      context.config, LlamaWeights(weights, context.config, QkNorm()), context.device,
      std::move(steps), PortNaming(context.config));
}

std::span<const FaultInfo> LlamaFamily::Faults() const { return {}; }

// configs/mappings/<name>-port.json, compiled in.
std::string_view LlamaFamily::BuiltinPortMappingJson() const {
  return ShippedPortMappingJson(name());
}

}  // namespace equiv
