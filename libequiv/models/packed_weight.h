// A parameter in the packed form of a weight-only regime (int8 per output channel, MXFP4
// blocks and scales), as a quantized checkpoint ships it and a device kernel reads it. Made by
// RegimePackedWeights (models/regime.h) from float weights, or kept by the loader from the
// checkpoint's own bytes (LoadStateDict, LoadParameters with `shipped`; LoadCheckpoint in
// families/registry.h).
#ifndef EQUIV_LIBEQUIV_MODELS_PACKED_WEIGHT_H_
#define EQUIV_LIBEQUIV_MODELS_PACKED_WEIGHT_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "libequiv/precision/int8_weight.h"
#include "libequiv/precision/mxfp4.h"

namespace equiv {

enum class WeightConversion { kNone, kInt8PerChannel, kMxfp4 };

// One parameter packed: rows along the output channel, so the blocks (MXFP4) and the scales
// (int8) run along the input channel and the output channel as the formats define. A rank-3
// parameter (stacked experts, [E, in, out] in HF's module layout) is packed per expert from
// [E, out, in], as GPT-OSS checkpoints ship it.
struct PackedWeight {
  WeightConversion format = WeightConversion::kNone;
  bool experts = false;          // rank 3: dequantize to [E, out, in], then transpose
  Mxfp4Tensor mxfp4;             // kMxfp4: blocks [..., out, G, 16], scales [..., out, G]
  std::vector<Int8Weight> int8;  // kInt8PerChannel: one [out, in] per expert (one for rank 2)
};
// By parameter name (HF's).
using PackedWeights = std::map<std::string, PackedWeight, std::less<>>;

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_PACKED_WEIGHT_H_
