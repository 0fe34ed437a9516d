// A kind of component a model family's suite tests: one row of the family's component table
// (architecture.h). Suite cases, the bottom-up order, the inputs that apply, thresholds and
// localization's root-cause texts all read these rows; nothing outside a family's own files
// lists its components.
//
//   const ComponentKind* mlp = FindComponentKind(family.Components(), "mlp");
//   if (mlp->per_layer) ...
#ifndef EQUIV_LIBEQUIV_MODELS_COMPONENT_KIND_H_
#define EQUIV_LIBEQUIV_MODELS_COMPONENT_KIND_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/models/input_kind.h"

namespace equiv {

// What a component takes, one row per position: token ids, hidden states [n, hidden], the
// q | k columns of rotary embedding [n, (heads + kv_heads) * head_dim], or the query or key
// heads alone [n, heads * head_dim], [n, kv_heads * head_dim] (per-head q/k norms).
enum class InputShape { kIds, kHidden, kQueryKey, kQueryHeads, kKeyHeads };

// What localization says a root cause usually is in this kind of component.
struct RootCauseTexts {
  std::string_view precision_ordering = {};  // possible_bug, likely_bug bands
  std::string_view missing_algorithm = {};   // missing_algorithm band
  std::string_view wrong_computation = {};   // wrong_computation band
};

// Every member has a default, so tables use designated initializers for what they set.
struct ComponentKind {
  std::string_view name = {};  // "mlp": case names, results files, tau_by_component, fault records
  // The reference (HF) module paths the kind runs, {i} for the layer: {"model.layers.{i}.mlp"};
  // a set where the reference has no single module for it (the three q/k/v projections).
  std::vector<std::string_view> hf_paths = {};
  std::string_view contains = {};  // what the component computes, for docs and reports
  bool per_layer = false;
  // The bottom-up order: by group, then layer (model-level kinds come before every layer
  // unless after_layers), then sub_order.
  int order_group = 0;
  int sub_order = 0;
  bool after_layers = false;
  InputShape input = InputShape::kHidden;
  bool needs_positions = false;
  std::vector<InputKind> inputs = {};  // the generated inputs that say something new here
  // A router: its output is logits [n, experts], and beside R the experts each token selects
  // are compared exactly where the reference's choice is clear (metrics/routing.h). The routing
  // input kinds aim at the weight of this kind's module ("<hf path>.weight") in its layer.
  bool routing = false;
  // The reference runs one module for the whole model while the port has one per layer (HF's
  // model.rotary_emb): the case's layer comes from the port's paths, and localization follows
  // it into these kinds of the same layer instead of into the modules that contain its path.
  bool layer_from_target = false;
  std::vector<std::string_view> followed_by = {};
  RootCauseTexts causes = {};
};

// The row named `name`; nullptr when the table has none.
const ComponentKind* FindComponentKind(std::span<const ComponentKind> table, std::string_view name);

// "layers_3_mlp" for a per-layer kind, "embedding" otherwise.
std::string CaseName(const ComponentKind& kind, int64_t layer);

// The kind's HF paths with {i} replaced by the layer.
std::vector<std::string> HfPathsAt(const ComponentKind& kind, int64_t layer);

// Whether an input kind applies to the component kind.
bool Applies(const ComponentKind& kind, InputKind input);

// The columns of an input of this shape for the config (0 for ids).
int64_t InputColumns(InputShape shape, const ModelConfig& config);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_COMPONENT_KIND_H_
