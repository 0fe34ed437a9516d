// component_mapping.json: which reference (HF) modules each port module computes, with {i}-style
// variables over layers and a reason per entry. Format and rules: docs/component-mapping.md.
//
//   ComponentMapping mapping = LoadComponentMapping("configs/mappings/llama-port.json");
//   for (const ExpandedEntry& e : Expand(mapping, config)) std::cout << e.Label() << "\n";
#ifndef EQUIV_GENERATORS_COMPONENT_MAPPING_H_
#define EQUIV_GENERATORS_COMPONENT_MAPPING_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/config/model_config.h"

namespace equiv {

// The values of one variable: an explicit list, every layer of the model, or the layers of one
// attention type (config.layer_types; a config without them has only full-attention layers).
struct VariableValues {
  bool all_layers = false;      // "num_hidden_layers": 0 .. num_hidden_layers - 1
  std::vector<int64_t> values;  // the explicit list (used when neither flag is set), in file order
  // "sliding_attention_layers" / "full_attention_layers": the layers of that type.
  std::optional<LayerAttention> layers_of_type = std::nullopt;

  std::vector<int64_t> Resolve(const ModelConfig& config) const;
  bool operator==(const VariableValues&) const = default;
};

struct MappingEntry {
  std::vector<std::string> source;  // reference module paths, may hold {name}
  std::vector<std::string> target;  // port module paths, may hold {name}
  std::string reasoning;

  // One side empty: the other side's modules have no counterpart; such an entry makes no case.
  bool NoCounterpart() const { return source.empty() || target.empty(); }
  bool operator==(const MappingEntry&) const = default;
};

struct ComponentMapping {
  std::string origin = "component_mapping.json";  // what error messages start with
  std::map<std::string, VariableValues> variables;
  std::vector<MappingEntry> entries;
};

// One entry with one value per variable it uses, substituted into its paths.
struct ExpandedEntry {
  std::size_t entry_index = 0;              // into ComponentMapping::entries
  std::map<std::string, int64_t> bindings;  // only the variables the entry uses
  std::vector<std::string> source;
  std::vector<std::string> target;
  std::string reasoning;

  bool NoCounterpart() const { return source.empty() || target.empty(); }
  // How errors name it: "mapping[3] (i = 1)", or "mapping[0]" without variables.
  std::string Label() const;
};

// Parses component_mapping.json text and checks it (CheckComponentMapping). Throws equiv::Error
// naming `origin`, the entry, the field and the value, or the byte offset of malformed JSON.
ComponentMapping ParseComponentMapping(std::string_view json_text,
                                       std::string_view origin = "component_mapping.json");

// Reads and parses a file; errors start with the path.
ComponentMapping LoadComponentMapping(const std::string& path);

// The rules that need no model: variable names and values, {name} placeholders, declared
// variables, non-empty paths, a reason for every no-counterpart entry. Throws equiv::Error.
void CheckComponentMapping(const ComponentMapping& mapping);

// Every entry once per combination of the values of the variables it uses (an entry without
// variables once), in entry order; no-counterpart entries included. Checks the mapping first,
// and refuses more than kMaxExpandedEntries results.
inline constexpr std::size_t kMaxExpandedEntries = std::size_t{1} << 16;
std::vector<ExpandedEntry> Expand(const ComponentMapping& mapping, const ModelConfig& config);

void PrintTo(const MappingEntry& entry, std::ostream* os);
void PrintTo(const VariableValues& values, std::ostream* os);

}  // namespace equiv

#endif  // EQUIV_GENERATORS_COMPONENT_MAPPING_H_
