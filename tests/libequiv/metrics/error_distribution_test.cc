#include "libequiv/metrics/error_distribution.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace equiv {
namespace {

using ::testing::ElementsAre;

struct Data {
  std::vector<float> fp32, bf16, target;
  Triple triple() const {
    const Shape shape{static_cast<int64_t>(fp32.size())};
    return {TensorView(fp32, shape), TensorView(bf16, Shape{static_cast<int64_t>(bf16.size())}),
            TensorView(target, Shape{static_cast<int64_t>(target.size())})};
  }
};

// fp32 = 0, baseline error i + 1 (i = 0..n-1), target error 2 (i + 1).
Data Ramp(int n) {
  Data d;
  for (int i = 0; i < n; ++i) {
    d.fp32.push_back(0);
    d.bf16.push_back(static_cast<float>(i + 1));
    d.target.push_back(static_cast<float>(-2 * (i + 1)));
  }
  return d;
}

TEST(ErrorDistributionTest, QuantilesAreNearestRank) {
  const std::optional<ErrorDistribution> d = ErrorDistributionOf(Ramp(128).triple());
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->elements, 128);
  ASSERT_EQ(d->baseline_quantiles.size(), 65u);
  ASSERT_EQ(d->target_quantiles.size(), 65u);
  EXPECT_EQ(d->baseline_quantiles[0], 1);    // the minimum
  EXPECT_EQ(d->baseline_quantiles[1], 2);    // ceil(128 / 64) = 2nd smallest
  EXPECT_EQ(d->baseline_quantiles[32], 64);  // the median: 64th of 128
  EXPECT_EQ(d->baseline_quantiles[64], 128);
  EXPECT_EQ(d->target_quantiles[32], 128);
  EXPECT_EQ(d->target_quantiles[64], 256);
}

TEST(ErrorDistributionTest, FewElementsRepeatQuantiles) {
  const std::optional<ErrorDistribution> d = ErrorDistributionOf(Ramp(3).triple());
  ASSERT_TRUE(d.has_value());
  // ceil(k * 3 / 64): ranks 1 for k <= 21, 2 for k <= 42, 3 above.
  EXPECT_EQ(d->baseline_quantiles[21], 1);
  EXPECT_EQ(d->baseline_quantiles[22], 2);
  EXPECT_EQ(d->baseline_quantiles[43], 3);
}

TEST(ErrorDistributionTest, HistogramsShareLogBinsAndCountEveryElement) {
  const std::optional<ErrorDistribution> d = ErrorDistributionOf(Ramp(100).triple());
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->bin_edges.size(), static_cast<std::size_t>(kErrorHistogramBins + 1));
  EXPECT_EQ(d->bin_edges.front(), 1);
  EXPECT_EQ(d->bin_edges.back(), 200);
  // Log-spaced: every bin the same ratio wide.
  const double ratio = d->bin_edges[1] / d->bin_edges[0];
  EXPECT_NEAR(d->bin_edges[20] / d->bin_edges[19], ratio, 1e-9);
  EXPECT_NEAR(std::pow(ratio, kErrorHistogramBins), 200, 1e-6);
  EXPECT_EQ(std::accumulate(d->baseline_counts.begin(), d->baseline_counts.end(), int64_t{0}), 100);
  EXPECT_EQ(std::accumulate(d->target_counts.begin(), d->target_counts.end(), int64_t{0}), 100);
  EXPECT_EQ(d->baseline_counts.front(), 1);  // only 1 is below 1 * 200^(1/32) = 1.18
  EXPECT_GT(d->target_counts.back(), 0);     // the maximum lands in the last bin
  EXPECT_EQ(d->baseline_below, 0);
}

TEST(ErrorDistributionTest, ZerosAndTinyErrorsAreCountedBelowTheBins) {
  Data d = Ramp(4);
  d.target = d.fp32;   // target equals the reference: every port error is 0
  d.bf16[0] = 1e-20f;  // far more than 10 decades below the largest error
  const std::optional<ErrorDistribution> e = ErrorDistributionOf(d.triple());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->target_below, 4);
  EXPECT_THAT(e->target_counts, ::testing::Each(0));
  EXPECT_EQ(e->baseline_below, 1);
  EXPECT_DOUBLE_EQ(e->bin_edges.front(), 4 * 1e-10);
  EXPECT_EQ(e->baseline_quantiles[0], static_cast<double>(1e-20f));
}

TEST(ErrorDistributionTest, AllZeroErrorsHaveNoBins) {
  Data d = Ramp(4);
  d.bf16 = d.fp32;
  d.target = d.fp32;
  const std::optional<ErrorDistribution> e = ErrorDistributionOf(d.triple());
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->bin_edges.empty());
  EXPECT_TRUE(e->baseline_counts.empty());
  EXPECT_EQ(e->baseline_below, 4);
  EXPECT_EQ(e->target_below, 4);
  EXPECT_THAT(e->target_quantiles, ::testing::Each(0.0));
}

TEST(ErrorDistributionTest, OneValueGetsABinAroundIt) {
  Data d{{0, 0}, {3, 3}, {3, 3}};
  const std::optional<ErrorDistribution> e = ErrorDistributionOf(d.triple());
  ASSERT_TRUE(e.has_value());
  EXPECT_LT(e->bin_edges.front(), 3);
  EXPECT_GT(e->bin_edges.back(), 3);
  EXPECT_EQ(std::accumulate(e->target_counts.begin(), e->target_counts.end(), int64_t{0}), 2);
}

TEST(ErrorDistributionTest, NonFiniteElementsAreSkipped) {
  Data d = Ramp(4);
  d.target[1] = std::numeric_limits<float>::quiet_NaN();
  d.bf16[2] = std::numeric_limits<float>::infinity();
  const std::optional<ErrorDistribution> e = ErrorDistributionOf(d.triple());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->elements, 2);
  EXPECT_EQ(e->baseline_quantiles.front(), 1);
  EXPECT_EQ(e->baseline_quantiles.back(), 4);
}

TEST(ErrorDistributionTest, NothingToDistributeIsNullopt) {
  Data mismatch = Ramp(4);
  mismatch.target.pop_back();
  EXPECT_FALSE(ErrorDistributionOf(mismatch.triple()).has_value());
  Data nan{{std::nanf("")}, {0}, {0}};
  EXPECT_FALSE(ErrorDistributionOf(nan.triple()).has_value());
  EXPECT_FALSE(ErrorDistributionOf(Data{}.triple()).has_value());
}

TEST(ErrorDistributionTest, IndependentOfElementOrderAndAcrossBlocks) {
  Data a = Ramp(10000);  // more than one decode block
  Data b = a;
  std::reverse(b.fp32.begin(), b.fp32.end());
  std::reverse(b.bf16.begin(), b.bf16.end());
  std::reverse(b.target.begin(), b.target.end());
  EXPECT_EQ(ErrorDistributionOf(a.triple()), ErrorDistributionOf(b.triple()));
  EXPECT_EQ(ErrorDistributionOf(a.triple())->baseline_quantiles.back(), 10000);
}

// Above the radix sort's threshold: quantiles equal those of std::sort, zeros and huge values
// included.
TEST(ErrorDistributionTest, LargeInputsMatchAPlainSort) {
  Data d;
  std::vector<double> errors;
  uint64_t state = 7;
  for (int i = 0; i < 5000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const float e =
        i % 11 == 0 ? 0.0f
        : i % 97 == 0
            ? 3e38f
            : static_cast<float>(std::ldexp(static_cast<double>(state >> 40), -30 + i % 40));
    d.fp32.push_back(0);
    d.bf16.push_back(0);
    d.target.push_back(i % 2 == 0 ? e : -e);
    errors.push_back(std::abs(static_cast<double>(d.target.back())));
  }
  std::sort(errors.begin(), errors.end());
  const std::optional<ErrorDistribution> got = ErrorDistributionOf(d.triple());
  ASSERT_TRUE(got.has_value());
  for (int k = 0; k < kErrorQuantiles; ++k) {
    const std::size_t rank = std::max<std::size_t>(1, (k * errors.size() + 63) / 64);
    EXPECT_EQ(got->target_quantiles[k], errors[rank - 1]) << "k = " << k;
  }
}

// Selection gives what sorting gives, on inputs that are hard for it: ties, an outlier in the
// first block, errors over hundreds of binades, errors that overflow, NaN inputs.
TEST(ErrorDistributionTest, SelectionMatchesASortOnHardInputs) {
  uint64_t state = 11;
  const auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) * 0x1p-53;  // [0, 1)
  };
  for (int kind = 0; kind < 5; ++kind) {
    const int n = 30000;
    std::vector<double> f(n), b(n), t(n);
    for (int i = 0; i < n; ++i) {
      f[i] = next() - 0.5;
      switch (kind) {
        case 0:  // many ties
          b[i] = f[i] + std::floor(next() * 4);
          t[i] = f[i] + std::floor(next() * 3);
          break;
        case 1:  // an outlier first, then errors far below it
          b[i] = f[i] + (i == 0 ? 1e12 : 1e-3 * next());
          t[i] = f[i] + (i == 1 ? -1e15 : 1e-6 * next());
          break;
        case 2:  // errors over hundreds of binades
          b[i] = f[i] + std::ldexp(next(), -static_cast<int>(next() * 900));
          t[i] = f[i] - std::ldexp(next(), -static_cast<int>(next() * 60));
          break;
        case 3:  // errors that overflow to inf
          f[i] *= 1e308;
          b[i] = -f[i] * (1 + next());
          t[i] = f[i] * 0.5;
          break;
        case 4:  // inputs that are not finite
          b[i] = i % 7 == 0 ? std::numeric_limits<double>::infinity() : f[i] * 1.01;
          t[i] = i % 11 == 0 ? std::nan("") : f[i] * (1 + next() * 1e-2);
          break;
      }
    }
    const Shape shape{n};
    const std::optional<ErrorDistribution> d =
        ErrorDistributionOf({TensorView(f, shape), TensorView(b, shape), TensorView(t, shape)});
    ASSERT_TRUE(d.has_value()) << "kind " << kind;
    std::vector<double> base, target;
    for (int i = 0; i < n; ++i) {
      if (!std::isfinite(f[i]) || !std::isfinite(b[i]) || !std::isfinite(t[i])) continue;
      base.push_back(std::abs(b[i] - f[i]));
      target.push_back(std::abs(t[i] - f[i]));
    }
    std::sort(base.begin(), base.end());
    std::sort(target.begin(), target.end());
    ASSERT_EQ(d->elements, static_cast<int64_t>(base.size()));
    for (int k = 0; k < kErrorQuantiles; ++k) {
      const std::size_t rank = std::max<std::size_t>(1, (k * base.size() + 63) / 64);
      EXPECT_EQ(d->baseline_quantiles[k], base[rank - 1]) << "kind " << kind << ", k " << k;
      EXPECT_EQ(d->target_quantiles[k], target[rank - 1]) << "kind " << kind << ", k " << k;
    }
    const auto below = [](const std::vector<double>& v, double e) {
      return std::lower_bound(v.begin(), v.end(), e) - v.begin();
    };
    if (d->bin_edges.empty()) continue;
    EXPECT_EQ(d->baseline_below, below(base, d->bin_edges.front())) << "kind " << kind;
    EXPECT_EQ(d->target_below, below(target, d->bin_edges.front())) << "kind " << kind;
    for (std::size_t i = 0; i + 2 < d->bin_edges.size(); ++i) {
      EXPECT_EQ(d->baseline_counts[i],
                below(base, d->bin_edges[i + 1]) - below(base, d->bin_edges[i]));
      EXPECT_EQ(d->target_counts[i],
                below(target, d->bin_edges[i + 1]) - below(target, d->bin_edges[i]));
    }
  }
}

}  // namespace
}  // namespace equiv
