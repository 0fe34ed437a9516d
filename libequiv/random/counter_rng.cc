#include "libequiv/random/counter_rng.h"

#include <bit>
#include <cmath>
#include <limits>
#include <string>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

// log(2) split so that k * kLn2Hi is exact for every exponent k (fdlibm's constants).
constexpr double kLn2Hi = 0x1.62e42feep-1;
constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;
constexpr std::uint64_t kMantissaMask = 0x000FFFFFFFFFFFFFu;
constexpr std::uint64_t kSqrt2Mantissa = 0x6A09E667F3BCDu;  // mantissa bits of sqrt(2)

// Disjoint sub-draw ranges of one counter, so the draws of one element never overlap.
constexpr std::uint64_t kChiUniformSubs = std::uint64_t{1} << 63;
constexpr std::uint64_t kChiNormalSubs = (std::uint64_t{1} << 63) + (std::uint64_t{1} << 62);

}  // namespace

double PortableLog(double x) {
  if (std::isnan(x)) return x;
  if (x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return -std::numeric_limits<double>::infinity();
  if (x == std::numeric_limits<double>::infinity()) return x;

  // x = 2^k * m with m in [sqrt(2)/2, sqrt(2)), read off the bits (exact).
  int k = 0;
  if (x < 0x1p-1022) {  // subnormal: scale into the normal range first (exact)
    x *= 0x1p54;
    k = -54;
  }
  const auto bits = std::bit_cast<std::uint64_t>(x);
  const std::uint64_t mantissa = bits & kMantissaMask;
  k += static_cast<int>(bits >> 52) - 1023;
  std::uint64_t exponent = 1023;
  if (mantissa >= kSqrt2Mantissa) {
    exponent = 1022;
    k += 1;
  }
  const double m = std::bit_cast<double>((exponent << 52) | mantissa);

  // log(1 + f) = 2 atanh(s) = 2s + s * R with s = f / (2 + f), R = sum_n 2 s^2n / (2n+1);
  // rearranged as f - (f^2/2 - s (f^2/2 + R)) so the large terms stay exact (fdlibm).
  const double f = m - 1.0;  // exact (Sterbenz)
  const double s = f / (2.0 + f);
  const double z = s * s;
  // |s| <= 0.1716: terms through z^11 leave a truncation error far below half an ulp.
  double r = 2.0 / 23.0;
  r = 2.0 / 21.0 + z * r;
  r = 2.0 / 19.0 + z * r;
  r = 2.0 / 17.0 + z * r;
  r = 2.0 / 15.0 + z * r;
  r = 2.0 / 13.0 + z * r;
  r = 2.0 / 11.0 + z * r;
  r = 2.0 / 9.0 + z * r;
  r = 2.0 / 7.0 + z * r;
  r = 2.0 / 5.0 + z * r;
  r = 2.0 / 3.0 + z * r;
  r = z * r;
  const double half_f_sq = 0.5 * f * f;
  const double dk = k;
  // log(x) = k log(2) + log(1 + f)
  return dk * kLn2Hi - ((half_f_sq - (s * (half_f_sq + r) + dk * kLn2Lo)) - f);
}

std::uint64_t CounterRng::Below(std::uint64_t counter, std::uint64_t n) const {
  if (n == 0) throw Error("CounterRng::Below: the range [0, n) is empty (n = 0)");
  // Draws below 2^64 mod n are rejected, so the rest split evenly into the n residues.
  const std::uint64_t threshold = (std::uint64_t{0} - n) % n;
  for (std::uint64_t sub = 0;; ++sub) {
    const std::uint64_t r = Bits(counter, sub);
    if (r >= threshold) return r % n;
  }
}

double CounterRng::PolarNormal(std::uint64_t counter, std::uint64_t sub_base) const {
  // Attempt a uses sub-draws 2a and 2a+1; each is accepted with probability pi/4.
  for (std::uint64_t sub = sub_base;; sub += 2) {
    const double u = 2.0 * Uniform(counter, sub) - 1.0;  // exact: on the 2^-52 grid
    const double v = 2.0 * Uniform(counter, sub + 1) - 1.0;
    const double s = u * u + v * v;
    if (s > 0.0 && s < 1.0) {
      // z = u * sqrt(-2 log(s) / s)
      return u * std::sqrt(-2.0 * PortableLog(s) / s);
    }
  }
}

double CounterRng::Normal(std::uint64_t counter) const { return PolarNormal(counter, 0); }

double CounterRng::ChiSquare(std::uint64_t counter, int dof) const {
  if (dof < 1) {
    throw Error("CounterRng::ChiSquare: dof must be >= 1; got " + std::to_string(dof));
  }
  // chi2(dof) = sum_{k < dof/2} -2 log(U_k) [+ z^2 when dof is odd]
  double sum = 0.0;
  for (int k = 0; k < dof / 2; ++k) {
    const double u = OpenUniform(counter, kChiUniformSubs + static_cast<std::uint64_t>(k));
    sum += -2.0 * PortableLog(u);
  }
  if (dof % 2 == 1) {
    const double z = PolarNormal(counter, kChiNormalSubs);
    sum += z * z;
  }
  return sum;
}

double CounterRng::StudentT(std::uint64_t counter, int dof) const {
  // t = z / sqrt(chi2 / dof)
  const double chi2 = ChiSquare(counter, dof);
  return Normal(counter) / std::sqrt(chi2 / static_cast<double>(dof));
}

}  // namespace equiv
