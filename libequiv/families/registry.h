// The model families equiv knows, and what reads them: config.json parsing (each family reads
// its own fields), seeded and loaded weights, the fault catalog, and the built-in port.
// Adding a family is its folder plus one line in registry.cc.
//
//   ModelConfig config = LoadModelConfig("configs/tiny-qwen3.json");
//   const Architecture& family = ArchitectureOf(config);
//   StateDict weights = InitStateDict(config, /*seed=*/1);
//   std::unique_ptr<Port> port = BuiltinPort()({config, weights, device, faults});
#ifndef EQUIV_LIBEQUIV_FAMILIES_REGISTRY_H_
#define EQUIV_LIBEQUIV_FAMILIES_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/models/architecture.h"
#include "libequiv/models/fault.h"
#include "libequiv/models/port.h"
#include "libequiv/models/regime.h"
#include "libequiv/models/state_dict.h"

namespace equiv {

std::span<const Architecture* const> Families();
// Throws equiv::Error naming the model type and the supported ones.
const Architecture& ArchitectureFor(std::string_view model_type);
const Architecture& ArchitectureOf(const ModelConfig& config);
// Every model_type of every family: "llama, mistral, qwen2, qwen3".
std::string SupportedModelTypes();

// Parses config.json text: the fields every family shares (config_fields.h), then the
// family's own. Throws equiv::Error naming `source`, the field and its value, or the byte
// offset of malformed JSON. Unknown fields are ignored. Rules: docs/model-config.md.
ModelConfig ParseModelConfig(std::string_view json_text, std::string_view source = "config.json");
ModelConfig ModelConfigFromJson(const nlohmann::json& json,
                                std::string_view source = "config.json");
ModelConfig LoadModelConfig(const std::string& path);
// A config.json transformers can load; ParseModelConfig(ToJson(c).dump()) == c.
nlohmann::json ToJson(const ModelConfig& config);

// The family's parameters, seeded (InitStateDict in state_dict.h) or read from safetensors.
StateDict InitStateDict(const ModelConfig& config, uint64_t seed);
StateDict LoadStateDict(const std::string& path, const ModelConfig& config);

// A checkpoint as loaded for a run: the dense float32 weights (the reference's; a quantized
// parameter dequantized as HF does) and what it shipped packed (MXFP4 blocks and scales, int8
// values and scales: the port's, PortContext::packed), null for a float checkpoint.
struct Checkpoint {
  StateDict weights;
  std::shared_ptr<const PackedWeights> shipped;
};
// Reads a checkpoint as LoadParameters takes it (one safetensors file, read strictly as
// LoadStateDict does; a sharded index or a folder), keeping what it ships packed; then checks
// that against the config's quantization_config when it has one (CheckShippedWeights in the
// regime the config implies). Throws equiv::Error naming the path and parameter.
Checkpoint LoadCheckpoint(const std::string& path, const ModelConfig& config);

// Every catalog fault: the built-in port's, then each family's own.
std::span<const FaultInfo> FaultCatalog();
// nullptr when there is none of that name.
const FaultInfo* FindFault(std::string_view name);
// The set of the named faults; throws equiv::Error naming one that is no catalog fault.
FaultSet FaultsFromNames(const std::vector<std::string>& names);

// The family's built-in port on the simulated device, and the setup of a run of it.
PortFactory BuiltinPort();
PortSetup BuiltinPortOn(const device::DeviceConfig& device = {}, FaultSet faults = {});
// "builtin", or a port a program registered (port_registry.h); throws naming the known ones.
PortFactory PortByName(std::string_view name);

// The kind named `name` in the config's family table; throws equiv::Error naming the kinds.
const ComponentKind& ComponentKindOf(const ModelConfig& config, std::string_view name);
// The kind in the first family that has one of this name (results files name kinds, not
// families); nullptr when none has.
const ComponentKind* FindComponentKindInAnyFamily(std::string_view name);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_FAMILIES_REGISTRY_H_
