// Issue 16, items 8 and 9: magnitudes at both ends of the range must not give a silent
// wrong verdict. Tiny references once passed any target (an absolute eps dominated the
// denominator); float64 references near 1e307 overflowed the squared norms into an inf/inf
// "degenerate baseline" that passed a 1.5x target.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/precision/bf16.h"

namespace equiv {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Deterministic values in [-1, 1) from a hash of the index.
double Noise(std::uint64_t i, std::uint64_t salt) {
  std::uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull ^ (salt * 0xD1B54A32D192ED03ull);
  z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ull;
  z ^= z >> 29;
  return static_cast<double>(z >> 11) * 0x1p-52 - 1.0;
}

template <typename T>
struct Owned {
  std::vector<T> ref, base, target;
  Triple triple() const {
    const Shape shape{static_cast<std::int64_t>(ref.size())};
    return {TensorView(ref, shape), TensorView(base, shape), TensorView(target, shape)};
  }
};

// float32 references scaled by `scale` (a power of two), the baseline their bf16 rounding.
Owned<float> FloatTriple(int n, float scale) {
  Owned<float> o;
  for (int i = 0; i < n; ++i) {
    const float r = static_cast<float>(Noise(i, 1)) * scale;
    o.ref.push_back(r);
    o.base.push_back(RoundToBf16(r));
    o.target.push_back(RoundToBf16(r * (1.0f + 0x1p-12f * static_cast<float>(Noise(i, 2)))));
  }
  return o;
}

std::uint64_t Bits(double v) { return std::bit_cast<std::uint64_t>(v); }

TEST(TripleComparisonHostileTest, TinyMagnitudesFailAWrongTarget) {
  // References around 1e-33 (normal float32): -ref, zeros and noise are wrong computations.
  const Owned<float> tiny = FloatTriple(4096, 0x1p-110f);
  for (const char* kind : {"negated", "zeros", "noise"}) {
    Owned<float> o = tiny;
    for (std::size_t i = 0; i < o.target.size(); ++i) {
      const std::string k = kind;
      o.target[i] = k == "negated" ? -o.ref[i]
                    : k == "zeros" ? 0.0f
                                   : static_cast<float>(Noise(i, 7)) * 0x1p-110f;
    }
    const TripleComparison c = CompareTriple(o.triple());
    EXPECT_EQ(OutcomeName(c.outcome), "ratio") << kind;
    EXPECT_FALSE(c.passed) << kind << ": " << c.message;
    EXPECT_GT(c.r_ratio, 100) << kind;
    EXPECT_THAT(c.message, StartsWith("R = ")) << kind;
    EXPECT_THAT(c.message, HasSubstr(">= tau = 1.2: wrong_computation")) << kind;
  }
}

TEST(TripleComparisonHostileTest, RDoesNotDependOnTheScaleOfTheData) {
  // Scaling by a power of two is exact, so R must be bitwise the same at 1e-30 as at 1.
  const TripleComparison one = CompareTriple(FloatTriple(4096, 1.0f).triple());
  const TripleComparison tiny = CompareTriple(FloatTriple(4096, 0x1p-100f).triple());
  const TripleComparison huge = CompareTriple(FloatTriple(4096, 0x1p100f).triple());
  ASSERT_TRUE(one.passed) << one.message;
  EXPECT_EQ(Bits(tiny.r_ratio), Bits(one.r_ratio)) << tiny.message;
  EXPECT_EQ(Bits(huge.r_ratio), Bits(one.r_ratio)) << huge.message;
  EXPECT_TRUE(tiny.passed);
  EXPECT_EQ(tiny.message, one.message);
}

TEST(TripleComparisonHostileTest, SubnormalReferencesAreAnErrorNeverAPass) {
  // Every reference subnormal in float32: target = 3 * ref once gave R 4.9e-9, a pass.
  Owned<float> o;
  for (int i = 0; i < 1000; ++i) {
    const float r = static_cast<float>(Noise(i, 3)) * 0x1p-127f;
    o.ref.push_back(r);
    o.base.push_back(RoundToBf16(r));
    o.target.push_back(3 * r);
  }
  const TripleComparison wrong = CompareTriple(o.triple());
  EXPECT_EQ(OutcomeName(wrong.outcome), "subnormal_reference");
  EXPECT_FALSE(wrong.passed);
  EXPECT_TRUE(std::isnan(wrong.r_ratio)) << "no R that measures the number format";
  EXPECT_THAT(wrong.message, StartsWith("error: every nonzero |ref_fp32| is subnormal (max "));
  EXPECT_THAT(wrong.message, HasSubstr("below the smallest normal float32 1.1754943508222875e-38"));
  EXPECT_THAT(wrong.message, HasSubstr("scale the test inputs, nothing about the port was judged"));

  // Not a pass either when the target equals the baseline: nothing was judged.
  o.target = o.base;
  const TripleComparison same = CompareTriple(o.triple());
  EXPECT_EQ(OutcomeName(same.outcome), "subnormal_reference");
  EXPECT_FALSE(same.passed);

  // One normal reference among subnormal ones: judged as usual.
  o.ref[10] = o.base[10] = o.target[10] = 1.0f;
  EXPECT_NE(OutcomeName(CompareTriple(o.triple()).outcome), "subnormal_reference");
}

TEST(TripleComparisonHostileTest, AllZeroReferencesStayADegenerateBaseline) {
  // Zeros are exact in every format: still judged by exact agreement, not as subnormal.
  const std::vector<float> zeros(64, 0.0f);
  std::vector<float> target(64, 0.0f);
  const Shape shape{64};
  const Triple exact{TensorView(zeros, shape), TensorView(zeros, shape), TensorView(target, shape)};
  EXPECT_EQ(OutcomeName(CompareTriple(exact).outcome), "degenerate_baseline");
  EXPECT_TRUE(CompareTriple(exact).passed);
  target[5] = 1e-40f;
  const Triple off{TensorView(zeros, shape), TensorView(zeros, shape), TensorView(target, shape)};
  EXPECT_FALSE(CompareTriple(off).passed);
}

// float64 references near 1e307 whose squares overflow; the baseline a bf16-sized relative
// error, the target `target_scale` times the reference.
Owned<double> NearOverflow(int n, double target_scale) {
  Owned<double> o;
  for (int i = 0; i < n; ++i) {
    const double r = 1e307 * (1 + 0.5 * Noise(i, 4));
    o.ref.push_back(r);
    o.base.push_back(r * (1 + 0x1p-8 * Noise(i, 5)));
    o.target.push_back(target_scale == 1 ? r * (1 + 0x1p-8 * Noise(i, 6)) : r * target_scale);
  }
  return o;
}

TEST(TripleComparisonHostileTest, NearOverflowNormsDoNotOverflow) {
  // A 1.5x target once passed as an inf/inf "degenerate baseline".
  const TripleComparison wrong = CompareTriple(NearOverflow(200, 1.5).triple());
  EXPECT_EQ(OutcomeName(wrong.outcome), "ratio") << wrong.message;
  EXPECT_FALSE(wrong.passed);
  EXPECT_THAT(wrong.message, HasSubstr(">= tau = 1.2: wrong_computation"));
  EXPECT_TRUE(std::isfinite(wrong.target_error.norm));
  EXPECT_TRUE(std::isfinite(wrong.baseline_error.norm));
  EXPECT_TRUE(std::isfinite(wrong.ref_norm));

  // The same triple scaled down by 2^-1000 (exact) has plain sums: R agrees closely.
  Owned<double> scaled = NearOverflow(200, 1.5);
  for (auto* v : {&scaled.ref, &scaled.base, &scaled.target}) {
    for (double& x : *v) x = std::ldexp(x, -1000);
  }
  const TripleComparison plain = CompareTriple(scaled.triple());
  EXPECT_NEAR(wrong.r_ratio, plain.r_ratio, 1e-13 * plain.r_ratio);
  EXPECT_NEAR(wrong.ref_norm, std::ldexp(plain.ref_norm, 1000), 1e-13 * wrong.ref_norm);

  // A port with the baseline's own error still passes.
  const TripleComparison good = CompareTriple(NearOverflow(200, 1).triple());
  EXPECT_EQ(OutcomeName(good.outcome), "ratio") << good.message;
  EXPECT_TRUE(good.passed) << good.message;
  EXPECT_LT(good.r_ratio, 1.2);
}

TEST(TripleComparisonHostileTest, NormsBeyondTheRangeOfDoubleStillGiveR) {
  // 100,000 errors near 5e306: ||target - ref_fp32|| is about 1.6e309, beyond double.
  const TripleComparison c = CompareTriple(NearOverflow(100000, 1.5).triple());
  EXPECT_EQ(OutcomeName(c.outcome), "ratio") << c.message;
  EXPECT_FALSE(c.passed);
  EXPECT_TRUE(std::isinf(c.target_error.norm));
  EXPECT_TRUE(std::isfinite(c.r_ratio));
  EXPECT_GT(c.r_ratio, 100);
  const TripleComparison good = CompareTriple(NearOverflow(100000, 1).triple());
  EXPECT_TRUE(good.passed) << good.message;
  EXPECT_GT(good.r_ratio, 0.8);
}

}  // namespace
}  // namespace equiv
