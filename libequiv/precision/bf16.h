// float <-> bfloat16, bit-exact with PyTorch's tensor.to(torch.bfloat16) for every non-NaN
// float: round to nearest even, subnormals kept, overflow to infinity. Every NaN becomes
// the quiet NaN 0x7FC0 (PyTorch's own NaN bits depend on its code path; see
// docs/precision.md).
#ifndef EQUIV_LIBEQUIV_PRECISION_BF16_H_
#define EQUIV_LIBEQUIV_PRECISION_BF16_H_

#include <bit>
#include <cstdint>

namespace equiv {

constexpr std::uint16_t kBf16QuietNaN = 0x7FC0;

constexpr std::uint16_t FloatToBf16Bits(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return kBf16QuietNaN;
  // Adding 0x7FFF plus the lowest kept bit rounds half to even; a carry into the
  // exponent is exactly the right result (including overflow to infinity).
  const std::uint32_t rounding_bias = 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>((bits + rounding_bias) >> 16);
}

constexpr float Bf16BitsToFloat(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

// The bf16 value nearest to `value`, as a float.
constexpr float RoundToBf16(float value) { return Bf16BitsToFloat(FloatToBf16Bits(value)); }

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_PRECISION_BF16_H_
