// Does Eigen 3.4's own float -> Eigen::bfloat16 / Eigen::half conversion agree with
// PyTorch? Measured on the golden data (rounding_golden.h) rather than assumed, and asserted
// so that a different Eigen (or build flags that switch Eigen to another code path) gets
// noticed. Finding with Eigen 3.4.0 on x86-64 (see docs/precision.md):
//  - every non-NaN float rounds exactly as PyTorch does, for bf16 and f16: on the golden
//    patterns directly, on all 2^32 floats through equiv (proven equal to PyTorch by the
//    bf16 and f16 tests); Array::cast<>() gives the same bits as the constructors;
//  - NaN stays NaN, but Eigen's bf16 NaN is 0x7FC0 or 0xFFC0 (sign kept), where PyTorch's
//    AVX2 kernel writes 0xFFFF and equiv writes 0x7FC0; Eigen's half NaN is 0x7E00 | sign,
//    exactly PyTorch's.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "libequiv/precision/bf16.h"
#include "libequiv/precision/f16.h"
#include "tests/libequiv/precision/rounding_golden.h"

namespace equiv {
namespace {

using golden::Format;
using golden::GoldenRecord;
using golden::Hex;

// Lambdas, not function pointers, so the 2^32-input loops inline them.
constexpr auto kEigenBf16 = [](float value) { return Eigen::bfloat16(value).value; };
constexpr auto kEigenHalf = [](float value) { return Eigen::half(value).x; };
constexpr auto kEquivBf16 = [](float value) { return FloatToBf16Bits(value); };
constexpr auto kEquivF16 = [](float value) { return FloatToF16Bits(value); };

// Which of Eigen's code paths this build compiled; the finding is about these.
std::string EigenPaths() {
  std::string paths = "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
                      std::to_string(EIGEN_MAJOR_VERSION) + "." +
                      std::to_string(EIGEN_MINOR_VERSION) + ", SIMD " +
                      Eigen::SimdInstructionSetsInUse() + ", half via ";
#ifdef EIGEN_HAS_FP16_C
  paths += "F16C _cvtss_sh";
#else
  paths += "software float_to_half_rtne";
#endif
  return paths;
}

// How a conversion's results fall into classes relative to PyTorch's.
struct Agreement {
  std::size_t checked = 0;
  std::size_t non_nan_differ = 0;  // a non-NaN input rounded to other bits: a real disagreement
  std::size_t nan_inputs = 0;
  std::size_t nan_lost = 0;           // NaN in, non-NaN out
  std::size_t nan_same_bits = 0;      // NaN in, PyTorch's exact NaN bits out
  std::size_t nan_equiv_bits = 0;     // NaN in, equiv's NaN bits out
  std::vector<std::string> examples;  // the first few differences of any kind

  void Add(const GoldenRecord& record, std::uint16_t expected, std::uint16_t actual,
           std::uint16_t equiv_bits, Format format) {
    ++checked;
    const bool differ = actual != expected;
    if (golden::IsNaNFloatBits(record.input)) {
      ++nan_inputs;
      nan_lost += !golden::IsNaNBits(format, actual);
      nan_same_bits += !differ;
      nan_equiv_bits += actual == equiv_bits;
    } else {
      non_nan_differ += differ;
    }
    if (differ && examples.size() < 4) {
      examples.push_back(Hex(record.input, 8) + ": torch " + Hex(expected, 4) + ", Eigen " +
                         Hex(actual, 4) + ", equiv " + Hex(equiv_bits, 4));
    }
  }

  std::string Summary(const char* what) const {
    std::string text = std::string(what) + ": " + std::to_string(checked) +
                       " patterns, non-NaN inputs rounded differently from PyTorch: " +
                       std::to_string(non_nan_differ) + "; NaN inputs " +
                       std::to_string(nan_inputs) +
                       " (stayed NaN: " + std::to_string(nan_inputs - nan_lost) +
                       ", PyTorch's NaN bits: " + std::to_string(nan_same_bits) +
                       ", equiv's NaN bits: " + std::to_string(nan_equiv_bits) + ")";
    for (const std::string& example : examples) text += "\n    e.g. " + example;
    return text;
  }
};

class EigenConversionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    golden_ = golden::LoadRoundingGolden(&error);
    ASSERT_NE(golden_, nullptr) << error;
    for (const auto* set : {&golden_->edge, &golden_->uniform, &golden_->f16_range}) {
      records_.insert(records_.end(), set->begin(), set->end());
    }
  }

  template <typename Convert, typename Equiv>
  Agreement Measure(Format format, Convert convert, Equiv equiv_convert) const {
    Agreement agreement;
    for (const GoldenRecord& record : records_) {
      const float input = std::bit_cast<float>(record.input);
      agreement.Add(record, golden::Expected(record, format), convert(input), equiv_convert(input),
                    format);
    }
    return agreement;
  }

  const golden::RoundingGolden* golden_ = nullptr;
  std::vector<GoldenRecord> records_;
};

TEST_F(EigenConversionTest, Bf16AgreesWithPyTorchExceptForNaNBits) {
  const Agreement agreement = Measure(Format::kBf16, kEigenBf16, kEquivBf16);
  std::cout << "[" << EigenPaths() << "]\n" << agreement.Summary("Eigen::bfloat16(float)") << "\n";
  EXPECT_GE(agreement.checked, 2u << 20);
  EXPECT_EQ(agreement.non_nan_differ, 0u);
  EXPECT_EQ(agreement.nan_lost, 0u);
  // PyTorch's vectorised kernel writes 0xFFFF for every NaN; Eigen never does.
  EXPECT_EQ(agreement.nan_same_bits, 0u);
  EXPECT_GT(agreement.nan_inputs, 0u);
  // Eigen keeps the sign of a NaN (0xFFC0), equiv does not (0x7FC0): equal on positive NaNs.
  std::size_t positive_nans = 0;
  for (const GoldenRecord& record : records_) {
    positive_nans += golden::IsNaNFloatBits(record.input) && (record.input >> 31) == 0;
  }
  EXPECT_EQ(agreement.nan_equiv_bits, positive_nans);
  EXPECT_EQ(kEigenBf16(std::bit_cast<float>(0x7F800001u)), 0x7FC0);
  EXPECT_EQ(kEigenBf16(std::bit_cast<float>(0xFF800001u)), 0xFFC0);
}

TEST_F(EigenConversionTest, HalfAgreesWithPyTorchIncludingNaNBits) {
  const Agreement agreement = Measure(Format::kF16, kEigenHalf, kEquivF16);
  std::cout << "[" << EigenPaths() << "]\n" << agreement.Summary("Eigen::half(float)") << "\n";
  EXPECT_GE(agreement.checked, 2u << 20);
  EXPECT_EQ(agreement.non_nan_differ, 0u);
  EXPECT_EQ(agreement.nan_lost, 0u);
  EXPECT_EQ(agreement.nan_same_bits, agreement.nan_inputs);
  EXPECT_EQ(agreement.nan_equiv_bits, agreement.nan_inputs);
}

// Array::cast may take a vectorised path (with AVX or AVX-512 builds); it must agree with
// the scalar constructors.
TEST_F(EigenConversionTest, ArrayCastAgreesWithScalarConstructors) {
  Eigen::ArrayXf inputs(static_cast<Eigen::Index>(records_.size()));
  for (std::size_t i = 0; i < records_.size(); ++i) {
    inputs[static_cast<Eigen::Index>(i)] = std::bit_cast<float>(records_[i].input);
  }
  const Eigen::Array<Eigen::bfloat16, Eigen::Dynamic, 1> bf16 = inputs.cast<Eigen::bfloat16>();
  const Eigen::Array<Eigen::half, Eigen::Dynamic, 1> half = inputs.cast<Eigen::half>();
  std::size_t bf16_differ = 0, half_differ = 0;
  for (Eigen::Index i = 0; i < inputs.size(); ++i) {
    bf16_differ += bf16[i].value != kEigenBf16(inputs[i]);
    half_differ += half[i].x != kEigenHalf(inputs[i]);
  }
  std::cout << "Array::cast<> vs scalar constructors over " << inputs.size() << " patterns: bf16 "
            << bf16_differ << " differ, half " << half_differ << " differ\n";
  EXPECT_EQ(bf16_differ, 0u);
  EXPECT_EQ(half_differ, 0u);
}

// Every float, Eigen against equiv, which the bf16 and f16 tests prove equal to PyTorch on
// all non-NaN floats; exact counts rather than digests, so a change shows its size.
struct AllFloatsAgreement {
  std::uint64_t non_nan_differ = 0;
  std::uint64_t nan_inputs = 0;
  std::uint64_t nan_lost = 0;
  std::uint64_t nan_bits_differ = 0;
  std::uint32_t first_non_nan_differ = 0;
};

template <typename Eigen, typename Equiv>
AllFloatsAgreement CompareAllFloats(Format format, Eigen eigen_convert, Equiv equiv_convert) {
  constexpr int kChunkBits = 24;
  std::vector<AllFloatsAgreement> chunks(std::size_t{1} << (32 - kChunkBits));
  golden::ForEachChunkInParallel(chunks.size(), [&](std::uint64_t chunk) {
    AllFloatsAgreement& counts = chunks[chunk];
    for (std::uint64_t x = chunk << kChunkBits; x < (chunk + 1) << kChunkBits; ++x) {
      const auto bits = static_cast<std::uint32_t>(x);
      const std::uint16_t eigen = eigen_convert(std::bit_cast<float>(bits));
      const std::uint16_t equiv = equiv_convert(std::bit_cast<float>(bits));
      if (golden::IsNaNFloatBits(bits)) {
        ++counts.nan_inputs;
        counts.nan_lost += !golden::IsNaNBits(format, eigen);
        counts.nan_bits_differ += eigen != equiv;
      } else if (eigen != equiv && counts.non_nan_differ++ == 0) {
        counts.first_non_nan_differ = bits;
      }
    }
  });
  AllFloatsAgreement total;
  for (const AllFloatsAgreement& counts : chunks) {
    if (total.non_nan_differ == 0) total.first_non_nan_differ = counts.first_non_nan_differ;
    total.non_nan_differ += counts.non_nan_differ;
    total.nan_inputs += counts.nan_inputs;
    total.nan_lost += counts.nan_lost;
    total.nan_bits_differ += counts.nan_bits_differ;
  }
  std::cout << "Eigen vs equiv " << golden::FormatName(format)
            << ", all 4294967296 floats: non-NaN inputs rounded differently: "
            << total.non_nan_differ
            << (total.non_nan_differ != 0 ? " (first " + Hex(total.first_non_nan_differ, 8) + ")"
                                          : std::string())
            << "; NaN inputs " << total.nan_inputs << ", not kept NaN " << total.nan_lost
            << ", other NaN bits " << total.nan_bits_differ << "\n";
  return total;
}

constexpr std::uint64_t kNaNFloats = 2 * ((std::uint64_t{1} << 23) - 1);

TEST(EigenAllFloatsTest, Bf16DiffersFromEquivOnlyInTheBitsOfNegativeNaNs) {
  const AllFloatsAgreement all = CompareAllFloats(Format::kBf16, kEigenBf16, kEquivBf16);
  EXPECT_EQ(all.non_nan_differ, 0u);
  EXPECT_EQ(all.nan_inputs, kNaNFloats);
  EXPECT_EQ(all.nan_lost, 0u);
  EXPECT_EQ(all.nan_bits_differ, kNaNFloats / 2);  // Eigen 0xFFC0, equiv 0x7FC0
}

TEST(EigenAllFloatsTest, HalfIsIdenticalToEquiv) {
  const AllFloatsAgreement all = CompareAllFloats(Format::kF16, kEigenHalf, kEquivF16);
  EXPECT_EQ(all.non_nan_differ, 0u);
  EXPECT_EQ(all.nan_inputs, kNaNFloats);
  EXPECT_EQ(all.nan_lost, 0u);
  EXPECT_EQ(all.nan_bits_differ, 0u);
}

}  // namespace
}  // namespace equiv
