// Stage 0's tree diff: the reference (HF) tree against the port's, with every difference the
// expected-difference table explains separated from the real ones (bugs).
//
//   TreeDiff diff = DiffTrees(ReferenceModuleTree(config), PortModuleTree(config, device));
//   EXPECT_TRUE(diff.ok()) << FormatTreeDiff(diff);
//   // diff.expected: {"fused_qkv", "model.layers.{i}.self_attn.q_proj" ->
//   //                 "model.layers.{i}.self_attn.qkv_proj.Wqkv", count 2}, ...
#ifndef EQUIV_LIBEQUIV_SCAFFOLDING_TREE_DIFF_H_
#define EQUIV_LIBEQUIV_SCAFFOLDING_TREE_DIFF_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "libequiv/models/module_tree.h"
#include "libequiv/scaffolding/expected_differences.h"

namespace equiv {

enum class DifferenceKind { kExpected, kReal };

struct TreeDifference {
  DifferenceKind kind = DifferenceKind::kReal;
  // Expected: a category of the table ("tp_sharding", "fused_qkv", ...). Real: missing_module,
  // missing_activation, extra_module, wrong_nesting, layer_count_mismatch, class_mismatch,
  // shape_mismatch, missing_parameter, extra_parameter.
  std::string category;
  // Dotted module paths ("" is the root). An empty source_class: no reference counterpart
  // (extra modules); an empty target_class: the port has nothing at target_path (missing
  // modules name where it was looked for). Expected differences write layer indices as {i}
  // ({j} for a nested list) and fold all layers into one entry.
  std::string source_path;
  std::string target_path;
  std::string source_class;
  std::string target_class;
  std::string reason;
  int64_t count = 1;  // the concrete differences folded into this one

  bool operator==(const TreeDifference&) const = default;
};

struct TreeDiff {
  std::vector<TreeDifference> expected;
  std::vector<TreeDifference> real;

  bool ok() const { return real.empty(); }
};

struct TreeDiffOptions {
  // > 1: port parameters may also be stored per rank (a ShardedParameter's dim divided by it).
  int64_t tp_degree = 1;
  const ExpectedDifferences* table = nullptr;  // nullptr: DefaultExpectedDifferences()
};

// Matches every reference module to the port by path, through the table's path renames, and
// compares classes, parameters and list lengths. A missing or extra subtree is reported once at
// its root; a list of different length once (layer_count_mismatch), not per module of the
// missing layers. Both trees are full (ExpandTree a compressed one). Order: deterministic.
TreeDiff DiffTrees(const ModuleNode& reference, const ModuleNode& port,
                   const TreeDiffOptions& options = {});

// {"ok": bool, "real": [...], "expected": [...]}, each difference with every field above
// ("kind": "expected" | "real").
nlohmann::json ToJson(const TreeDiff& diff);

// A readable listing, real differences first:
//   tree diff: 1 real, 24 expected
//   real:
//     [missing_module] model.norm (LlamaRMSNorm) -> model.norm (none): the port has no ...
std::string FormatTreeDiff(const TreeDiff& diff);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_SCAFFOLDING_TREE_DIFF_H_
