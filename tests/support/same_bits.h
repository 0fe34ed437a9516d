// Bit-level checks for the tests of results that must not depend on threads, kernels or
// paths: SameBits compares two matrices bit for bit (so -0 differs from +0 and a NaN's payload
// counts); UniformMatrix gives seeded values uniform in [-scale, scale), rounded to a precision.
#ifndef EQUIV_TESTS_SUPPORT_SAME_BITS_H_
#define EQUIV_TESTS_SUPPORT_SAME_BITS_H_

#include <cstdint>
#include <cstring>

#include "libequiv/nn/numerics.h"
#include "libequiv/random/counter_rng.h"

namespace equiv::testing_support {

inline bool SameBits(const nn::Matrix& a, const nn::Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

inline nn::Matrix UniformMatrix(int64_t rows, int64_t cols, std::uint64_t seed,
                                nn::Precision precision, double scale = 1.0) {
  nn::Matrix m(rows, cols);
  const CounterRng rng(seed);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    const double u = rng.Uniform(static_cast<std::uint64_t>(i));
    m.data()[i] = nn::Round(precision, static_cast<float>((u * 2.0 - 1.0) * scale));
  }
  return m;
}

}  // namespace equiv::testing_support

#endif  // EQUIV_TESTS_SUPPORT_SAME_BITS_H_
