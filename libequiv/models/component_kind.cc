#include "libequiv/models/component_kind.h"

#include <algorithm>

namespace equiv {

const ComponentKind* FindComponentKind(std::span<const ComponentKind> table,
                                       std::string_view name) {
  for (const ComponentKind& kind : table) {
    if (kind.name == name) return &kind;
  }
  return nullptr;
}

std::string CaseName(const ComponentKind& kind, int64_t layer) {
  const std::string name(kind.name);
  return kind.per_layer ? "layers_" + std::to_string(layer) + "_" + name : name;
}

std::vector<std::string> HfPathsAt(const ComponentKind& kind, int64_t layer) {
  std::vector<std::string> paths;
  for (const std::string_view pattern : kind.hf_paths) {
    std::string path(pattern);
    const std::size_t at = path.find("{i}");
    if (at != std::string::npos) path.replace(at, 3, std::to_string(layer));
    paths.push_back(std::move(path));
  }
  return paths;
}

bool Applies(const ComponentKind& kind, InputKind input) {
  return std::find(kind.inputs.begin(), kind.inputs.end(), input) != kind.inputs.end();
}

int64_t InputColumns(InputShape shape, const ModelConfig& config) {
  switch (shape) {
    case InputShape::kIds:
      return 0;
    case InputShape::kHidden:
      return config.hidden_size;
    case InputShape::kQueryKey:
      return (config.num_attention_heads + config.num_key_value_heads) * config.head_dim;
    case InputShape::kQueryHeads:
      return config.num_attention_heads * config.head_dim;
    case InputShape::kKeyHeads:
      return config.num_key_value_heads * config.head_dim;
  }
  return 0;
}

}  // namespace equiv
