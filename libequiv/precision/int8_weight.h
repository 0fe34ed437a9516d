// int8 weight-only quantization with one scale per output channel, as int8 checkpoints ship
// linear weights (compressed-tensors: `<name>` I8 [out, in] and `<name>_scale` [out] or
// [out, 1]): w[o, i] = q[o, i] * scale[o], computed in float32.
//
//   Int8Weight q = QuantizeInt8PerChannel("q_proj.weight", w);       // w: [out, in]
//   Tensor back = DequantizeInt8(name, q.ValuesView(), q.scales);     // float32 [out, in]
#ifndef EQUIV_LIBEQUIV_PRECISION_INT8_WEIGHT_H_
#define EQUIV_LIBEQUIV_PRECISION_INT8_WEIGHT_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "libequiv/io/safetensors.h"
#include "libequiv/tensor/tensor.h"
#include "libequiv/tensor/tensor_view.h"

namespace equiv {

inline constexpr int kInt8WeightMax = 127;  // symmetric: -127 .. 127

struct Int8Weight {
  Shape shape;                      // [out, in]
  std::vector<std::int8_t> values;  // row-major
  Tensor scales;                    // float32 [out]
  SafetensorsRawTensor ValuesView() const;
};

// Which axis of the weight the scales run along. kPerOutputChannel is the format; kPerInput
// exists so the fault catalog can model a loader that applies them per column.
enum class Int8ScaleAxis { kPerOutputChannel, kPerInputChannel };

// w[o, i] = float32(q[o, i]) * scale[o] (float32 product): a float32 tensor [out, in].
// `scales` (f32, bf16, f16 or f64) is [out] or [out, 1]. Throws equiv::Error naming `name`
// for a weight that is not I8 of rank 2, scales of another shape (with both shapes: scales of
// length `in` are per column, not per row), and a NaN, infinite or negative scale (its index).
Tensor DequantizeInt8(std::string_view name, const SafetensorsRawTensor& weight,
                      const TensorView& scales,
                      Int8ScaleAxis axis = Int8ScaleAxis::kPerOutputChannel);

// Symmetric per-output-channel quantization of a float32 [out, in] weight:
// scale[o] = max_i |w[o, i]| / 127 (1 for an all-zero row), q = round(w / scale) to nearest,
// ties to even, clamped to [-127, 127]. Throws equiv::Error naming `name` for a rank other
// than 2 or a non-finite value (with its index).
Int8Weight QuantizeInt8PerChannel(std::string_view name, const Tensor& weight);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_PRECISION_INT8_WEIGHT_H_
