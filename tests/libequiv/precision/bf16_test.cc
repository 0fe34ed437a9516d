// FloatToBf16Bits against PyTorch's tensor.to(torch.bfloat16): the golden edge cases and
// random patterns bit for bit, all 2^32 floats by chunk digest, plus round trips,
// monotonicity and constexpr evaluation. The golden file's format is described in
// rounding_golden.h and tools/golden/make_precision_golden.py.
#include "libequiv/precision/bf16.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "tests/libequiv/precision/rounding_golden.h"

namespace equiv {
namespace {

using golden::Format;
using golden::Hex;

// Evaluated by the compiler: the conversion must stay usable in constant expressions.
static_assert(FloatToBf16Bits(1.0f) == 0x3F80);
static_assert(FloatToBf16Bits(std::bit_cast<float>(0x3F808000u)) == 0x3F80);  // tie, even kept
static_assert(FloatToBf16Bits(std::bit_cast<float>(0x3F818000u)) == 0x3F82);  // tie, odd kept
static_assert(FloatToBf16Bits(std::bit_cast<float>(0x3F7FFFFFu)) == 0x3F80);  // next binade
static_assert(FloatToBf16Bits(std::bit_cast<float>(0x7F7FFFFFu)) == 0x7F80);  // FLT_MAX: inf
static_assert(FloatToBf16Bits(std::bit_cast<float>(0x00018000u)) == 0x0002);  // subnormal tie
static_assert(FloatToBf16Bits(-0.0f) == 0x8000);
static_assert(FloatToBf16Bits(std::bit_cast<float>(0x7F800001u)) == kBf16QuietNaN);
static_assert(Bf16BitsToFloat(0x4049) == 3.140625f);
static_assert(RoundToBf16(1.0f + 0x1p-8f) == 1.0f);

// A lambda, not a function pointer, so the 2^32-input loops inline it.
constexpr auto kConvertBf16 = [](float value) { return FloatToBf16Bits(value); };

class Bf16GoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    golden_ = golden::LoadRoundingGolden(&error);
    ASSERT_NE(golden_, nullptr) << error;
  }

  void ExpectMatchesPyTorch(const std::vector<golden::GoldenRecord>& records, const char* set) {
    const golden::RecordCheck check = golden::CheckRecords(records, Format::kBf16, kConvertBf16);
    std::cout << "[bf16] " << set << ": " << check.checked << " patterns checked against "
              << golden_->provenance << " (" << check.nan_inputs << " NaN inputs)\n";
    RecordProperty("patterns_checked", std::to_string(check.checked));
    EXPECT_EQ(check.mismatches, 0u) << check.Describe(set, Format::kBf16);
  }

  const golden::RoundingGolden* golden_ = nullptr;
};

TEST_F(Bf16GoldenTest, EdgeCasesMatchPyTorch) {
  EXPECT_GE(golden_->edge.size(), 1000u);
  ExpectMatchesPyTorch(golden_->edge, "edge-case");
}

TEST_F(Bf16GoldenTest, UniformRandomPatternsMatchPyTorch) {
  EXPECT_GE(golden_->uniform.size(), 1u << 20);
  ExpectMatchesPyTorch(golden_->uniform, "uniform random");
}

TEST_F(Bf16GoldenTest, F16RangeRandomPatternsMatchPyTorch) {
  EXPECT_GE(golden_->f16_range.size(), 1u << 20);
  ExpectMatchesPyTorch(golden_->f16_range, "f16-range random");
}

// Every float, in 2^(32-B) chunk digests; NaNs are excluded from the digest but must stay NaN.
TEST_F(Bf16GoldenTest, EveryFloatMatchesPyTorchDigests) {
  const golden::AllFloatsDigest all = golden::DigestAllFloats(
      Format::kBf16, golden_->seed, golden_->digest_chunk_bits, kConvertBf16);
  std::cout << "[bf16] all floats: 4294967296 inputs checked by " << all.digests.size()
            << " chunk digests (" << all.nan_inputs << " NaN inputs checked for NaN)\n";
  RecordProperty("floats_checked", "4294967296");
  EXPECT_EQ(golden::CompareDigests(*golden_, Format::kBf16, all.digests), "");
  EXPECT_EQ(all.nan_inputs, 2u * ((1u << 23) - 1));
  EXPECT_EQ(all.nan_not_kept, 0u);
}

TEST(Bf16Test, EveryBf16BitPatternRoundTrips) {
  int nan_count = 0;
  for (std::uint32_t i = 0; i <= 0xFFFF; ++i) {
    const auto bits = static_cast<std::uint16_t>(i);
    const float value = Bf16BitsToFloat(bits);
    // bf16 is the top half of a float, so widening must be exact.
    ASSERT_EQ(std::bit_cast<std::uint32_t>(value), i << 16) << Hex(bits, 4);
    if (golden::IsNaNBf16Bits(bits)) {
      ++nan_count;
      ASSERT_TRUE(std::isnan(value)) << Hex(bits, 4);
      ASSERT_EQ(FloatToBf16Bits(value), kBf16QuietNaN) << Hex(bits, 4);
      continue;
    }
    ASSERT_EQ(FloatToBf16Bits(value), bits) << Hex(bits, 4);
    ASSERT_EQ(RoundToBf16(value), value) << Hex(bits, 4);
  }
  EXPECT_EQ(nan_count, 2 * 127);  // exponent all ones, mantissa non-zero, either sign
}

// Walks every positive float upwards: the result never decreases, and -x rounds to -(x).
TEST(Bf16Test, MonotonicAndSignSymmetricOverEveryFloat) {
  std::uint16_t previous = 0;
  for (std::uint32_t bits = 0; bits <= 0x7F800000u; ++bits) {
    const std::uint16_t rounded = FloatToBf16Bits(std::bit_cast<float>(bits));
    const std::uint16_t negated = FloatToBf16Bits(std::bit_cast<float>(bits | 0x80000000u));
    if (rounded < previous || negated != (rounded | 0x8000u)) {
      FAIL() << "input " << Hex(bits, 8) << " rounds to " << Hex(rounded, 4)
             << " after the smaller input rounded to " << Hex(previous, 4) << "; its negation to "
             << Hex(negated, 4);
    }
    previous = rounded;
  }
}

TEST(RoundingGoldenReaderTest, MalformedFilesAreDiagnosedWithTheirOffset) {
  golden::RoundingGolden parsed;
  std::vector<unsigned char> bytes(10, 0);
  EXPECT_EQ(golden::ParseRoundingGolden(bytes, &parsed),
            "file has 10 bytes, shorter than the 128-byte header");
  bytes.assign(golden::kRoundingGoldenHeaderSize, 0);
  EXPECT_EQ(golden::ParseRoundingGolden(bytes, &parsed),
            "bad magic at offset 0 (expected \"EQVROUND\")");
  std::copy(golden::kRoundingGoldenMagic.begin(), golden::kRoundingGoldenMagic.end(),
            bytes.begin());
  bytes[8] = 2;
  EXPECT_EQ(golden::ParseRoundingGolden(bytes, &parsed),
            "unsupported version 2 at offset 8 (expected 1)");
  bytes[8] = 1;
  bytes[12] = 128;
  bytes[24] = 1;  // one edge case, but no bytes for it
  bytes[44] = 24;
  EXPECT_EQ(golden::ParseRoundingGolden(bytes, &parsed),
            "file has 128 bytes but its header (edge_count 1, uniform_count 0, "
            "f16_range_count 0, digest_chunk_bits 24) implies 4232");
}

}  // namespace
}  // namespace equiv
