// FloatToF16Bits against PyTorch's tensor.to(torch.float16): the golden edge cases and
// random patterns bit for bit, all 2^32 floats by chunk digest, plus round trips, the value
// of every f16 bit pattern, monotonicity and constexpr evaluation. The golden file's
// format is described in rounding_golden.h and tools/golden/make_precision_golden.py.
#include "libequiv/precision/f16.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "tests/libequiv/precision/rounding_golden.h"

namespace equiv {
namespace {

using golden::Format;
using golden::Hex;

// Evaluated by the compiler: the conversion must stay usable in constant expressions.
static_assert(FloatToF16Bits(1.0f) == 0x3C00);
static_assert(FloatToF16Bits(1.0f + 0x1p-11f) == 0x3C00);  // tie, even kept
static_assert(FloatToF16Bits(1.0f + 0x3p-11f) == 0x3C02);  // tie, odd kept
static_assert(FloatToF16Bits(65504.0f) == 0x7BFF);         // largest f16
static_assert(FloatToF16Bits(65519.99f) == 0x7BFF);
static_assert(FloatToF16Bits(65520.0f) == 0x7C00);  // halfway to 2^16: inf
static_assert(FloatToF16Bits(-65520.0f) == 0xFC00);
static_assert(FloatToF16Bits(0x1p-14f) == 0x0400);             // smallest normal
static_assert(FloatToF16Bits(0x1p-14f - 0x1p-25f) == 0x0400);  // tie, odd subnormal kept
static_assert(FloatToF16Bits(0x1p-24f) == 0x0001);             // smallest subnormal
static_assert(FloatToF16Bits(0x1p-25f) == 0x0000);             // tie with zero
static_assert(FloatToF16Bits(0x1.000002p-25f) == 0x0001);
static_assert(FloatToF16Bits(0x3p-25f) == 0x0002);  // subnormal tie, odd kept
static_assert(FloatToF16Bits(std::numeric_limits<float>::infinity()) == 0x7C00);
static_assert(FloatToF16Bits(std::bit_cast<float>(0xFF800001u)) == 0xFE00);  // NaN keeps sign
static_assert(F16BitsToFloat(0x0001) == 0x1p-24f);
static_assert(F16BitsToFloat(0xC248) == -3.140625f);
static_assert(RoundToF16(0.1f) == 0x1.998p-4f);

// A lambda, not a function pointer, so the 2^32-input loops inline it.
constexpr auto kConvertF16 = [](float value) { return FloatToF16Bits(value); };

class F16GoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    golden_ = golden::LoadRoundingGolden(&error);
    ASSERT_NE(golden_, nullptr) << error;
  }

  void ExpectMatchesPyTorch(const std::vector<golden::GoldenRecord>& records, const char* set) {
    const golden::RecordCheck check = golden::CheckRecords(records, Format::kF16, kConvertF16);
    std::cout << "[f16] " << set << ": " << check.checked << " patterns checked against "
              << golden_->provenance << " (" << check.nan_inputs << " NaN inputs)\n";
    RecordProperty("patterns_checked", std::to_string(check.checked));
    EXPECT_EQ(check.mismatches, 0u) << check.Describe(set, Format::kF16);
  }

  const golden::RoundingGolden* golden_ = nullptr;
};

TEST_F(F16GoldenTest, EdgeCasesMatchPyTorch) {
  EXPECT_GE(golden_->edge.size(), 1000u);
  ExpectMatchesPyTorch(golden_->edge, "edge-case");
}

TEST_F(F16GoldenTest, UniformRandomPatternsMatchPyTorch) {
  EXPECT_GE(golden_->uniform.size(), 1u << 20);
  ExpectMatchesPyTorch(golden_->uniform, "uniform random");
}

// Exponents around f16's range: every rounding regime (zero, subnormal, normal, inf).
TEST_F(F16GoldenTest, F16RangeRandomPatternsMatchPyTorch) {
  EXPECT_GE(golden_->f16_range.size(), 1u << 20);
  EXPECT_LE(golden_->f16_range_exponent_min, 102u);  // below 2^-25: rounds to zero
  EXPECT_GE(golden_->f16_range_exponent_max, 143u);  // 2^16 and up: infinity
  ExpectMatchesPyTorch(golden_->f16_range, "f16-range random");
}

// Every float, in 2^(32-B) chunk digests; NaNs are excluded from the digest but must stay NaN.
TEST_F(F16GoldenTest, EveryFloatMatchesPyTorchDigests) {
  const golden::AllFloatsDigest all =
      golden::DigestAllFloats(Format::kF16, golden_->seed, golden_->digest_chunk_bits, kConvertF16);
  std::cout << "[f16] all floats: 4294967296 inputs checked by " << all.digests.size()
            << " chunk digests (" << all.nan_inputs << " NaN inputs checked for NaN)\n";
  RecordProperty("floats_checked", "4294967296");
  EXPECT_EQ(golden::CompareDigests(*golden_, Format::kF16, all.digests), "");
  EXPECT_EQ(all.nan_inputs, 2u * ((1u << 23) - 1));
  EXPECT_EQ(all.nan_not_kept, 0u);
}

// The value an IEEE binary16 pattern encodes, computed in double from the definition.
double F16Value(std::uint16_t bits) {
  const int exponent = (bits >> 10) & 0x1F;
  const int mantissa = bits & 0x3FF;
  const double magnitude =
      exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
  return (bits & 0x8000) != 0 ? -magnitude : magnitude;
}

TEST(F16Test, EveryF16BitPatternConvertsExactlyAndRoundTrips) {
  int nan_count = 0;
  for (std::uint32_t i = 0; i <= 0xFFFF; ++i) {
    const auto bits = static_cast<std::uint16_t>(i);
    const float value = F16BitsToFloat(bits);
    ASSERT_EQ(std::signbit(value), (bits & 0x8000) != 0) << Hex(bits, 4);
    if (golden::IsNaNF16Bits(bits)) {
      ++nan_count;
      ASSERT_TRUE(std::isnan(value)) << Hex(bits, 4);
      ASSERT_TRUE(golden::IsNaNF16Bits(FloatToF16Bits(value))) << Hex(bits, 4);
      continue;
    }
    if ((bits & 0x7FFF) == 0x7C00) {
      ASSERT_TRUE(std::isinf(value)) << Hex(bits, 4);
    } else {
      ASSERT_EQ(static_cast<double>(value), F16Value(bits)) << Hex(bits, 4);
    }
    ASSERT_EQ(FloatToF16Bits(value), bits) << Hex(bits, 4);
    ASSERT_EQ(RoundToF16(value), value) << Hex(bits, 4);
  }
  EXPECT_EQ(nan_count, 2 * 1023);  // exponent all ones, mantissa non-zero, either sign
}

// Walks every positive float upwards: the result never decreases, and -x rounds to -(x).
TEST(F16Test, MonotonicAndSignSymmetricOverEveryFloat) {
  std::uint16_t previous = 0;
  for (std::uint32_t bits = 0; bits <= 0x7F800000u; ++bits) {
    const std::uint16_t rounded = FloatToF16Bits(std::bit_cast<float>(bits));
    const std::uint16_t negated = FloatToF16Bits(std::bit_cast<float>(bits | 0x80000000u));
    if (rounded < previous || negated != (rounded | 0x8000u)) {
      FAIL() << "input " << Hex(bits, 8) << " rounds to " << Hex(rounded, 4)
             << " after the smaller input rounded to " << Hex(previous, 4) << "; its negation to "
             << Hex(negated, 4);
    }
    previous = rounded;
  }
}

}  // namespace
}  // namespace equiv
