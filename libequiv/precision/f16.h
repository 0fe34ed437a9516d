// float <-> IEEE binary16, bit-exact with PyTorch's tensor.to(torch.float16): round to
// nearest even, subnormals kept, |x| >= 65520 to infinity, NaN to the quiet NaN 0x7E00
// with the input's sign.
#ifndef EQUIV_LIBEQUIV_PRECISION_F16_H_
#define EQUIV_LIBEQUIV_PRECISION_F16_H_

#include <bit>
#include <cstdint>

namespace equiv {

constexpr std::uint16_t FloatToF16Bits(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  std::uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) return sign | 0x7E00u;   // NaN
  if (magnitude >= 0x477FF000u) return sign | 0x7C00u;  // >= 65520 rounds to infinity
  if (magnitude < 0x38800000u) {
    // Below 2^-14 the result is subnormal with spacing 2^-24: adding 0.5f (whose ulp is
    // 2^-24) lets the float adder round to nearest even for us.
    const float shifted = std::bit_cast<float>(magnitude) + 0.5f;
    return sign | static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(shifted) - 0x3F000000u);
  }
  // Normal: rebias the exponent (127 -> 15), round half to even on the 13 dropped bits.
  const std::uint32_t lowest_kept_bit = (magnitude >> 13) & 1u;
  magnitude += 0xC8000FFFu + lowest_kept_bit;  // 0xC8000000 == -(112 << 23) mod 2^32
  return sign | static_cast<std::uint16_t>(magnitude >> 13);
}

constexpr float F16BitsToFloat(std::uint16_t half) {
  const std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
  const std::uint32_t exponent = (half >> 10) & 0x1Fu;
  const std::uint32_t mantissa = half & 0x3FFu;
  if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
  if (exponent == 0) {
    // Subnormal (or zero): mantissa * 2^-24 is exact in float.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign != 0 ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// The f16 value nearest to `value`, as a float.
constexpr float RoundToF16(float value) { return F16BitsToFloat(FloatToF16Bits(value)); }

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_PRECISION_F16_H_
