// One case of a generated component suite: a mapped component at one layer, with the module
// paths it covers on both sides, in the suite's bottom-up order.
#ifndef EQUIV_GENERATORS_COMPONENT_CASE_H_
#define EQUIV_GENERATORS_COMPONENT_CASE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "libequiv/models/component.h"

namespace equiv {

struct ComponentCase {
  std::string name;  // readable and a valid gtest name: "layers_3_mlp", "embedding", "lm_head"
  Component component = Component::kEmbedding;
  int64_t layer = -1;                     // the layer for per-layer components, else -1
  std::vector<std::string> source_paths;  // reference modules, variables substituted
  std::vector<std::string> target_paths;  // port modules, variables substituted
  std::string reasoning;                  // from the mapping entry
  int64_t order = 0;                      // position in the bottom-up order, from 0
};

}  // namespace equiv

#endif  // EQUIV_GENERATORS_COMPONENT_CASE_H_
