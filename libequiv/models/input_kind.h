// The kinds of generated input a component case runs on. Several, because some faults show
// only under some inputs (a bf16 softmax over many keys, a sliding window, positions past the
// original context, an eps that matters only for small values).
#ifndef EQUIV_LIBEQUIV_MODELS_INPUT_KIND_H_
#define EQUIV_LIBEQUIV_MODELS_INPUT_KIND_H_

#include <string_view>

namespace equiv {

enum class InputKind {
  kNormal,           // N(0, 1)
  kUniform,          // U(-1, 1)
  kOutlierChannels,  // heavy tails plus a few channels 30-60x larger, like a residual stream
  kSmallMagnitude,   // N(0, 1e-3^2): where an eps or an underflow matters
  kLongSequence,     // N(0, 1) over LongSequenceLength positions
  // Mixture of experts, aimed at the layer's router weight: on every other row the k-th and
  // (k+1)-th router logits tie (bf16 decides), on the others they differ by a few bf16 errors.
  kNearTiedRouter,
  // Every token close to one direction that sends it to the same expert: one expert gets all
  // of them (capacity, expert-parallel load).
  kOneExpert,
  // Anisotropic hidden states, as trained models' are: N(0, 1) per row plus one direction
  // shared by every row, three times as large (cosine between two rows ~0.9). Attention scores
  // then carry a large offset common to a query's keys, which a softmax that subtracts its max
  // ignores; the fp16 regime's own kind (RegimeInputKinds), where raw scores past ~11.09
  // overflow exp.
  kSharedDirection,
};

std::string_view InputKindName(InputKind kind);  // "normal", "long_sequence", ...
// Throws equiv::Error naming the text and the kinds there are.
InputKind InputKindFromName(std::string_view name);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_INPUT_KIND_H_
