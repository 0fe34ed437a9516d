// Does an expanded component mapping cover both trees? Every mapped path must exist in its
// tree, and every leaf module must be mapped, itself or through an ancestor.
//
//   std::vector<MappedPaths> mapping = {{0, {"model.embed_tokens"}, {"model.embed_tokens"}}, ...};
//   MappingCoverage coverage = CheckMappingCoverage(mapping, reference_tree, port_tree);
//   EXPECT_TRUE(coverage.ok()) << FormatCoverage(coverage);
#ifndef EQUIV_LIBEQUIV_SCAFFOLDING_MAPPING_COVERAGE_H_
#define EQUIV_LIBEQUIV_SCAFFOLDING_MAPPING_COVERAGE_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "generators/component_mapping.h"
#include "libequiv/models/module_tree.h"

namespace equiv {

// One entry of component_mapping.json with its {i} already expanded to concrete layer paths.
// An empty side documents "no counterpart".
struct MappedPaths {
  int64_t entry = 0;  // the entry's index in the mapping file
  std::vector<std::string> source;
  std::vector<std::string> target;
};

// A mapped path that is not a module of its tree.
struct MissingMappedPath {
  int64_t entry = 0;
  std::string path;

  bool operator==(const MissingMappedPath&) const = default;
};

struct MappingCoverage {
  std::vector<MissingMappedPath> missing_source;  // in mapping order
  std::vector<MissingMappedPath> missing_target;
  std::vector<std::string> unmapped_source_leaves;  // in tree order (depth first)
  std::vector<std::string> unmapped_target_leaves;

  bool ok() const {
    return missing_source.empty() && missing_target.empty() && unmapped_source_leaves.empty() &&
           unmapped_target_leaves.empty();
  }
};

// The paths of a parsed mapping, expanded for a model (component_mapping.h).
std::vector<MappedPaths> MappedPathsOf(const std::vector<ExpandedEntry>& entries);

// A leaf is a module without children; it is covered when it or an ancestor is mapped ("" maps
// the whole tree). Both trees are full (not compressed).
MappingCoverage CheckMappingCoverage(const std::vector<MappedPaths>& mapping,
                                     const ModuleNode& source, const ModuleNode& target);

// {"ok", "missing_source": [{"entry", "path"}], "missing_target", "unmapped_source_leaves",
// "unmapped_target_leaves"}.
nlohmann::json ToJson(const MappingCoverage& coverage);

// "mapping coverage: 1 mapped path absent, 2 unmapped leaves" and one line per problem.
std::string FormatCoverage(const MappingCoverage& coverage);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_SCAFFOLDING_MAPPING_COVERAGE_H_
