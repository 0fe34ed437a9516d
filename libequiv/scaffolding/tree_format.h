// Module trees in the forms stage 0 writes (seeds: model_tree_*_full.json, model_tree_*.json,
// *_flat_paths.txt): full JSON, compressed tree with identical layers folded, `{i}` paths.
//
//   ModuleNode tree = ReferenceModuleTree(config);
//   nlohmann::json full = ToJson(tree);              // ModuleTreeFromJson(full, "x") == tree
//   ModuleNode compressed = CompressTree(tree);      // layers 0..31 -> one node, repeat 32
//   std::string pretty = PrettyTree(compressed);     // "(0..31): 32 x LlamaDecoderLayer"
//   auto paths = CompressedFlatPaths(compressed);    // "model.layers.{i}.mlp", ...
#ifndef EQUIV_LIBEQUIV_SCAFFOLDING_TREE_FORMAT_H_
#define EQUIV_LIBEQUIV_SCAFFOLDING_TREE_FORMAT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/models/module_tree.h"

namespace equiv {

// {"name", "class", "parameters": [{"name", "shape"}], "children": [...]}, plus "repeat" on a
// folded node of a compressed tree. Keys and order: docs/scaffolding.md.
nlohmann::json ToJson(const ModuleNode& root);

// The inverse of ToJson. Throws equiv::Error "<origin>: $.children[1].parameters[0].shape: ..."
// naming the JSON path of a missing or mistyped field, an unknown key, a negative dimension, a
// child name that is empty, duplicated or dotted, or a folded name that disagrees with repeat.
ModuleNode ModuleTreeFromJson(const nlohmann::json& json, std::string_view origin);

// True when the two subtrees have the same classes, parameter names and shapes and child names,
// recursively; the two roots' own names are not compared.
bool SameStructure(const ModuleNode& a, const ModuleNode& b);

// Folds each maximal run of consecutive, structurally identical children of a ModuleList
// (children named 0..n-1) into one child named "first..last" with repeat = the run's length;
// a run of one stays as it is. Nested lists fold too.
ModuleNode CompressTree(const ModuleNode& root);

// The inverse of CompressTree: every folded node becomes `repeat` copies named by index.
// Throws equiv::Error naming a folded node whose name is not "first..last".
ModuleNode ExpandTree(const ModuleNode& compressed);

// FlatPaths of a compressed tree, with a list folded into one node written as an index
// variable, {i} for the outermost folded list, {j} inside it: "model.layers.{i}.mlp". A list
// with several runs keeps their names ("model.layers.0..2.mlp", "model.layers.3.mlp").
std::vector<std::string> CompressedFlatPaths(const ModuleNode& compressed);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_SCAFFOLDING_TREE_FORMAT_H_
