// The table of structural differences between a HuggingFace tree and an NxD-Inference port
// that are expected (seeds, "Expected structural differences"). Data, so that a port with
// other conventions extends it instead of the diff code:
//
//   ExpectedDifferences table = DefaultExpectedDifferences();
//   table.extras.push_back({"kv_mgr", "KVCacheManager", "neuron_infrastructure", "KV cache"});
//   TreeDiff diff = DiffTrees(reference, port, {.table = &table});
#ifndef EQUIV_LIBEQUIV_SCAFFOLDING_EXPECTED_DIFFERENCES_H_
#define EQUIV_LIBEQUIV_SCAFFOLDING_EXPECTED_DIFFERENCES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace equiv {

// A port class standing for a reference class. One '*' in source_class matches any text, and
// a '*' in target_class stands for that text: {"*", "Neuron*"} is the class-prefix rule.
struct ClassRename {
  std::string source_class;
  std::string target_class;
  std::string category;
  std::string reason;
};

// How the parameters of a renamed module relate to its counterpart's.
enum class ShapeRelation {
  kSame,   // each target has the source's parameters (up to TP sharding)
  kFused,  // one target holds every source fused into it, concatenated along dim 0 in order
  kSplit,  // the targets' parameters concatenated along dim 0 are the source's
};

// A reference module found under another path in the port. The rule applies to a reference
// path ending in source_suffix (on '.' boundaries); the targets replace that suffix. A target
// with "{i}" means every index of the list before it ("layers.{i}.self_attn.rotary_emb").
// The first rule whose targets exist in the port wins; without one, the path stays.
struct PathRename {
  std::string source_suffix;
  std::vector<std::string> target_suffixes;
  ShapeRelation shape = ShapeRelation::kSame;
  std::string category = {};
  std::string reason = {};
};

// A port module with no reference counterpart that is expected (a wrapper around renamed
// modules, framework infrastructure). Matches by name ("" = any) and class; its children are
// still compared.
struct ExpectedExtra {
  std::string name;
  std::string target_class;
  std::string category;
  std::string reason;
};

// A port parameter that may be stored per TP rank: `dim` is divided by the TP degree.
struct ShardedParameter {
  std::string target_class;
  std::string parameter;
  int64_t dim = 0;
};

struct ExpectedDifferences {
  std::vector<ClassRename> classes;
  std::vector<PathRename> paths;
  std::vector<ExpectedExtra> extras;
  std::vector<ShardedParameter> sharded;
  // Classes of activation modules: a missing one is reported as missing_activation.
  std::vector<std::string> activation_classes;

  // The first class rule that turns source_class into target_class; nullptr when none does.
  const ClassRename* FindClassRename(const std::string& source_class,
                                     const std::string& target_class) const;
  // The first extra rule matching the port module; nullptr when none does.
  const ExpectedExtra* FindExtra(const std::string& name, const std::string& target_class) const;
  // The sharded dimension of a port parameter; nullopt when it is not sharded.
  std::optional<int64_t> ShardedDim(const std::string& target_class,
                                    const std::string& parameter) const;
  bool IsActivation(const std::string& class_name) const;
};

// The seeds' table for the llama family (categories listed in docs/scaffolding.md).
const ExpectedDifferences& DefaultExpectedDifferences();

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_SCAFFOLDING_EXPECTED_DIFFERENCES_H_
