#include "generators/component_mapping.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

#include "libequiv/io/json_reader.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/text_file.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using nlohmann::json;

// Layer indices, like every size in ModelConfig, fit in int32.
constexpr int64_t kMaxValue = std::numeric_limits<int32_t>::max();
constexpr std::string_view kSlidingLayers = "sliding_attention_layers";
constexpr std::string_view kFullLayers = "full_attention_layers";
// Many placeholders in a long path, times many combinations, must not exhaust memory.
constexpr std::size_t kMaxExpandedBytes = std::size_t{64} << 20;

bool IsIdentifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (const char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool IsBlank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// `prefix.key`, or `prefix["key"]` when the key is no identifier (so a message stays one line).
std::string FieldOf(const std::string& prefix, const std::string& key) {
  if (IsIdentifier(key)) return prefix.empty() ? key : prefix + "." + key;
  return prefix + "[" + Quote(key) + "]";
}

std::string Index(const std::string& prefix, std::size_t i) {
  return prefix + "[" + std::to_string(i) + "]";
}

// A path split into literal text and {name} placeholders.
struct PathPiece {
  std::string text;  // the literal, or the variable's name
  bool is_variable = false;
};

// The problem with a path's placeholders ("" when it is well formed); fills `pieces`.
std::string SplitPath(std::string_view path, std::vector<PathPiece>& pieces) {
  pieces.clear();
  std::string literal;
  std::size_t pos = 0;
  while (pos < path.size()) {
    const char c = path[pos];
    if (c == '}') return "has a '}' at offset " + std::to_string(pos) + " with no '{' before it";
    if (c != '{') {
      literal += c;
      ++pos;
      continue;
    }
    const std::size_t close = path.find('}', pos + 1);
    if (close == std::string_view::npos) {
      return "has a '{' at offset " + std::to_string(pos) + " that is never closed";
    }
    const std::string_view name = path.substr(pos + 1, close - pos - 1);
    if (!IsIdentifier(name)) {
      return "has a malformed placeholder at offset " + std::to_string(pos) +
             " (write {name}, the name an identifier)";
    }
    if (!literal.empty()) pieces.push_back({std::move(literal), false});
    literal.clear();
    pieces.push_back({std::string(name), true});
    pos = close + 1;
  }
  if (!literal.empty()) pieces.push_back({std::move(literal), false});
  return "";
}

std::vector<PathPiece> Pieces(std::string_view path) {
  std::vector<PathPiece> pieces;
  SplitPath(path, pieces);  // checked by CheckComponentMapping before any caller gets here
  return pieces;
}

std::string DeclaredList(const ComponentMapping& m) {
  if (m.variables.empty()) return "no variables are declared";
  std::string list = "declared: ";
  bool first = true;
  for (const auto& [name, values] : m.variables) {
    if (!first) list += ", ";
    list += name;
    first = false;
  }
  return list;
}

void CheckPaths(const ComponentMapping& m, const std::vector<std::string>& paths,
                const std::string& field) {
  std::map<std::string, std::size_t> seen;
  std::vector<PathPiece> pieces;
  for (std::size_t j = 0; j < paths.size(); ++j) {
    const std::string at = m.origin + ": " + Index(field, j) + " = " + Quote(paths[j]);
    if (paths[j].empty()) throw Error(at + " must be a module path, not empty");
    if (const std::string problem = SplitPath(paths[j], pieces); !problem.empty()) {
      throw Error(at + " " + problem);
    }
    for (const PathPiece& piece : pieces) {
      if (piece.is_variable && m.variables.count(piece.text) == 0) {
        throw Error(at + " uses undeclared variable {" + piece.text + "} (" + DeclaredList(m) +
                    ")");
      }
    }
    if (const auto [it, inserted] = seen.emplace(paths[j], j); !inserted) {
      throw Error(at + " repeats " + Index(field, it->second));
    }
  }
}

// An entry's paths split once, the variables it uses, and what expanding it costs.
struct SplitEntry {
  std::vector<std::vector<PathPiece>> source, target;
  std::vector<std::string> names;  // the variables it uses, sorted
  std::size_t combinations = 1;    // capped at kMaxExpandedEntries + 1
  std::size_t max_bytes = 0;       // of one combination's paths, at most
};

SplitEntry Split(const MappingEntry& entry,
                 const std::map<std::string, std::vector<int64_t>>& values) {
  SplitEntry split;
  std::set<std::string> names;
  for (const std::string& path : entry.source) split.source.push_back(Pieces(path));
  for (const std::string& path : entry.target) split.target.push_back(Pieces(path));
  for (const auto* side : {&split.source, &split.target}) {
    for (const std::vector<PathPiece>& pieces : *side) {
      for (const PathPiece& piece : pieces) {
        std::size_t digits = piece.text.size();
        if (piece.is_variable) {
          names.insert(piece.text);
          digits = 1;
          for (const int64_t v : values.at(piece.text)) {
            digits = std::max(digits, std::to_string(v).size());
          }
        }
        split.max_bytes += digits;
      }
    }
  }
  split.names.assign(names.begin(), names.end());
  for (const std::string& name : split.names) {
    const std::size_t n = values.at(name).size();
    split.combinations = n == 0                                         ? 0
                         : split.combinations > kMaxExpandedEntries / n ? kMaxExpandedEntries + 1
                                                                        : split.combinations * n;
  }
  return split;
}

std::string Substitute(const std::vector<PathPiece>& pieces,
                       const std::map<std::string, int64_t>& bindings) {
  std::string out;
  for (const PathPiece& piece : pieces) {
    out += piece.is_variable ? std::to_string(bindings.at(piece.text)) : piece.text;
  }
  return out;
}

std::vector<std::string> PathList(const std::string& origin, const json& value,
                                  const std::string& field) {
  if (!value.is_array()) {
    throw Error(origin + ": " + field + " = " + ShowJson(value) +
                " must be an array of module paths, not " + JsonKindOf(value));
  }
  std::vector<std::string> paths;
  for (std::size_t j = 0; j < value.size(); ++j) {
    if (!value[j].is_string()) {
      throw Error(origin + ": " + Index(field, j) + " = " + ShowJson(value[j]) +
                  " must be a string, not " + JsonKindOf(value[j]));
    }
    paths.push_back(value[j].get<std::string>());
  }
  return paths;
}

std::string Reasoning(const std::string& origin, const json& value, const std::string& field) {
  if (!value.is_string()) {
    throw Error(origin + ": " + field + " = " + ShowJson(value) + " must be a string, not " +
                JsonKindOf(value));
  }
  return value.get<std::string>();
}

MappingEntry EntryFromJson(const std::string& origin, const json& value, std::size_t index) {
  const std::string at = Index("mapping", index);
  MappingEntry entry;
  if (value.is_object()) {
    for (const auto& [key, field_value] : value.items()) {
      if (key != "source" && key != "target" && key != "reasoning") {
        throw Error(origin + ": " + at + " has an unknown field " + Quote(key) +
                    " (fields: source, target, reasoning)");
      }
    }
    for (const char* side : {"source", "target"}) {
      const auto it = value.find(side);
      if (it == value.end()) throw Error(origin + ": " + at + "." + side + " is missing");
      (std::string(side) == "source" ? entry.source : entry.target) =
          PathList(origin, *it, at + "." + side);
    }
    if (const auto it = value.find("reasoning"); it != value.end()) {
      entry.reasoning = Reasoning(origin, *it, at + ".reasoning");
    }
    return entry;
  }
  if (value.is_array()) {
    if (value.size() < 2 || value.size() > 3) {
      throw Error(origin + ": " + at + " = [...] must be [source, target] or [source, target, " +
                  "reasoning], not an array of " + std::to_string(value.size()) + " elements");
    }
    entry.source = PathList(origin, value[0], at + ".source");
    entry.target = PathList(origin, value[1], at + ".target");
    if (value.size() == 3) entry.reasoning = Reasoning(origin, value[2], at + ".reasoning");
    return entry;
  }
  throw Error(origin + ": " + at + " = " + ShowJson(value) +
              " must be an object {\"source\": [...], \"target\": [...], \"reasoning\": \"...\"} "
              "or an array [source, target, reasoning], not " +
              JsonKindOf(value));
}

VariableValues VariableFromJson(const std::string& origin, const json& value,
                                const std::string& field) {
  VariableValues v;
  if (value.is_string() && value.get_ref<const std::string&>() == "num_hidden_layers") {
    v.all_layers = true;
    return v;
  }
  if (value.is_string() && value.get_ref<const std::string&>() == kSlidingLayers) {
    v.layers_of_type = LayerAttention::kSliding;
    return v;
  }
  if (value.is_string() && value.get_ref<const std::string&>() == kFullLayers) {
    v.layers_of_type = LayerAttention::kFull;
    return v;
  }
  if (!value.is_array()) {
    throw Error(origin + ": " + field + " = " + ShowJson(value) +
                " must be \"num_hidden_layers\", \"sliding_attention_layers\", "
                "\"full_attention_layers\" or a list of non-negative integers");
  }
  for (std::size_t k = 0; k < value.size(); ++k) {
    const json& element = value[k];
    const std::string at = origin + ": " + Index(field, k) + " = " + ShowJson(element);
    if (!element.is_number_integer()) {
      throw Error(at + " must be a non-negative integer, not " + JsonKindOf(element));
    }
    if (element.is_number_unsigned() &&
        element.get<uint64_t>() > static_cast<uint64_t>(kMaxValue)) {
      throw Error(at + " must be at most " + std::to_string(kMaxValue));
    }
    v.values.push_back(element.get<int64_t>());
  }
  return v;
}

ComponentMapping FromJson(const json& doc, std::string_view origin_view) {
  const std::string origin(origin_view);
  if (!doc.is_object()) {
    throw Error(origin + ": the top level must be a JSON object with \"mapping\", not " +
                JsonKindOf(doc));
  }
  ComponentMapping m;
  m.origin = origin;
  if (const auto it = doc.find("version"); it != doc.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() != 1) {
      throw Error(origin + ": version = " + ShowJson(*it) + " is not supported (only 1)");
    }
  }
  if (const auto it = doc.find("variables"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) {
      throw Error(origin + ": variables = " + ShowJson(*it) +
                  " must be an object of name: values, not " + JsonKindOf(*it));
    }
    for (const auto& [name, value] : it->items()) {
      m.variables[name] = VariableFromJson(origin, value, FieldOf("variables", name));
    }
  }
  const auto it = doc.find("mapping");
  if (it == doc.end() || it->is_null()) throw Error(origin + ": mapping is missing");
  if (!it->is_array()) {
    throw Error(origin + ": mapping = " + ShowJson(*it) + " must be an array of entries, not " +
                JsonKindOf(*it));
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    m.entries.push_back(EntryFromJson(origin, (*it)[i], i));
  }
  CheckComponentMapping(m);
  return m;
}

}  // namespace

std::vector<int64_t> VariableValues::Resolve(const ModelConfig& config) const {
  if (!all_layers && !layers_of_type) return values;
  std::vector<int64_t> layers;
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const LayerAttention type = config.layer_types.empty()
                                    ? LayerAttention::kFull
                                    : config.layer_types.at(static_cast<std::size_t>(i));
    if (all_layers || type == *layers_of_type) layers.push_back(i);
  }
  return layers;
}

std::string ExpandedEntry::Label() const {
  std::string label = Index("mapping", entry_index);
  if (bindings.empty()) return label;
  label += " (";
  bool first = true;
  for (const auto& [name, value] : bindings) {
    if (!first) label += ", ";
    label += name + " = " + std::to_string(value);
    first = false;
  }
  return label + ")";
}

void CheckComponentMapping(const ComponentMapping& m) {
  for (const auto& [name, v] : m.variables) {
    const std::string field = FieldOf("variables", name);
    if (!IsIdentifier(name)) {
      throw Error(m.origin + ": variables has the name " + Quote(name) +
                  ", which is not an identifier (letters, digits and _, not starting with a "
                  "digit)");
    }
    if (v.all_layers || v.layers_of_type) continue;
    if (v.values.empty())
      throw Error(m.origin + ": " + field + " = [] must list at least one value");
    std::map<int64_t, std::size_t> seen;
    for (std::size_t k = 0; k < v.values.size(); ++k) {
      const std::string at =
          m.origin + ": " + Index(field, k) + " = " + std::to_string(v.values[k]);
      if (v.values[k] < 0) throw Error(at + " must be a non-negative integer");
      if (v.values[k] > kMaxValue)
        throw Error(at + " must be at most " + std::to_string(kMaxValue));
      if (const auto [it, inserted] = seen.emplace(v.values[k], k); !inserted) {
        throw Error(at + " repeats " + Index(field, it->second));
      }
    }
  }
  if (m.entries.empty()) throw Error(m.origin + ": mapping has no entries");
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    const MappingEntry& entry = m.entries[i];
    const std::string at = Index("mapping", i);
    if (entry.source.empty() && entry.target.empty()) {
      throw Error(m.origin + ": " + at + " has neither source nor target paths");
    }
    CheckPaths(m, entry.source, at + ".source");
    CheckPaths(m, entry.target, at + ".target");
    if (entry.NoCounterpart() && IsBlank(entry.reasoning)) {
      throw Error(m.origin + ": " + at + ".reasoning = " + Quote(entry.reasoning) +
                  " must say why the " + (entry.source.empty() ? "target" : "source") +
                  " modules have no counterpart (" + (entry.source.empty() ? "source" : "target") +
                  " is empty)");
    }
  }
}

ComponentMapping ParseComponentMapping(std::string_view json_text, std::string_view origin) {
  const json doc = ParseJson(json_text, origin);
  try {
    return FromJson(doc, origin);
  } catch (const json::exception& e) {
    // Not expected (types are checked before every access); keeps the one-exception contract.
    throw Error(std::string(origin) + ": " + Quote(e.what()));
  }
}

ComponentMapping LoadComponentMapping(const std::string& path) {
  return ParseComponentMapping(ReadTextFile(path), path);
}

std::vector<ExpandedEntry> Expand(const ComponentMapping& m, const ModelConfig& config) {
  CheckComponentMapping(m);
  std::map<std::string, std::vector<int64_t>> values;
  for (const auto& [name, v] : m.variables) values[name] = v.Resolve(config);

  // Count first, so a mapping that would expand to millions of entries (or gigabytes of paths)
  // fails before building anything.
  std::vector<SplitEntry> split;
  std::size_t total = 0;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    split.push_back(Split(m.entries[i], values));
    total += split[i].combinations;
    if (total > kMaxExpandedEntries) {
      throw Error(m.origin + ": " + Index("mapping", i) + " brings the expanded mapping above " +
                  std::to_string(kMaxExpandedEntries) + " entries (every combination of " +
                  "its variables' values counts)");
    }
    // Both factors are bounded (entries, and the text's length times 10 digits): no overflow.
    bytes += split[i].combinations * split[i].max_bytes;
    if (bytes > kMaxExpandedBytes) {
      throw Error(m.origin + ": " + Index("mapping", i) +
                  " brings the expanded module paths above " +
                  std::to_string(kMaxExpandedBytes >> 20) + " MiB");
    }
  }

  std::vector<ExpandedEntry> out;
  out.reserve(total);
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    const SplitEntry& entry = split[i];
    if (entry.combinations == 0) continue;  // a variable without values (a model with no layers)
    // An odometer over the variables' values, the last name fastest.
    const std::vector<std::string>& names = entry.names;
    std::vector<std::size_t> digit(names.size(), 0);
    while (true) {
      ExpandedEntry e;
      e.entry_index = i;
      for (std::size_t k = 0; k < names.size(); ++k) {
        e.bindings[names[k]] = values[names[k]][digit[k]];
      }
      for (const auto& pieces : entry.source) e.source.push_back(Substitute(pieces, e.bindings));
      for (const auto& pieces : entry.target) e.target.push_back(Substitute(pieces, e.bindings));
      e.reasoning = m.entries[i].reasoning;
      out.push_back(std::move(e));
      std::size_t k = names.size();
      while (k > 0 && ++digit[k - 1] == values[names[k - 1]].size()) digit[--k] = 0;
      if (k == 0) break;
    }
  }
  return out;
}

void PrintTo(const MappingEntry& entry, std::ostream* os) {
  *os << json{{"source", entry.source}, {"target", entry.target}, {"reasoning", entry.reasoning}}
             .dump(-1, ' ', false, json::error_handler_t::replace);
}

void PrintTo(const VariableValues& values, std::ostream* os) {
  if (values.layers_of_type) {
    *os << json(*values.layers_of_type == LayerAttention::kSliding ? kSlidingLayers : kFullLayers)
               .dump();
    return;
  }
  *os << (values.all_layers ? json("num_hidden_layers") : json(values.values)).dump();
}

}  // namespace equiv
