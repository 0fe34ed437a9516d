// What a component runs on, for the reference and the port alike, and how a port's padded
// output lines up with it.
#ifndef EQUIV_LIBEQUIV_MODELS_COMPONENT_INPUT_H_
#define EQUIV_LIBEQUIV_MODELS_COMPONENT_INPUT_H_

#include <cstdint>
#include <vector>

#include "libequiv/nn/numerics.h"

namespace equiv {

// One row per position. What a kind reads (component_kind.h, InputShape): token ids, or hidden
// [n, features] (q | k for rotary); positions for the kinds that need them.
struct ComponentInput {
  nn::Matrix hidden;
  std::vector<int64_t> ids;
  std::vector<int64_t> positions;
};

// Rows of a (possibly bucket-padded) output that correspond to the n input positions.
nn::Matrix AlignRows(const nn::Matrix& output, int64_t n);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_COMPONENT_INPUT_H_
