// ScaledDotProductAttention runs its kv heads on EQUIV_THREADS threads: the same bits whatever
// the count; and the rows of a few queries over cached keys are the full pass's rows.
#include "libequiv/nn/attention.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "tests/support/same_bits.h"

namespace equiv::nn {
namespace {

using testing_support::SameBits;

Matrix Random(int64_t rows, int64_t cols, std::uint64_t seed, Precision precision) {
  return testing_support::UniformMatrix(rows, cols, seed, precision, 2.0);
}

// EQUIV_THREADS set for one scope.
class ThreadsEnv {
 public:
  explicit ThreadsEnv(int threads) {
    if (const char* old = std::getenv("EQUIV_THREADS")) saved_ = old;
    setenv("EQUIV_THREADS", std::to_string(threads).c_str(), 1);
  }
  ~ThreadsEnv() {
    if (saved_.empty()) {
      unsetenv("EQUIV_THREADS");
    } else {
      setenv("EQUIV_THREADS", saved_.c_str(), 1);
    }
  }
  ThreadsEnv(const ThreadsEnv&) = delete;
  ThreadsEnv& operator=(const ThreadsEnv&) = delete;

 private:
  std::string saved_;
};

class AttentionThreadsTest : public ::testing::TestWithParam<Precision> {};

TEST_P(AttentionThreadsTest, SameBitsOnEveryThreadCountAndForCachedQueries) {
  const Precision precision = GetParam();
  // 8 query heads on 2 kv heads, 160 positions: above the size that runs heads in parallel.
  const AttentionSpec spec{8, 2, 64, 0.125, std::nullopt, 1e-6};
  const int64_t n = 160;
  const Matrix q = Random(n, 8 * 64, 1, precision);
  const Matrix k = Random(n, 2 * 64, 2, precision);
  const Matrix v = Random(n, 2 * 64, 3, precision);
  std::vector<int64_t> positions(n);
  std::iota(positions.begin(), positions.end(), int64_t{0});
  Matrix one;
  {
    const ThreadsEnv env(1);
    one = ScaledDotProductAttention(q, k, v, positions, positions, spec, precision);
  }
  for (int threads : {2, 5}) {
    const ThreadsEnv env(threads);
    EXPECT_TRUE(
        SameBits(ScaledDotProductAttention(q, k, v, positions, positions, spec, precision), one))
        << threads;
  }
  // Query 100 over the keys of positions 0..100, as a KV-cached step sees them.
  const std::vector<int64_t> query = {100};
  const std::span<const int64_t> keys = std::span<const int64_t>(positions).first(101);
  EXPECT_TRUE(SameBits(ScaledDotProductAttention(q.middleRows(100, 1), k.topRows(101),
                                                 v.topRows(101), query, keys, spec, precision),
                       one.middleRows(100, 1)));
}

INSTANTIATE_TEST_SUITE_P(Precisions, AttentionThreadsTest,
                         ::testing::Values(Precision::kFp32, Precision::kBf16),
                         [](const ::testing::TestParamInfo<Precision>& info) {
                           return info.param == Precision::kFp32 ? std::string("fp32")
                                                                 : std::string("bf16");
                         });

}  // namespace
}  // namespace equiv::nn
