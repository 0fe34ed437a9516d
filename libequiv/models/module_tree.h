// A model's module tree as PyTorch prints it: names, classes, parameter shapes.
#ifndef EQUIV_LIBEQUIV_MODELS_MODULE_TREE_H_
#define EQUIV_LIBEQUIV_MODELS_MODULE_TREE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace equiv {

struct ModuleParameter {
  std::string name;  // "weight", "bias"
  std::vector<int64_t> shape;

  bool operator==(const ModuleParameter&) const = default;
};

struct ModuleNode {
  std::string name;        // the attribute name in its parent ("q_proj", "0"); "" at the root
  std::string class_name;  // "LlamaAttention", "ColumnParallelLinear"
  std::vector<ModuleParameter> parameters;
  std::vector<ModuleNode> children;
  // > 1 in a compressed tree (tree_format.h): this node stands for `repeat` identical siblings
  // of a ModuleList and is named after their index range ("0..47"). Last, so that the
  // aggregate initialisations {name, class, parameters, children} stay valid.
  int64_t repeat = 1;

  bool operator==(const ModuleNode&) const = default;

  // The child with this name; nullptr when absent.
  const ModuleNode* Child(const std::string& child_name) const;
};

// Dotted paths of every module below the root, depth first: "model", "model.embed_tokens", ...
std::vector<std::string> FlatPaths(const ModuleNode& root);

// The node at a dotted path ("" is the root); nullptr when there is none.
const ModuleNode* FindModule(const ModuleNode& root, const std::string& path);

// An indented listing, one module per line with its class and parameter shapes; a folded
// node of a compressed tree shows its count:
//   (0..31): 32 x LlamaDecoderLayer
//     (self_attn): LlamaAttention
//       (q_proj): Linear  weight [4096, 4096]
std::string PrettyTree(const ModuleNode& root);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_MODULE_TREE_H_
