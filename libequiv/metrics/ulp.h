// ULP distance between two values, in units of a precision's ulp.
#ifndef EQUIV_LIBEQUIV_METRICS_ULP_H_
#define EQUIV_LIBEQUIV_METRICS_ULP_H_

#include <bit>
#include <cstdint>

#include "libequiv/tensor/dtype.h"

namespace equiv {

// Distance between a and b counted on the float32 lattice and scaled to `grid` ulps:
// exact for bf16 and f32 values, for f16 exact in its normal range. +0 and -0 are 0 apart;
// a NaN is infinitely far from everything.
double UlpDistance(double a, double b, DType grid);

// Position of a float on a line where adjacent floats are one apart.
constexpr std::int64_t OrderedFloatBits(float value) {
  const auto bits = std::bit_cast<std::uint32_t>(value);
  const auto magnitude = static_cast<std::int64_t>(bits & 0x7FFFFFFFu);
  return (bits & 0x80000000u) != 0 ? -magnitude : magnitude;
}

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_METRICS_ULP_H_
