// A model family, described in one place: the config.json fields it reads, its parameters by
// HF name and shape, its reference and built-in port module trees, and its component table.
// Each family lives in its own folder under libequiv/families/ and is registered once
// (families/registry.cc); everything else reads families through this interface.
//
//   const Architecture& family = ArchitectureOf(config);       // families/registry.h
//   for (const ComponentKind& kind : family.Components()) ...
//   std::unique_ptr<Reference> ref = family.MakeReference(config, weights, nn::Precision::kBf16);
#ifndef EQUIV_LIBEQUIV_MODELS_ARCHITECTURE_H_
#define EQUIV_LIBEQUIV_MODELS_ARCHITECTURE_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>
#include <vector>

#include "libequiv/config/config_fields.h"
#include "libequiv/config/model_config.h"
#include "libequiv/models/component_kind.h"
#include "libequiv/models/fault.h"
#include "libequiv/models/module_tree.h"
#include "libequiv/models/port.h"
#include "libequiv/models/reference.h"
#include "libequiv/models/state_dict.h"

namespace equiv {

class Architecture {
 public:
  virtual ~Architecture() = default;

  // The family's name ("llama") and the config.json model_type values it reads: {"llama",
  // "mistral", "qwen2"}.
  virtual std::string_view name() const = 0;
  virtual std::span<const std::string_view> model_types() const = 0;
  // Its smallest config in configs/ (without .json), for the detection matrix's clean runs.
  virtual std::string_view tiny_config() const = 0;

  // The family's own reading of config.json, after the fields every family shares
  // (config_fields.h): biases, windows, norms. Throws equiv::Error naming the field.
  virtual void ReadConfig(const ConfigFields& fields, ModelConfig& config) const = 0;
  // The family's fields of a config.json transformers can load.
  virtual void WriteConfig(const ModelConfig& config, nlohmann::json& json) const = 0;

  // Every parameter HF's model has for the config, in module order.
  virtual std::vector<ParameterSpec> Parameters(const ModelConfig& config) const = 0;

  // The component table, in no particular order (ComponentKind has the bottom-up order).
  virtual std::span<const ComponentKind> Components() const = 0;

  // The module tree HF's model has (names, classes, parameter shapes).
  virtual ModuleNode ReferenceTree(const ModelConfig& config) const = 0;

  virtual std::unique_ptr<Reference> MakeReference(const ModelConfig& config,
                                                   const StateDict& weights,
                                                   nn::Precision precision) const = 0;

  // The built-in port of the family on the simulated device, its module tree, the mapping of
  // its modules to the reference's (component_mapping.json text), and its own catalog faults
  // (faults every built-in port shares are the port's: families/registry.h lists them all).
  virtual std::unique_ptr<Port> MakeBuiltinPort(const PortContext& context) const = 0;
  virtual ModuleNode BuiltinPortTree(const ModelConfig& config,
                                     const device::DeviceConfig& device) const = 0;
  virtual std::string_view BuiltinPortMappingJson() const = 0;
  virtual std::span<const FaultInfo> Faults() const = 0;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_ARCHITECTURE_H_
