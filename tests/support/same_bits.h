// Whether two matrices hold the same floats bit for bit (so -0 differs from +0 and a NaN's
// payload counts), for the tests of bit-identical results across threads, kernels and paths.
#ifndef EQUIV_TESTS_SUPPORT_SAME_BITS_H_
#define EQUIV_TESTS_SUPPORT_SAME_BITS_H_

#include <cstring>

#include "libequiv/nn/numerics.h"

namespace equiv::testing_support {

inline bool SameBits(const nn::Matrix& a, const nn::Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

}  // namespace equiv::testing_support

#endif  // EQUIV_TESTS_SUPPORT_SAME_BITS_H_
