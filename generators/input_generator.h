// Inputs for component cases: the same seeded input feeds the reference in fp32, in bf16 and
// the port. Several kinds, because some faults show only under some inputs (a bf16 softmax
// over many keys, a sliding window, positions past the original context).
//
//   ComponentInput x = MakeComponentInput(config, kind, {.kind = InputKind::kLongSequence},
//                                         device);
#ifndef EQUIV_GENERATORS_INPUT_GENERATOR_H_
#define EQUIV_GENERATORS_INPUT_GENERATOR_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/device/device_config.h"
#include "libequiv/models/component_input.h"
#include "libequiv/models/component_kind.h"
#include "libequiv/models/input_kind.h"

namespace equiv {

struct InputSpec {
  InputKind kind = InputKind::kNormal;
  int64_t positions = 24;  // rows, except for kLongSequence
  uint64_t seed = 1;
  // The routing kinds (kNearTiedRouter, kOneExpert) aim at the layer's router weight
  // [experts, hidden] and need it; `top_k` is the config's num_experts_per_tok.
  const nn::Matrix* router_weight = nullptr;
};

// Long enough to pass a sliding window and the rope scaling's original context three times
// over, and at least 64 keys; at most max_position_embeddings and the largest bucket.
int64_t LongSequenceLength(const ModelConfig& config, const device::DeviceConfig& device);

// Inputs of the shape the kind takes (component_kind.h): hidden [n, columns], random ids,
// positions 0..n-1. Which input kinds apply to which component is the family table's word
// (ComponentKind::inputs). Throws equiv::Error for a routing kind without a router weight of
// the config's shape.
ComponentInput MakeComponentInput(const ModelConfig& config, const ComponentKind& component,
                                  const InputSpec& spec, const device::DeviceConfig& device = {});

}  // namespace equiv

#endif  // EQUIV_GENERATORS_INPUT_GENERATOR_H_
