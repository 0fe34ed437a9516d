// The cases of a generated component suite: one per mapped component and layer, in bottom-up
// order, from a component mapping checked against the reference model's module tree.
//
//   std::vector<ComponentCase> cases = SuiteCases(LoadComponentMapping(path), config);
#ifndef EQUIV_GENERATORS_SUITE_CASES_H_
#define EQUIV_GENERATORS_SUITE_CASES_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "generators/component_case.h"
#include "generators/component_mapping.h"
#include "generators/layer_sampling.h"
#include "libequiv/config/model_config.h"
#include "libequiv/models/component_kind.h"

namespace equiv {

// Expands the mapping, names each entry's component from its source (reference) paths, and
// keeps the layers `sampling` keeps. Throws equiv::Error naming the entry and its variable
// values for a source path the reference lacks, a source set that is no runnable component, a
// layer beyond num_hidden_layers, or a component and layer mapped twice. Rules:
// docs/component-mapping.md.
std::vector<ComponentCase> SuiteCases(const ComponentMapping& mapping, const ModelConfig& config,
                                      const LayerSampling& sampling = {});

// The kind of the family's table a set of source (HF) module paths runs, and its layer (-1 for
// whole-model components, and for a kind whose layer comes from the port's paths, such as the
// shared rotary embedding); nullopt when it is none: {"model.layers.3.mlp"} -> (mlp, 3); the
// three q/k/v_proj of a layer -> (qkv_proj, layer).
struct KindAtLayer {
  const ComponentKind* kind = nullptr;
  int64_t layer = -1;
};
std::optional<KindAtLayer> ReferenceComponentOf(const std::vector<std::string>& source_paths,
                                                std::span<const ComponentKind> table);

// The layer an HF module path names through a table pattern's "{i}" ("model.layers.{i}.mlp"
// and "model.layers.3.mlp" give 3), -1 for a pattern without "{i}" that equals the path,
// nullopt when the path does not match.
std::optional<int64_t> MatchHfPath(std::string_view pattern, std::string_view path);

// A case's place in the bottom-up order the family's table gives, as one sortable integer:
// by order_group, then layer (a model-level kind before every layer unless after_layers), then
// sub_order. SuiteCases numbers its cases in this order; a hand-written or dumped case records
// the key itself as its order.
int64_t BottomUpKey(const ComponentKind& kind, int64_t layer);

// The module sets a mapping entry's source can name, for messages: "model.embed_tokens;
// model.layers.N.input_layernorm; model.layers.N.self_attn.q_proj, k_proj and v_proj
// together; ...".
std::string SupportedModuleSets(std::span<const ComponentKind> table);

// The family's built-in port's suite: its mapping (BuiltinPortMapping), sampled.
std::vector<ComponentCase> SuiteCasesForPort(const ModelConfig& config,
                                             const LayerSampling& sampling = {});

}  // namespace equiv

#endif  // EQUIV_GENERATORS_SUITE_CASES_H_
