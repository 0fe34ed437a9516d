// Inputs for component cases: the same seeded input feeds the reference in fp32, in bf16 and
// the port. Several kinds, because some faults show only under some inputs (a bf16 softmax
// over many keys, a sliding window, positions past the original context).
//
//   ComponentInput x = MakeComponentInput(config, Component::kAttention,
//                                         {.kind = InputKind::kLongSequence}, device);
#ifndef EQUIV_GENERATORS_INPUT_GENERATOR_H_
#define EQUIV_GENERATORS_INPUT_GENERATOR_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "libequiv/device/device_config.h"
#include "libequiv/models/component.h"
#include "libequiv/config/model_config.h"

namespace equiv {

enum class InputKind {
  kNormal,           // N(0, 1)
  kUniform,          // U(-1, 1)
  kOutlierChannels,  // heavy tails plus a few channels 30-60x larger, like a residual stream
  kSmallMagnitude,   // N(0, 1e-3^2): where an eps or an underflow matters
  kLongSequence,     // N(0, 1) over LongSequenceLength positions
};

std::string_view InputKindName(InputKind kind);  // "normal", "long_sequence", ...
// Throws equiv::Error naming the text and the kinds there are.
InputKind InputKindFromName(std::string_view name);

struct InputSpec {
  InputKind kind = InputKind::kNormal;
  int64_t positions = 24;  // rows, except for kLongSequence
  uint64_t seed = 1;
};

// Whether a kind says anything new for a component: long sequences only for the components
// that see positions (rotary, attention, decoder layer, causal LM); outlier channels only for
// those that see the residual stream (norms, decoder layer); value kinds not for the
// components that take token ids.
bool InputKindApplies(InputKind kind, Component component);

// Long enough to pass a sliding window and the rope scaling's original context three times
// over, and at least 64 keys; at most max_position_embeddings and the largest bucket.
int64_t LongSequenceLength(const ModelConfig& config, const device::DeviceConfig& device);

// Inputs as component.h describes them: hidden [n, hidden] (q | k for rotary), random ids,
// positions 0..n-1.
ComponentInput MakeComponentInput(const ModelConfig& config, Component component,
                                  const InputSpec& spec, const device::DeviceConfig& device = {});

}  // namespace equiv

#endif  // EQUIV_GENERATORS_INPUT_GENERATOR_H_
