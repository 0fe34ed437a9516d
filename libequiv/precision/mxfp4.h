// MXFP4 (OCP Microscaling Formats v1.0): blocks of 32 E2M1 values sharing one E8M0 scale, as
// GPT-OSS checkpoints ship their experts: `<name>_blocks` uint8 [..., G, 16] (two E2M1 nibbles
// per byte, the low nibble first) and `<name>_scales` uint8 [..., G] (the exponent, bias 127).
// Dequantized exactly as HF's `convert_moe_packed_tensors` (transformers/integrations/mxfp4.py)
// does, without its final transpose of the expert layout (docs/regimes.md).
//
//   Tensor w = DequantizeMxfp4("experts.down_proj", file.Raw("experts.down_proj_blocks"),
//                              file.Raw("experts.down_proj_scales"));  // [..., G * 32]
#ifndef EQUIV_LIBEQUIV_PRECISION_MXFP4_H_
#define EQUIV_LIBEQUIV_PRECISION_MXFP4_H_

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "libequiv/io/safetensors.h"
#include "libequiv/tensor/shape.h"
#include "libequiv/tensor/tensor.h"

namespace equiv {

inline constexpr int kMxfp4BlockSize = 32;      // values per shared scale
inline constexpr int kMxfp4BlockBytes = 16;     // two nibbles per byte
inline constexpr int kE8M0Bias = 127;           // scale 2^(byte - 127)
inline constexpr std::uint8_t kE8M0NaN = 0xFF;  // the one NaN encoding of E8M0

// E2M1 by nibble: sign bit 3, then exponent (2 bits, bias 1) and mantissa (1 bit).
inline constexpr std::array<float, 16> kE2M1Values = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f,
                                                      +4.0f, +6.0f, -0.0f, -0.5f, -1.0f, -1.5f,
                                                      -2.0f, -3.0f, -4.0f, -6.0f};

// How the bytes are read. The defaults are the format; the other settings exist so the fault
// catalog can model a loader that gets one of them wrong.
struct Mxfp4Layout {
  int scale_bias = kE8M0Bias;
  bool low_nibble_first = true;
};

// An MXFP4 tensor owned in memory: what QuantizeMxfp4 makes and a checkpoint stores.
struct Mxfp4Tensor {
  Shape blocks_shape;                // [..., G, 16]
  std::vector<std::uint8_t> blocks;  // row-major
  Shape scales_shape;                // [..., G]
  std::vector<std::uint8_t> scales;
  SafetensorsRawTensor BlocksView() const;
  SafetensorsRawTensor ScalesView() const;
};

// value[..., 32 g + 2 i] = E2M1(low nibble of blocks[..., g, i]) * 2^(scales[..., g] - 127),
// value[..., 32 g + 2 i + 1] the same with the high nibble: a float32 tensor [..., G * 32]
// whose every value is exact in bf16 (or +-inf where 6 * 2^127 overflows, as in PyTorch).
// Throws equiv::Error naming `name` for a dtype other than U8, a last dimension of the blocks
// other than 16, scales whose shape is not the blocks' without their last dimension, and a
// NaN scale (0xFF), with its index.
Tensor DequantizeMxfp4(std::string_view name, const SafetensorsRawTensor& blocks,
                       const SafetensorsRawTensor& scales, const Mxfp4Layout& layout = {});

// The OCP MX quantization of a float tensor [..., K] (K a multiple of 32) in blocks of 32
// along its last axis: scale exponent floor(log2(amax)) - 2 (the largest E2M1 exponent),
// clamped to [-127, 127] (-127 for an all-zero block); each value divided by the scale and
// rounded to the nearest E2M1 value, ties to even, saturating at +-6, the sign kept (so -0).
// Throws equiv::Error naming `name` for a last dimension that is not a multiple of 32 or a
// non-finite value (with its index).
Mxfp4Tensor QuantizeMxfp4(std::string_view name, const Tensor& values);

// [E, a, b] -> [E, b, a]: HF transposes dequantized GPT-OSS experts from the checkpoint's
// [E, out, in] (blocks along `in`) to the module's [E, in, out]. Throws for a rank other than 3.
Tensor TransposeExperts(const Tensor& t);

// The nibble of the E2M1 value nearest to `x` (ties to even, saturating, sign kept).
std::uint8_t RoundToE2M1(float x);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_PRECISION_MXFP4_H_
