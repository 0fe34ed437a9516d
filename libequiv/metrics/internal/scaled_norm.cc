#include "libequiv/metrics/internal/scaled_norm.h"

#include <algorithm>
#include <cmath>

namespace equiv::internal {
namespace {

// Blue's constants for double (LAPACK's la_constants): values above kBig are scaled down by
// 2^-538 before squaring, values below kSmall up by 2^537, so every square is a normal number.
constexpr double kSmall = 0x1p-511, kBig = 0x1p486;
constexpr int kBigShift = -538, kSmallShift = 537;
constexpr double kScaleBig = 0x1p-538, kScaleSmall = 0x1p537;

double Square(double x) { return x * x; }

}  // namespace

void ScaledSumSquares::Add(double abs_value) {
  if (abs_value > kBig) {
    big += Square(abs_value * kScaleBig);
  } else if (abs_value < kSmall) {
    small += Square(abs_value * kScaleSmall);
  } else {
    mid += Square(abs_value);
  }
}

// 2 * abs_half overflowed, so it is big: (2 * abs_half * 2^-538)^2, scaled exactly.
void ScaledSumSquares::AddTwice(double abs_half) { big += Square(abs_half * (2 * kScaleBig)); }

void ScaledSumSquares::Merge(const ScaledSumSquares& later) {
  big += later.big;
  mid += later.mid;
  small += later.small;
}

double ScaledNorm::Get() const { return std::ldexp(value, exponent); }

ScaledNorm NormOf(double sum_squares) { return {std::sqrt(sum_squares), 0}; }

// As LAPACK's dnrm2: the largest range that is present decides the scale; a smaller range
// can only change the sum in its last bits when the big one is present, so it is dropped.
ScaledNorm NormOf(const ScaledSumSquares& sums) {
  if (sums.big > 0) {
    // mid * 2^-1076, in two steps so that the product does not underflow early.
    const double big = sums.mid > 0 ? sums.big + (sums.mid * kScaleBig) * kScaleBig : sums.big;
    return {std::sqrt(big), -kBigShift};
  }
  if (sums.small > 0) {
    if (sums.mid > 0) {
      const double mid = std::sqrt(sums.mid), small = std::sqrt(sums.small) / kScaleSmall;
      const double lo = std::min(mid, small), hi = std::max(mid, small);
      return {hi * std::sqrt(1 + Square(lo / hi)), 0};
    }
    return {std::sqrt(sums.small), -kSmallShift};
  }
  return {std::sqrt(sums.mid), 0};
}

double Quotient(ScaledNorm a, ScaledNorm b) {
  return std::ldexp(a.value / b.value, a.exponent - b.exponent);
}

ScaledNorm SumOf(ScaledNorm a, double factor, ScaledNorm b) {
  const int e = std::max(a.exponent, b.exponent);
  return {std::ldexp(a.value, a.exponent - e) + factor * std::ldexp(b.value, b.exponent - e), e};
}

bool AtMost(ScaledNorm a, double factor, ScaledNorm b) {
  const int e = std::max(a.exponent, b.exponent);
  return std::ldexp(a.value, a.exponent - e) <= factor * std::ldexp(b.value, b.exponent - e);
}

}  // namespace equiv::internal
