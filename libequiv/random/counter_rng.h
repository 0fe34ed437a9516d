// A counter-based random generator: every draw is a pure function of (seed, stream,
// counter, sub), so element i of a tensor depends only on (seed, i) and tensors can be
// generated in any order, in parallel chunks, and stay bit-identical on every platform.
//
// The distributions are written here from integer mixing, + - * / and sqrt (all exact
// or correctly rounded in IEEE arithmetic) and our own PortableLog: no <random>
// distribution and no libm transcendental, whose bits differ between libraries.
#ifndef EQUIV_LIBEQUIV_RANDOM_COUNTER_RNG_H_
#define EQUIV_LIBEQUIV_RANDOM_COUNTER_RNG_H_

#include <cstdint>

namespace equiv {

// The splitmix64 finalizer: a bijection of 64-bit words with full avalanche.
constexpr std::uint64_t Mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

// The natural logarithm, reproducible to the bit on every machine: bit-level range
// reduction x = 2^k * (1 + f), then log(1 + f) = 2 atanh(f / (2 + f)) by its series.
// Within 1 ulp of the true value. log(0) = -inf, log(x < 0) = NaN, log(inf) = inf.
double PortableLog(double x);

class CounterRng {
 public:
  // Independent generators for different (seed, stream) pairs; `stream` separates the
  // uses of one seed (normals, signs, channel picks) so they never share draws.
  explicit constexpr CounterRng(std::uint64_t seed, std::uint64_t stream = 0)
      : key_(Mix64(Mix64(seed) ^ Mix64(stream + kGamma))),
        sub_key_(Mix64(key_ ^ 0x2545F4914F6CDD1Du)) {}

  // 64 random bits for (counter, sub). `sub` numbers the extra draws one element needs
  // (rejection attempts), so element `counter` never borrows another element's bits.
  constexpr std::uint64_t Bits(std::uint64_t counter, std::uint64_t sub = 0) const {
    return Mix64(Mix64(key_ + counter * kGamma) ^ (sub_key_ + sub * kSubGamma));
  }

  // Uniform in [0, 1) on the 2^-53 grid, from the top 53 bits.
  constexpr double Uniform(std::uint64_t counter, std::uint64_t sub = 0) const {
    return static_cast<double>(Bits(counter, sub) >> 11) * 0x1p-53;
  }

  // Uniform in (0, 1), never 0: the midpoints of the 2^-52 grid, safe to take a log of.
  constexpr double OpenUniform(std::uint64_t counter, std::uint64_t sub = 0) const {
    return (static_cast<double>(Bits(counter, sub) >> 12) + 0.5) * 0x1p-52;
  }

  // Unbiased integer in [0, n) (n > 0), by rejection over sub-draws.
  std::uint64_t Below(std::uint64_t counter, std::uint64_t n) const;

  // Standard normal, Marsaglia's polar method; rejected pairs move on to the next sub-draw.
  double Normal(std::uint64_t counter) const;

  // Chi-square with `dof` >= 1 degrees of freedom, independent of Normal(counter):
  // a sum of -2 log(U) (chi-square 2 each) plus one squared normal when dof is odd.
  double ChiSquare(std::uint64_t counter, int dof) const;

  // Student's t with `dof` >= 1 degrees of freedom: Normal / sqrt(ChiSquare / dof).
  double StudentT(std::uint64_t counter, int dof) const;

 private:
  static constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15u;     // 2^64 / golden ratio
  static constexpr std::uint64_t kSubGamma = 0xD1B54A32D192ED03u;  // another odd constant

  double PolarNormal(std::uint64_t counter, std::uint64_t sub_base) const;

  std::uint64_t key_;
  std::uint64_t sub_key_;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_RANDOM_COUNTER_RNG_H_
