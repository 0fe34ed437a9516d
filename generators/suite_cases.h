// The cases of a generated component suite: one per mapped component and layer, in bottom-up
// order, from a component mapping checked against the reference model's module tree.
//
//   std::vector<ComponentCase> cases = SuiteCases(LoadComponentMapping(path), config);
#ifndef EQUIV_GENERATORS_SUITE_CASES_H_
#define EQUIV_GENERATORS_SUITE_CASES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libequiv/models/component.h"
#include "libequiv/config/model_config.h"
#include "generators/component_case.h"
#include "generators/component_mapping.h"
#include "generators/layer_sampling.h"

namespace equiv {

// Expands the mapping, names each entry's component from its source (reference) paths, and
// keeps the layers `sampling` keeps. Throws equiv::Error naming the entry and its variable
// values for a source path the reference lacks, a source set that is no runnable component, a
// layer beyond num_hidden_layers, or a component and layer mapped twice. Rules:
// docs/component-mapping.md.
std::vector<ComponentCase> SuiteCases(const ComponentMapping& mapping, const ModelConfig& config,
                                      const LayerSampling& sampling = {});

// The reference component a set of source (HF) module paths runs, and its layer (-1 for
// whole-model components and the shared rotary embedding); nullopt when it is none:
// {"model.layers.3.mlp"} -> (mlp, 3); the three q/k/v_proj of a layer -> (qkv_proj, layer).
std::optional<std::pair<Component, int64_t>> ReferenceComponentOf(
    const std::vector<std::string>& source_paths);

// The built-in port's suite: SuiteCases(BuiltinPortMapping(), config, sampling).
std::vector<ComponentCase> SuiteCasesForPort(const ModelConfig& config,
                                             const LayerSampling& sampling = {});

// "layers_3_mlp" for a per-layer component, "embedding" otherwise.
std::string CaseName(Component component, int64_t layer);

}  // namespace equiv

#endif  // EQUIV_GENERATORS_SUITE_CASES_H_
