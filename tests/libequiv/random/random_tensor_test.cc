#include "libequiv/random/random_tensor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "libequiv/random/counter_rng.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

std::vector<std::uint32_t> F32Bits(const Tensor& t, std::int64_t count) {
  std::vector<std::uint32_t> bits;
  for (std::int64_t i = 0; i < count; ++i) bits.push_back(std::bit_cast<std::uint32_t>(t.Get(i)));
  return bits;
}

std::vector<std::uint32_t> AllF32Bits(const Tensor& t) { return F32Bits(t, t.size()); }

// Moments of a tensor's values, in double.
struct Moments {
  double mean = 0, variance = 0, kurtosis = 0;
};

Moments MomentsOf(const std::vector<double>& v) {
  Moments m;
  const double n = static_cast<double>(v.size());
  for (double x : v) m.mean += x / n;
  double m2 = 0, m4 = 0;
  for (double x : v) {
    const double d = x - m.mean;
    m2 += d * d / n;
    m4 += d * d * d * d / n;
  }
  m.variance = m2;
  m.kurtosis = m4 / (m2 * m2);  // kurtosis = E[d^4] / E[d^2]^2, 3 for a normal
  return m;
}

std::vector<double> Values(const Tensor& t) {
  std::vector<double> v(static_cast<std::size_t>(t.size()));
  for (std::int64_t i = 0; i < t.size(); ++i) v[static_cast<std::size_t>(i)] = t.Get(i);
  return v;
}

// --- the generator --------------------------------------------------------------------

TEST(CounterRngTest, BitsArePureFunctionsOfSeedStreamCounterAndSub) {
  const CounterRng a(42, 3), b(42, 3);
  EXPECT_EQ(a.Bits(1000, 2), b.Bits(1000, 2));
  const std::uint64_t later = a.Bits(7);  // order of calls does not matter
  EXPECT_EQ(a.Bits(0), b.Bits(0));
  EXPECT_EQ(later, b.Bits(7));
  EXPECT_NE(a.Bits(0), CounterRng(43, 3).Bits(0));
  EXPECT_NE(a.Bits(0), CounterRng(42, 4).Bits(0));
  EXPECT_NE(a.Bits(0), a.Bits(0, 1));
  EXPECT_NE(a.Bits(0), a.Bits(1));
}

TEST(CounterRngTest, GoldenBits) {
  const CounterRng rng(42, 0);
  EXPECT_THAT((std::vector<std::uint64_t>{rng.Bits(0), rng.Bits(1), rng.Bits(2), rng.Bits(3)}),
              ElementsAre(0x8A124C23AF84F5B3u, 0x103C633E366C34D3u, 0x3600BF472B0FAE49u,
                          0x58EECB49C549F618u));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(rng.Normal(0)),
            std::bit_cast<std::uint64_t>(0x1.3d181dac1ef2dp+0));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(rng.Normal(1)),
            std::bit_cast<std::uint64_t>(0x1.93f083798b317p-1));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(rng.Normal(2)),
            std::bit_cast<std::uint64_t>(-0x1.885ea98457777p-1));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(rng.Normal(3)),
            std::bit_cast<std::uint64_t>(-0x1.95c661bd43d32p-4));
}

TEST(CounterRngTest, UniformsStayInTheirIntervals) {
  const CounterRng rng(5, 1);
  double lowest = 1, highest = 0;
  for (std::uint64_t i = 0; i < 100000; ++i) {
    const double u = rng.Uniform(i), o = rng.OpenUniform(i);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ASSERT_GT(o, 0.0);
    ASSERT_LT(o, 1.0);
    lowest = std::min(lowest, u);
    highest = std::max(highest, u);
  }
  EXPECT_LT(lowest, 1e-4);
  EXPECT_GT(highest, 1 - 1e-4);
}

TEST(CounterRngTest, BelowIsInRangeAndEven) {
  const CounterRng rng(9, 2);
  std::vector<int> counts(7, 0);
  for (std::uint64_t i = 0; i < 70000; ++i) {
    const std::uint64_t k = rng.Below(i, 7);
    ASSERT_LT(k, 7u);
    ++counts[k];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);  // ~5 sigma
  EXPECT_EQ(rng.Below(3, 1), 0u);
  EXPECT_THROW(rng.Below(0, 0), Error);
}

TEST(CounterRngTest, ChiSquareHasMeanDof) {
  const CounterRng rng(17, 4);
  for (int dof : {1, 2, 3, 4, 7}) {
    double sum = 0;
    constexpr int kN = 200000;
    for (std::uint64_t i = 0; i < kN; ++i) sum += rng.ChiSquare(i, dof);
    // sd of the mean: sqrt(2 dof / n)
    EXPECT_NEAR(sum / kN, dof, 5 * std::sqrt(2.0 * dof / kN)) << "dof " << dof;
  }
  EXPECT_THAT([&] { rng.ChiSquare(0, 0); },
              ::testing::ThrowsMessage<Error>(HasSubstr("dof must be >= 1")));
}

// --- the portable log ------------------------------------------------------------------

std::int64_t UlpsApart(double a, double b) {
  const auto ia = std::bit_cast<std::int64_t>(a), ib = std::bit_cast<std::int64_t>(b);
  if ((ia < 0) != (ib < 0)) return a == b ? 0 : std::numeric_limits<std::int64_t>::max();
  return ia > ib ? ia - ib : ib - ia;
}

TEST(PortableLogTest, WithinOneUlpOfStdLogOverASweep) {
  const CounterRng rng(1, 99);
  std::int64_t differ = 0;
  constexpr std::uint64_t kN = 400000;
  for (std::uint64_t i = 0; i < kN; ++i) {
    // (0, 1) as the sampler uses it; near 1, where log is 0; any positive; subnormal.
    const double samples[4] = {rng.OpenUniform(i), 1.0 + (rng.Uniform(i) - 0.5) * 0x1p-20,
                               std::bit_cast<double>(rng.Bits(i) & 0x7FEFFFFFFFFFFFFFu),
                               std::bit_cast<double>(rng.Bits(i) & 0x000FFFFFFFFFFFFFu)};
    const double x = samples[i % 4];
    if (x == 0) continue;
    const std::int64_t d = UlpsApart(PortableLog(x), std::log(x));
    ASSERT_LE(d, 1) << "x = " << std::hexfloat << x << ": " << PortableLog(x) << " vs "
                    << std::log(x);
    differ += d != 0 ? 1 : 0;
  }
  EXPECT_LT(differ, static_cast<std::int64_t>(kN / 10));  // mostly the same bits
}

TEST(PortableLogTest, SpecialValuesAndGoldens) {
  EXPECT_EQ(PortableLog(1.0), 0.0);
  EXPECT_EQ(PortableLog(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(PortableLog(std::numeric_limits<double>::infinity()),
            std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(PortableLog(-1.0)));
  EXPECT_TRUE(std::isnan(PortableLog(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_EQ(PortableLog(2.0), 0x1.62e42fefa39efp-1);  // log(2) correctly rounded
  EXPECT_EQ(PortableLog(0x1p-1074), -0x1.74385446d71c3p+9);
  EXPECT_EQ(PortableLog(0.5), -0x1.62e42fefa39efp-1);
}

// --- tensors ---------------------------------------------------------------------------

TEST(RandomNormalTest, GoldenBitsOfTheFirstValues) {
  EXPECT_THAT(F32Bits(RandomNormal({8}, 0), 8),
              ElementsAre(0xBFA369B0u, 0xBF58272Cu, 0xBD39215Au, 0xBF15358Cu, 0xBE91C4FFu,
                          0xBF460291u, 0x3F6E295Eu, 0x3FC1B56Du));
  EXPECT_THAT(F32Bits(RandomNormal({8}, 42), 8),
              ElementsAre(0x3F4921E5u, 0xBF820DD1u, 0xBEC996CEu, 0x3F73ED8Eu, 0xBF280D94u,
                          0xBE9CC48Bu, 0xBFCBAB81u, 0x401B8DC2u));
  EXPECT_THAT(F32Bits(RandomNormal({8}, 0xDEADBEEF), 8),
              ElementsAre(0xBD97214Cu, 0xBEE8DF6Bu, 0x3FA02EA6u, 0xBFD7D806u, 0x3F0B4455u,
                          0x3EF7A8A4u, 0x3F02F5A9u, 0xBF538FCFu));
}

TEST(RandomUniformTest, GoldenBitsOfTheFirstValues) {
  EXPECT_THAT(F32Bits(RandomUniform({8}, 42, DType::kF32, -2, 3), 8),
              ElementsAre(0xBEDD6D67u, 0x3E902646u, 0xBF2ABF11u, 0x40325A4Eu, 0x3F74C672u,
                          0xBF90DC56u, 0x400B4C7Au, 0xB9D60946u));
}

TEST(RandomActivationsTest, GoldenBitsOfTheFirstValues) {
  const Tensor a = RandomActivations({2, 4}, 42, DType::kBF16);
  EXPECT_THAT(std::vector<std::uint16_t>(a.bits16().begin(), a.bits16().end()),
              ElementsAre(0xBF89, 0xBF80, 0x41A0, 0xBE1B, 0x3F8F, 0x3F9A, 0x407A, 0xBF69));
}

TEST(RandomNormalTest, SameSeedSameBitsDifferentSeedDifferentValues) {
  const Tensor a = RandomNormal({64, 33}, 7, DType::kBF16);
  const Tensor b = RandomNormal({64, 33}, 7, DType::kBF16);
  const Tensor c = RandomNormal({64, 33}, 8, DType::kBF16);
  EXPECT_TRUE(std::equal(a.bits16().begin(), a.bits16().end(), b.bits16().begin()));
  std::int64_t same = 0;
  for (std::int64_t i = 0; i < a.size(); ++i) same += a.Get(i) == c.Get(i) ? 1 : 0;
  EXPECT_LT(same, a.size() / 50);  // bf16 values coincide now and then, no more
}

TEST(RandomNormalTest, ElementDependsOnlyOnSeedAndIndex) {
  // The same flat index gives the same value whatever the shape around it.
  const Tensor flat = RandomNormal({1000}, 3);
  const Tensor square = RandomNormal({10, 10}, 3);
  EXPECT_THAT(AllF32Bits(square), ElementsAreArray(F32Bits(flat, 100)));
}

TEST(RandomNormalTest, RoundsToTheDType) {
  const Tensor f32 = RandomNormal({256}, 4);
  const Tensor bf16 = RandomNormal({256}, 4, DType::kBF16);
  EXPECT_EQ(AllF32Bits(f32.To(DType::kBF16)), AllF32Bits(bf16));
}

TEST(RandomNormalTest, ThreadCountDoesNotChangeTheBits) {
  // Several chunks of parallel work, generated by 1, 2 and 5 threads.
  const Tensor one = RandomNormal({5, 20011}, 11, DType::kF32, 0, 1, 1);
  const Tensor two = RandomNormal({5, 20011}, 11, DType::kF32, 0, 1, 2);
  const Tensor five = RandomNormal({5, 20011}, 11, DType::kF32, 0, 1, 5);
  EXPECT_EQ(AllF32Bits(one), AllF32Bits(two));
  EXPECT_EQ(AllF32Bits(one), AllF32Bits(five));
  ActivationOptions options;
  options.threads = 1;
  const Tensor act_one = RandomActivations({40, 4096}, 11, DType::kF32, options);
  options.threads = 3;
  EXPECT_EQ(AllF32Bits(act_one),
            AllF32Bits(RandomActivations({40, 4096}, 11, DType::kF32, options)));
}

TEST(RandomNormalTest, StatisticsOfAMillionValues) {
  const Moments m = MomentsOf(Values(RandomNormal({1 << 20}, 2024)));
  // Bounds are ~5 standard errors: mean 1/sqrt(n), variance sqrt(2/n), kurtosis sqrt(24/n).
  EXPECT_NEAR(m.mean, 0.0, 0.005);
  EXPECT_NEAR(std::sqrt(m.variance), 1.0, 0.004);
  EXPECT_NEAR(m.kurtosis, 3.0, 0.03);

  const Moments shifted = MomentsOf(Values(RandomNormal({1 << 20}, 2025, DType::kF32, 3, 0.5)));
  EXPECT_NEAR(shifted.mean, 3.0, 0.0025);
  EXPECT_NEAR(std::sqrt(shifted.variance), 0.5, 0.002);
}

TEST(RandomNormalTest, TailsHaveTheNormalMass) {
  const Tensor t = RandomNormal({1 << 20}, 99);
  std::int64_t beyond2 = 0, beyond4 = 0;
  for (std::int64_t i = 0; i < t.size(); ++i) {
    beyond2 += std::fabs(t.Get(i)) > 2 ? 1 : 0;
    beyond4 += std::fabs(t.Get(i)) > 4 ? 1 : 0;
  }
  const double n = static_cast<double>(t.size());
  EXPECT_NEAR(beyond2 / n, 0.0455, 0.001);    // P(|z| > 2) = 0.0455
  EXPECT_NEAR(beyond4 / n, 6.33e-5, 4.0e-5);  // P(|z| > 4) = 6.33e-5
}

TEST(RandomNormalTest, RejectsBadArguments) {
  EXPECT_THAT([] { RandomNormal({4}, 1, DType::kF32, 0, -1); },
              ::testing::ThrowsMessage<Error>(HasSubstr("stddev")));
  EXPECT_THAT([] { RandomNormal({4}, 1, DType::kF32, NAN, 1); },
              ::testing::ThrowsMessage<Error>(HasSubstr("mean")));
  EXPECT_THROW(RandomNormal({4}, 1, DType::kF64), Error);
}

TEST(RandomUniformTest, RangeAndMoments) {
  const Tensor t = RandomUniform({1 << 20}, 5, DType::kF32, -2, 3);
  const std::vector<double> v = Values(t);
  EXPECT_GE(*std::min_element(v.begin(), v.end()), -2.0);
  EXPECT_LE(*std::max_element(v.begin(), v.end()), 3.0);
  EXPECT_LT(*std::min_element(v.begin(), v.end()), -2.0 + 1e-4);
  EXPECT_GT(*std::max_element(v.begin(), v.end()), 3.0 - 1e-4);
  const Moments m = MomentsOf(v);
  EXPECT_NEAR(m.mean, 0.5, 0.01);              // (lo + hi) / 2
  EXPECT_NEAR(m.variance, 25.0 / 12.0, 0.01);  // (hi - lo)^2 / 12
  EXPECT_NEAR(m.kurtosis, 1.8, 0.01);          // 9 / 5 for a uniform
}

TEST(RandomUniformTest, RejectsBadArguments) {
  EXPECT_THAT([] { RandomUniform({4}, 1, DType::kF32, 2, 1); },
              ::testing::ThrowsMessage<Error>(HasSubstr("lo <= hi")));
  EXPECT_THAT([] { RandomUniform({4}, 1, DType::kF32, -1e308, 1e308); },
              ::testing::ThrowsMessage<Error>(HasSubstr("hi - lo")));
}

TEST(RandomActivationsTest, OutlierChannelsAreDistinctSortedAndSeeded) {
  const std::vector<std::int64_t> a = OutlierChannels(4096, 42);
  EXPECT_EQ(a.size(), 16u);  // default max(1, 4096 / 256)
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::set<std::int64_t>(a.begin(), a.end()).size(), a.size());
  EXPECT_GE(a.front(), 0);
  EXPECT_LT(a.back(), 4096);
  EXPECT_EQ(a, OutlierChannels(4096, 42));
  EXPECT_NE(a, OutlierChannels(4096, 43));
  EXPECT_THAT(OutlierChannels(4096, 42), ElementsAre(243, 381, 385, 498, 528, 533, 635, 893, 1483,
                                                     1599, 2137, 2159, 2320, 2414, 3461, 4091));
  EXPECT_EQ(OutlierChannels(100, 1).size(), 1u);  // at least one
  ActivationOptions options;
  options.outlier_channels = 5;
  EXPECT_EQ(OutlierChannels(64, 1, options).size(), 5u);
  options.outlier_channels = 64;
  EXPECT_EQ(OutlierChannels(64, 1, options).size(), 64u);  // every channel
  options.outlier_channels = 0;
  EXPECT_TRUE(OutlierChannels(64, 1, options).empty());
}

TEST(RandomActivationsTest, OutlierChannelsAreMuchLarger) {
  constexpr std::int64_t kTokens = 1024, kChannels = 512;
  const Tensor t = RandomActivations({kTokens, kChannels}, 77);
  const std::vector<std::int64_t> outliers = OutlierChannels(kChannels, 77);
  ASSERT_EQ(outliers.size(), 2u);
  // Mean |x| per channel (finite for t with 4 dof, unlike the fourth moment).
  std::vector<double> mean_abs(kChannels, 0.0);
  for (std::int64_t i = 0; i < t.size(); ++i) {
    mean_abs[static_cast<std::size_t>(i % kChannels)] += std::fabs(t.Get(i)) / kTokens;
  }
  double ordinary = 0;
  for (std::int64_t c = 0; c < kChannels; ++c) {
    if (std::find(outliers.begin(), outliers.end(), c) == outliers.end()) {
      ordinary += mean_abs[static_cast<std::size_t>(c)] / (kChannels - 2);
    }
  }
  for (std::int64_t c : outliers) {
    const double ratio = mean_abs[static_cast<std::size_t>(c)] / ordinary;
    EXPECT_GT(ratio, 25.0) << "channel " << c;
    EXPECT_LT(ratio, 70.0) << "channel " << c;
  }
}

TEST(RandomActivationsTest, HeavyTails) {
  ActivationOptions options;
  options.outlier_channels = 0;
  const Moments bulk = MomentsOf(Values(RandomActivations({256, 4096}, 7, DType::kF32, options)));
  EXPECT_NEAR(bulk.variance, 1.0, 0.1);  // unit variance per ordinary channel
  EXPECT_GT(bulk.kurtosis, 6.0);         // a normal has 3; t with 4 dof has no finite kurtosis

  const Moments with_outliers = MomentsOf(Values(RandomActivations({256, 4096}, 7)));
  EXPECT_GT(with_outliers.kurtosis, 20.0);

  options.tail_dof = 64;  // nearly normal: kurtosis 3 + 6 / (nu - 4) = 3.1
  const Moments light = MomentsOf(Values(RandomActivations({256, 1024}, 7, DType::kF32, options)));
  EXPECT_NEAR(light.kurtosis, 3.1, 0.15);
}

TEST(RandomActivationsTest, ScaleAndOddDegreesOfFreedom) {
  ActivationOptions options;
  options.outlier_channels = 0;
  options.scale = 0.25;
  options.tail_dof = 5;  // odd: chi-square takes the squared-normal path
  const Moments m = MomentsOf(Values(RandomActivations({512, 1024}, 3, DType::kF32, options)));
  EXPECT_NEAR(std::sqrt(m.variance), 0.25, 0.01);
  EXPECT_GT(m.kurtosis, 5.0);  // t with 5 dof: kurtosis 9
}

TEST(RandomActivationsTest, RejectsBadArguments) {
  EXPECT_THAT([] { RandomActivations(Shape{}, 1); },
              ::testing::ThrowsMessage<Error>(HasSubstr("channel")));
  const auto error_for = [](const ActivationOptions& options) {
    try {
      RandomActivations({2, 8}, 1, DType::kF32, options);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  ActivationOptions options;
  options.outlier_channels = 9;
  EXPECT_THAT(error_for(options), HasSubstr("outlier_channels = 9 exceeds the 8 channels"));
  options = {};
  options.tail_dof = 0;
  EXPECT_THAT(error_for(options), HasSubstr("tail_dof must be >= 1; got 0"));
  options = {};
  options.outlier_min_scale = 70;
  EXPECT_THAT(error_for(options), HasSubstr("outlier_min_scale <= outlier_max_scale"));
}

TEST(RandomActivationsTest, EmptyTensorsAreFine) {
  EXPECT_EQ(RandomActivations({0, 16}, 1).size(), 0);
  EXPECT_EQ(RandomActivations({4, 0}, 1).size(), 0);
  EXPECT_EQ(RandomNormal({0}, 1).size(), 0);
}

}  // namespace
}  // namespace equiv
