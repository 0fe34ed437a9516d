#include "libequiv/metrics/triple_comparison.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "libequiv/metrics/internal/triple_kernel.h"
#include "libequiv/precision/bf16.h"
#include "libequiv/report/comparison_json.h"
#include "libequiv/tensor/error.h"
#include "libequiv/tensor/tensor.h"

namespace equiv {
namespace {

using ::testing::HasSubstr;

// Deterministic values in [-2, 2) from a hash of the index.
float HashValue(std::uint64_t i, std::uint64_t salt) {
  std::uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull ^ (salt * 0xD1B54A32D192ED03ull);
  z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ull;
  z ^= z >> 29;
  return static_cast<float>(static_cast<double>(z >> 40) * 0x1p-24 * 4.0 - 2.0);
}

// A realistic triple: ref in f32, the baseline its bf16 rounding, the target the bf16
// rounding of ref with a relative error of `target_noise`.
struct Owned {
  std::vector<float> ref, base, target;
  Triple triple() const {
    const Shape shape{static_cast<std::int64_t>(ref.size())};
    return {TensorView(ref, shape), TensorView(base, shape), TensorView(target, shape)};
  }
};

Owned MakeTriple(std::int64_t n, float target_noise) {
  Owned o;
  for (std::int64_t i = 0; i < n; ++i) {
    const float r = HashValue(static_cast<std::uint64_t>(i), 1);
    o.ref.push_back(r);
    o.base.push_back(RoundToBf16(r));
    o.target.push_back(
        RoundToBf16(r * (1.0f + target_noise * HashValue(static_cast<std::uint64_t>(i), 2))));
  }
  return o;
}

struct LongDoubleReference {
  long double target_sq = 0, base_sq = 0, ref_sq = 0;
  double r_ratio() const { return static_cast<double>(std::sqrt(target_sq) / std::sqrt(base_sq)); }
};

LongDoubleReference Reference(const Owned& o) {
  LongDoubleReference ref;
  for (std::size_t i = 0; i < o.ref.size(); ++i) {
    const long double r = o.ref[i];
    ref.target_sq += (o.target[i] - r) * (o.target[i] - r);
    ref.base_sq += (o.base[i] - r) * (o.base[i] - r);
    ref.ref_sq += r * r;
  }
  return ref;
}

TEST(CompareTripleTest, StatisticsMatchDirectComputation) {
  const Owned o = MakeTriple(1000, 0.01f);
  const TripleComparison c = CompareTriple(o.triple());
  ASSERT_EQ(c.outcome, Outcome::kRatio);
  const LongDoubleReference ref = Reference(o);
  EXPECT_NEAR(c.r_ratio, ref.r_ratio(), 1e-13 * ref.r_ratio());
  EXPECT_NEAR(c.ref_norm, std::sqrt(static_cast<double>(ref.ref_sq)), 1e-12);

  double max_abs = 0, sum_abs = 0, max_rel = 0, sum_rel = 0, ref_max = 0;
  std::int64_t worst = -1;
  for (std::size_t i = 0; i < o.ref.size(); ++i) {
    const double e = std::fabs(static_cast<double>(o.target[i]) - o.ref[i]);
    if (e > max_abs) {
      max_abs = e;
      worst = static_cast<std::int64_t>(i);
    }
    sum_abs += e;
    const double rel = e * static_cast<double>(1.0f / std::fabs(o.ref[i]));
    max_rel = std::max(max_rel, rel);
    sum_rel += rel;
    ref_max = std::max(ref_max, static_cast<double>(std::fabs(o.ref[i])));
  }
  EXPECT_DOUBLE_EQ(c.target_error.max_abs, max_abs);
  EXPECT_NEAR(c.target_error.mean_abs, sum_abs / 1000, 1e-15);
  EXPECT_DOUBLE_EQ(c.target_error.max_rel, max_rel);
  EXPECT_NEAR(c.target_error.mean_rel, sum_rel / 1000, 1e-14);
  EXPECT_DOUBLE_EQ(c.target_error.rel_inf, max_abs / ref_max);
  EXPECT_NEAR(c.target_error.rel_frobenius, c.target_error.norm / c.ref_norm, 1e-15);
  EXPECT_EQ(c.worst.flat, worst);
  EXPECT_EQ(c.worst.index, std::vector<std::int64_t>{worst});
  EXPECT_EQ(c.worst.target, o.target[static_cast<std::size_t>(worst)]);
  EXPECT_EQ(c.worst.ref_fp32, o.ref[static_cast<std::size_t>(worst)]);
  EXPECT_EQ(c.worst.ref_bf16, o.base[static_cast<std::size_t>(worst)]);
  EXPECT_EQ(c.finite_elements, 1000);
}

TEST(CompareTripleTest, BandsFollowTheRatio) {
  // Same data, growing target error: R grows and the band follows.
  EXPECT_EQ(*CompareTriple(MakeTriple(4096, 0.0f).triple()).band, Band::kWithinTolerance);
  const TripleComparison big = CompareTriple(MakeTriple(4096, 0.5f).triple());
  EXPECT_EQ(*big.band, Band::kWrongComputation);
  EXPECT_FALSE(big.passed);
  EXPECT_THAT(big.message, HasSubstr("wrong_computation"));
}

TEST(CompareTripleTest, TargetEqualToReferenceIsOverPrecisionAndPasses) {
  Owned o = MakeTriple(512, 0.0f);
  o.target = o.ref;
  const TripleComparison c = CompareTriple(o.triple());
  EXPECT_EQ(c.r_ratio, 0.0);
  EXPECT_EQ(*c.band, Band::kOverPrecision);
  EXPECT_TRUE(c.passed);
}

TEST(CompareTripleTest, TauIsConfigurable) {
  const Owned o = MakeTriple(4096, 0.004f);
  const TripleComparison loose = CompareTriple(o.triple());
  CompareOptions strict;
  strict.tau = 1.0;
  const TripleComparison tight = CompareTriple(o.triple(), strict);
  EXPECT_EQ(loose.r_ratio, tight.r_ratio);
  EXPECT_EQ(tight.passed, loose.r_ratio < 1.0);
  EXPECT_THROW(CompareTriple(o.triple(), CompareOptions{.tau = 5.0}), Error);
}

TEST(CompareTripleTest, ShapeMismatchIsAnOutcomeNotACrash) {
  const std::vector<float> a(6, 1.0f), b(6, 1.0f), c(6, 1.0f);
  const TripleComparison r = CompareTriple(
      {TensorView(a, Shape{2, 3}), TensorView(b, Shape{2, 3}), TensorView(c, Shape{3, 2})});
  EXPECT_EQ(r.outcome, Outcome::kShapeMismatch);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.message, "shapes differ: ref_fp32 [2, 3], ref_bf16 [2, 3], target [3, 2]");
}

TEST(CompareTripleTest, EmptyTensorsAreNotAPass) {
  const TripleComparison r = CompareTriple({TensorView(), TensorView(), TensorView()});
  EXPECT_EQ(r.outcome, Outcome::kEmpty);
  EXPECT_FALSE(r.passed);
}

TEST(CompareTripleTest, NaNInTargetFailsWithCountAndFirstIndex) {
  Owned o = MakeTriple(200000, 0.0f);  // several chunks
  o.target[70000] = std::numeric_limits<float>::quiet_NaN();
  o.target[150000] = std::numeric_limits<float>::infinity();
  o.target[150001] = std::numeric_limits<float>::quiet_NaN();
  const TripleComparison c = CompareTriple(o.triple());
  EXPECT_EQ(c.outcome, Outcome::kNonFiniteTarget);
  EXPECT_FALSE(c.passed);
  EXPECT_EQ(c.nonfinite_target.nan, 2);
  EXPECT_EQ(c.nonfinite_target.inf, 1);
  EXPECT_EQ(c.nonfinite_target.first_index, 70000);
  EXPECT_EQ(c.finite_elements, 200000 - 3);
  EXPECT_TRUE(std::isfinite(c.r_ratio)) << "R over the finite elements is still reported";
  EXPECT_THAT(c.message,
              HasSubstr("target has 2 NaN and 1 Inf, the first at flat 70000, index [70000]"));
}

TEST(CompareTripleTest, NonFiniteReferenceIsAnErrorNeverAPass) {
  Owned o = MakeTriple(100, 0.0f);
  o.ref[3] = std::numeric_limits<float>::infinity();
  o.target[3] = std::numeric_limits<float>::infinity();
  const TripleComparison c = CompareTriple(o.triple());
  EXPECT_EQ(c.outcome, Outcome::kNonFiniteReference);
  EXPECT_FALSE(c.passed);
  EXPECT_THAT(c.message,
              HasSubstr("error: the reference is not finite (ref_fp32 has 0 NaN and 1 Inf"));
}

TEST(CompareTripleTest, DegenerateBaselineIsJudgedByUlps) {
  // An embedding lookup: bf16-exact values, so ref_bf16 == ref_fp32.
  std::vector<float> ref;
  for (int i = 0; i < 64; ++i) ref.push_back(RoundToBf16(HashValue(i, 5)));
  std::vector<float> target = ref;
  const Shape shape{8, 8};
  const Triple exact{TensorView(ref, shape), TensorView(ref, shape), TensorView(target, shape)};
  const TripleComparison ok = CompareTriple(exact);
  EXPECT_EQ(ok.outcome, Outcome::kDegenerateBaseline);
  EXPECT_TRUE(ok.passed);
  EXPECT_TRUE(std::isnan(ok.r_ratio)) << "no meaningless R of 1e12";
  EXPECT_FALSE(ok.band.has_value());

  // One element one bf16 ulp off: fails with max_ulps 0, passes with 1.
  target[9] = Bf16BitsToFloat(FloatToBf16Bits(target[9]) + 1);
  const Triple off{TensorView(ref, shape), TensorView(ref, shape), TensorView(target, shape)};
  const TripleComparison bad = CompareTriple(off);
  EXPECT_FALSE(bad.passed);
  ASSERT_TRUE(bad.ulp.has_value());
  EXPECT_EQ(bad.ulp->max_ulps, 1.0);
  EXPECT_EQ(bad.ulp->over, 1);
  EXPECT_EQ(bad.ulp->worst.index, (std::vector<std::int64_t>{1, 1}));
  EXPECT_THAT(bad.message, HasSubstr("degenerate baseline"));
  EXPECT_TRUE(CompareTriple(off, CompareOptions{.max_ulps = 1}).passed);
}

TEST(CompareTripleTest, MixedDTypesGiveTheSameResultAsFloat) {
  const Owned o = MakeTriple(10007, 0.01f);  // a tail that is not a multiple of 8
  std::vector<std::uint16_t> base16, target16;
  std::vector<double> ref64(o.ref.begin(), o.ref.end());
  for (float v : o.base) base16.push_back(FloatToBf16Bits(v));
  for (float v : o.target) target16.push_back(FloatToBf16Bits(v));
  const Shape shape{10007};
  const TripleComparison f32 = CompareTriple(o.triple());
  for (const Triple& t : {Triple{TensorView(o.ref, shape), TensorView(base16, DType::kBF16, shape),
                                 TensorView(target16, DType::kBF16, shape)},
                          Triple{TensorView(ref64, shape), TensorView(base16, DType::kBF16, shape),
                                 TensorView(o.target, shape)}}) {
    const TripleComparison c = CompareTriple(t);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(c.r_ratio), std::bit_cast<std::uint64_t>(f32.r_ratio));
    EXPECT_EQ(c.target_error.mean_rel, f32.target_error.mean_rel);
    EXPECT_EQ(c.worst.flat, f32.worst.flat);
  }
}

TEST(CompareTripleTest, ZeroReferencesAreSkippedByRelativeErrors) {
  std::vector<float> ref = {0.0f, 1.0f, 0.0f, 2.0f}, base = {0.0f, 1.0f, 0.0f, 2.0f};
  std::vector<float> target = {0.5f, 1.5f, 0.0f, 2.0f};
  base[3] = 2.0078125f;
  const Shape shape{4};
  const TripleComparison c =
      CompareTriple({TensorView(ref, shape), TensorView(base, shape), TensorView(target, shape)});
  EXPECT_EQ(c.rel_skipped_elements, 2);
  EXPECT_EQ(c.target_error.max_rel, 0.5);
  EXPECT_EQ(c.target_error.mean_rel, 0.25);  // (0.5 + 0) / 2 non-zero references
}

// The verdict pass (StatisticsWhen::kOnFailure) computes only the norms and counts, with the
// same bits as the pass that computes everything, on every layout and thread count.
TEST(CompareTripleTest, VerdictPassHasTheBitsOfTheFullPass) {
  const std::int64_t n = 3 * internal::kTripleChunk + 1005;  // chunks and a ragged tail
  const Owned o = MakeTriple(n, 0.0005f);
  std::vector<std::uint16_t> base16, target16, all16[3];
  std::vector<double> ref64(o.ref.begin(), o.ref.end());
  for (float v : o.base) base16.push_back(FloatToBf16Bits(v));
  for (float v : o.target) target16.push_back(FloatToBf16Bits(v));
  for (std::int64_t i = 0; i < n; ++i) {  // all bf16: the errors from noise of bf16 size
    const auto k = static_cast<std::uint64_t>(i);
    const float r = RoundToBf16(HashValue(k, 3));
    all16[0].push_back(FloatToBf16Bits(r));
    all16[1].push_back(FloatToBf16Bits(r * (1 + 0x1p-8f * HashValue(k, 4))));
    all16[2].push_back(FloatToBf16Bits(r * (1 + 0x1p-8f * HashValue(k, 5))));
  }
  const Shape shape{n};
  const std::vector<Triple> layouts = {
      o.triple(),
      {TensorView(o.ref, shape), TensorView(base16, DType::kBF16, shape),
       TensorView(target16, DType::kBF16, shape)},
      {TensorView(all16[0], DType::kBF16, shape), TensorView(all16[1], DType::kBF16, shape),
       TensorView(all16[2], DType::kBF16, shape)},
      {TensorView(o.ref, shape), TensorView(base16, DType::kBF16, shape),
       TensorView(o.target, shape)},
      {TensorView(ref64, shape), TensorView(o.base, shape),
       TensorView(target16, DType::kBF16, shape)}};
  const auto bits = [](double v) { return std::bit_cast<std::uint64_t>(v); };
  for (std::size_t k = 0; k < layouts.size(); ++k) {
    const TripleComparison full = CompareTriple(layouts[k], CompareOptions{.threads = 1});
    ASSERT_TRUE(full.has_statistics);
    for (int threads : {1, 2, 3}) {
      const TripleComparison verdict = CompareTriple(
          layouts[k], CompareOptions{.threads = threads, .statistics = StatisticsWhen::kOnFailure});
      ASSERT_TRUE(verdict.passed) << "layout " << k << ": " << verdict.message;
      EXPECT_FALSE(verdict.has_statistics);
      EXPECT_EQ(bits(verdict.r_ratio), bits(full.r_ratio)) << "layout " << k;
      EXPECT_EQ(bits(verdict.target_error.norm), bits(full.target_error.norm));
      EXPECT_EQ(bits(verdict.baseline_error.norm), bits(full.baseline_error.norm));
      EXPECT_EQ(bits(verdict.ref_norm), bits(full.ref_norm));
      EXPECT_EQ(bits(verdict.target_error.rel_frobenius), bits(full.target_error.rel_frobenius));
      EXPECT_EQ(verdict.finite_elements, n);
      EXPECT_EQ(verdict.message, full.message);
      EXPECT_EQ(verdict.worst.flat, -1) << "no worst element without the statistics";
    }
  }
}

TEST(CompareTripleTest, AFailureComputesTheStatisticsForItsMessage) {
  Owned o = MakeTriple(200000, 0.05f);
  o.target[150001] = std::numeric_limits<float>::quiet_NaN();
  for (const Owned* triple : {&o}) {
    const TripleComparison full = CompareTriple(triple->triple());
    const TripleComparison verdict =
        CompareTriple(triple->triple(), CompareOptions{.statistics = StatisticsWhen::kOnFailure});
    ASSERT_FALSE(verdict.passed);
    EXPECT_TRUE(verdict.has_statistics);
    EXPECT_EQ(ToJson(verdict), ToJson(full));
  }
  // And a failure by R alone.
  const Owned wrong = MakeTriple(70000, 0.05f);
  const TripleComparison full = CompareTriple(wrong.triple());
  const TripleComparison verdict =
      CompareTriple(wrong.triple(), CompareOptions{.statistics = StatisticsWhen::kOnFailure});
  ASSERT_EQ(verdict.outcome, Outcome::kRatio);
  ASSERT_FALSE(verdict.passed);
  EXPECT_TRUE(verdict.has_statistics);
  EXPECT_EQ(ToJson(verdict), ToJson(full));
  EXPECT_EQ(verdict.worst.flat, full.worst.flat);
}

TEST(CompareTripleTest, Float64ErrorsBelowTheRangeOfSquaresAreNotLost) {
  // Half the references 1 (exact everywhere), half near 1e-160 with errors near 1e-162,
  // whose squares fall below the range of double: the scaled norms keep them.
  const std::size_t n = 1000;
  std::vector<double> ref(n, 1.0), base(n, 1.0), target(n, 1.0);
  long double base_sq = 0, target_sq = 0;
  for (std::size_t i = 0; i < n; i += 2) {
    ref[i] = 1e-160 * (1 + static_cast<double>(i) / n);
    base[i] = ref[i] * (1 + 0x1p-8 * static_cast<double>(i % 7 + 1));
    target[i] = ref[i] * (1 + 0x1p-7 * static_cast<double>(i % 7 + 1));
    base_sq += std::pow(static_cast<long double>(base[i]) - ref[i], 2);
    target_sq += std::pow(static_cast<long double>(target[i]) - ref[i], 2);
  }
  const Shape shape{static_cast<std::int64_t>(n)};
  const TripleComparison c =
      CompareTriple({TensorView(ref, shape), TensorView(base, shape), TensorView(target, shape)});
  const double base_norm = static_cast<double>(std::sqrt(base_sq));
  const double target_norm = static_cast<double>(std::sqrt(target_sq));
  EXPECT_NEAR(c.baseline_error.norm, base_norm, 1e-14 * base_norm);
  EXPECT_NEAR(c.target_error.norm, target_norm, 1e-14 * target_norm);
  EXPECT_EQ(c.outcome, Outcome::kDegenerateBaseline) << "1e-162 against 1 is negligible";
}

// The acceptance check: a 64M-element triple, R against a float64 (long double
// accumulated) reference to 1e-12, and bitwise the same with 1 and 2 threads.
TEST(CompareTripleLargeTest, SixtyFourMillionElements) {
  const std::int64_t n = std::int64_t{64} << 20;
  const Owned o = MakeTriple(n, 0.003f);
  const LongDoubleReference ref = Reference(o);
  const TripleComparison one = CompareTriple(o.triple(), CompareOptions{.threads = 1});
  const TripleComparison two = CompareTriple(o.triple(), CompareOptions{.threads = 2});
  EXPECT_NEAR(one.r_ratio, ref.r_ratio(), 1e-12 * ref.r_ratio());
  const auto bits = [](double v) { return std::bit_cast<std::uint64_t>(v); };
  EXPECT_EQ(bits(one.r_ratio), bits(two.r_ratio));
  for (auto field :
       {&ErrorStats::norm, &ErrorStats::max_abs, &ErrorStats::mean_abs, &ErrorStats::max_rel,
        &ErrorStats::mean_rel, &ErrorStats::rel_frobenius, &ErrorStats::rel_inf}) {
    EXPECT_EQ(bits(one.target_error.*field), bits(two.target_error.*field));
    EXPECT_EQ(bits(one.baseline_error.*field), bits(two.baseline_error.*field));
  }
  EXPECT_EQ(one.worst.flat, two.worst.flat);
  std::cout << "64M-element triple: R = " << one.r_ratio << ", long double reference "
            << ref.r_ratio() << ", relative difference "
            << std::fabs(one.r_ratio - ref.r_ratio()) / ref.r_ratio()
            << "; 1 and 2 threads bitwise equal\n";
}

}  // namespace
}  // namespace equiv

namespace equiv::internal {
namespace {

// Every build of the kernel (portable, AVX2, AVX-512) gives the same bits, on every layout.
TEST(TripleKernelTest, EveryInstructionSetGivesTheSameBits) {
  const std::int64_t n = 100003;
  std::vector<float> ref(n), base(n), target(n);
  std::vector<std::uint16_t> base16(n), target16(n);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    ref[k] =
        std::ldexp(static_cast<float>((i * 7919) % 2001 - 1000), static_cast<int>(i % 40) - 30);
    base[k] = RoundToBf16(ref[k]);
    target[k] = RoundToBf16(ref[k] * (1.0f + 0.01f * static_cast<float>(i % 13 - 6)));
    base16[k] = FloatToBf16Bits(base[k]);
    target16[k] = FloatToBf16Bits(target[k]);
  }
  ref[17] = 0.0f;  // skipped by relative errors
  const Shape shape{n};
  const std::vector<Triple> layouts = {
      {TensorView(ref, shape), TensorView(base, shape), TensorView(target, shape)},
      {TensorView(ref, shape), TensorView(base16, DType::kBF16, shape),
       TensorView(target16, DType::kBF16, shape)}};
  const KernelIsa best = ActiveKernelIsa();
  for (const Triple& triple : layouts) {
    ASSERT_TRUE(UseKernelIsa(KernelIsa::kPortable));
    const nlohmann::json expected = ToJson(CompareTriple(triple));
    for (KernelIsa isa : {KernelIsa::kAvx2, KernelIsa::kAvx512}) {
      if (!UseKernelIsa(isa)) continue;
      // Full-precision JSON numbers round-trip exactly, so equal JSON means equal bits.
      EXPECT_EQ(ToJson(CompareTriple(triple)), expected) << "isa " << static_cast<int>(isa);
    }
  }
  UseKernelIsa(best);
}

TEST(TripleKernelTest, VerdictPassGivesTheSameBitsOnEveryInstructionSet) {
  const std::int64_t n = 2 * kTripleChunk + 13;
  std::vector<float> ref(n), base(n), target(n);
  std::vector<std::uint16_t> ref16(n), base16(n), target16(n);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    ref[k] =
        std::ldexp(static_cast<float>((i * 7919) % 2001 - 1000), static_cast<int>(i % 40) - 30);
    base[k] = RoundToBf16(ref[k] * (1.0f + 0.004f * static_cast<float>(i % 5 - 2)));
    target[k] = RoundToBf16(ref[k] * (1.0f + 0.004f * static_cast<float>(i % 7 - 3)));
    ref16[k] = FloatToBf16Bits(ref[k]);
    base16[k] = FloatToBf16Bits(base[k]);
    target16[k] = FloatToBf16Bits(target[k]);
  }
  const Shape shape{n};
  const std::vector<Triple> layouts = {
      {TensorView(ref, shape), TensorView(base, shape), TensorView(target, shape)},
      {TensorView(ref, shape), TensorView(base16, DType::kBF16, shape),
       TensorView(target16, DType::kBF16, shape)},
      {TensorView(ref16, DType::kBF16, shape), TensorView(base16, DType::kBF16, shape),
       TensorView(target16, DType::kBF16, shape)}};
  const CompareOptions verdict{.statistics = StatisticsWhen::kOnFailure};
  const KernelIsa best = ActiveKernelIsa();
  for (const Triple& triple : layouts) {
    ASSERT_TRUE(UseKernelIsa(KernelIsa::kPortable));
    const TripleComparison expected = CompareTriple(triple, verdict);
    for (KernelIsa isa : {KernelIsa::kAvx2, KernelIsa::kAvx512}) {
      if (!UseKernelIsa(isa)) continue;
      const TripleComparison c = CompareTriple(triple, verdict);
      EXPECT_EQ(std::bit_cast<std::uint64_t>(c.target_error.norm),
                std::bit_cast<std::uint64_t>(expected.target_error.norm));
      EXPECT_EQ(std::bit_cast<std::uint64_t>(c.baseline_error.norm),
                std::bit_cast<std::uint64_t>(expected.baseline_error.norm));
      EXPECT_EQ(std::bit_cast<std::uint64_t>(c.ref_norm),
                std::bit_cast<std::uint64_t>(expected.ref_norm));
    }
  }
  UseKernelIsa(best);
}

}  // namespace
}  // namespace equiv::internal
