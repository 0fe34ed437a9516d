#include "libequiv/precision/mxfp4.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "libequiv/io/safetensors.h"
#include "libequiv/tensor/error.h"
#include "tests/libequiv/precision/quant_golden.h"

namespace equiv {
namespace {

using ::equiv::testing::FloatBits;
using ::equiv::testing::GoldenTensor;
using ::equiv::testing::QuantGolden;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Counts elements whose float32 bits differ from the golden's (no golden value is a NaN).
std::int64_t BitMismatches(const std::vector<float>& got, const TensorView& want) {
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < want.shape().NumElements(); ++i) {
    if (std::bit_cast<std::uint32_t>(got[static_cast<std::size_t>(i)]) != FloatBits(want.Get(i))) {
      ++wrong;
    }
  }
  return wrong;
}

TEST(Mxfp4Test, DequantizesExpertsAsHfBitForBit) {
  const Tensor values = DequantizeMxfp4("mxfp4.moe", QuantGolden().Raw("mxfp4.moe_blocks"),
                                        QuantGolden().Raw("mxfp4.moe_scales"));
  ASSERT_EQ(values.shape(), (Shape{2, 8, 512}));
  // HF transposes the expert layout [E, rows, K] to [E, K, rows] after dequantizing.
  const std::vector<float> v = values.ToFloats();
  std::vector<float> transposed(v.size());
  for (int e = 0; e < 2; ++e) {
    for (int r = 0; r < 8; ++r) {
      for (int k = 0; k < 512; ++k) transposed[(e * 512 + k) * 8 + r] = v[(e * 8 + r) * 512 + k];
    }
  }
  const TensorView bf16 = QuantGolden().View("mxfp4.moe_bf16");
  const TensorView f32 = QuantGolden().View("mxfp4.moe_f32");
  ASSERT_EQ(bf16.shape(), (Shape{2, 512, 8}));
  EXPECT_EQ(BitMismatches(transposed, bf16), 0);
  EXPECT_EQ(BitMismatches(transposed, f32), 0);
  // The golden covers overflow (6 * 2^127 is +-inf in PyTorch too) and the smallest scale.
  std::int64_t infinities = 0;
  for (float x : v) infinities += std::isinf(x) ? 1 : 0;
  EXPECT_GT(infinities, 0);
}

TEST(Mxfp4Test, DequantizesALinearWeightBitForBit) {
  const Tensor values = DequantizeMxfp4("mxfp4.linear", QuantGolden().Raw("mxfp4.linear_blocks"),
                                        QuantGolden().Raw("mxfp4.linear_scales"));
  ASSERT_EQ(values.shape(), (Shape{6, 64}));
  EXPECT_EQ(BitMismatches(values.ToFloats(), QuantGolden().View("mxfp4.linear_bf16")), 0);
}

TEST(Mxfp4Test, QuantizesAsTheOcpSpecBitForBit) {
  const Mxfp4Tensor q = QuantizeMxfp4("w", GoldenTensor("mxfp4.quant_input"));
  const SafetensorsRawTensor blocks = QuantGolden().Raw("mxfp4.quant_blocks");
  const SafetensorsRawTensor scales = QuantGolden().Raw("mxfp4.quant_scales");
  EXPECT_EQ(q.blocks_shape, blocks.shape);
  EXPECT_EQ(q.scales_shape, scales.shape);
  EXPECT_EQ(q.blocks, std::vector<std::uint8_t>(blocks.bytes.begin(), blocks.bytes.end()));
  EXPECT_EQ(q.scales, std::vector<std::uint8_t>(scales.bytes.begin(), scales.bytes.end()));
}

TEST(Mxfp4Test, RoundsToE2M1TiesToEvenAndSaturates) {
  EXPECT_EQ(RoundToE2M1(0.25f), 0);   // 0 | 0.5: to 0
  EXPECT_EQ(RoundToE2M1(0.75f), 2);   // 0.5 | 1: to 1
  EXPECT_EQ(RoundToE2M1(1.25f), 2);   // 1 | 1.5: to 1
  EXPECT_EQ(RoundToE2M1(1.75f), 4);   // 1.5 | 2: to 2
  EXPECT_EQ(RoundToE2M1(2.5f), 4);    // 2 | 3: to 2
  EXPECT_EQ(RoundToE2M1(3.5f), 6);    // 3 | 4: to 4
  EXPECT_EQ(RoundToE2M1(5.0f), 6);    // 4 | 6: to 4
  EXPECT_EQ(RoundToE2M1(100.0f), 7);  // saturates at 6
  EXPECT_EQ(RoundToE2M1(-0.1f), 8);   // -0
  EXPECT_EQ(RoundToE2M1(-6.0f), 15);
}

TEST(Mxfp4Test, RoundTripOfQuantizedValuesIsExact) {
  // Values already on the grid of their block's scale survive quantize-then-dequantize.
  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i)
    x[static_cast<std::size_t>(i)] = kE2M1Values[static_cast<std::size_t>(i % 16)] * 0.125f;
  const Mxfp4Tensor q = QuantizeMxfp4("w", Tensor::FromFloats(Shape{2, 32}, x));
  EXPECT_EQ(DequantizeMxfp4("w", q.BlocksView(), q.ScalesView()).ToFloats(), x);
}

TEST(Mxfp4Test, SwappedNibbleOrderAndBiasAreOnlyForFaults) {
  const std::vector<std::uint8_t> blocks(16, 0x21);  // low nibble 0.5, high nibble 1.0
  const std::vector<std::uint8_t> scales = {127};
  const SafetensorsRawTensor b{ElementType::kU8, Shape{1, 16}, blocks};
  const SafetensorsRawTensor s{ElementType::kU8, Shape{1}, scales};
  EXPECT_EQ(DequantizeMxfp4("w", b, s).ToFloats()[0], 0.5f);
  EXPECT_EQ(
      DequantizeMxfp4("w", b, s, {.scale_bias = 127, .low_nibble_first = false}).ToFloats()[0],
      1.0f);
  EXPECT_EQ(DequantizeMxfp4("w", b, s, {.scale_bias = 128, .low_nibble_first = true}).ToFloats()[0],
            0.25f);
}

TEST(Mxfp4Test, RefusesHostileTensorsNamingThem) {
  const std::vector<std::uint8_t> bytes(2 * 3 * 16, 0x11);
  const std::vector<std::uint8_t> scales(6, 127);
  const SafetensorsRawTensor blocks{ElementType::kU8, Shape{2, 3, 16}, bytes};
  const SafetensorsRawTensor good_scales{ElementType::kU8, Shape{2, 3}, scales};
  // Blocks of 15 bytes: not 32 values.
  const SafetensorsRawTensor short_blocks{ElementType::kU8, Shape{2, 3, 16},
                                          std::span(bytes).first(90)};
  EXPECT_THAT(
      [&] { DequantizeMxfp4("e.down_proj", short_blocks, good_scales); },
      ThrowsMessage<Error>(AllOf(HasSubstr("'e.down_proj_blocks'"), HasSubstr("90 bytes"))));
  const SafetensorsRawTensor odd_blocks{ElementType::kU8, Shape{2, 6, 8}, bytes};
  EXPECT_THAT([&] { DequantizeMxfp4("e.down_proj", odd_blocks, good_scales); },
              ThrowsMessage<Error>(AllOf(HasSubstr("'e.down_proj_blocks'"), HasSubstr("[2, 6, 8]"),
                                         HasSubstr("expected [..., blocks, 16]"))));
  // One scale too few per row: the block counts disagree.
  const SafetensorsRawTensor few_scales{ElementType::kU8, Shape{3, 2}, scales};
  EXPECT_THAT([&] { DequantizeMxfp4("e.down_proj", blocks, few_scales); },
              ThrowsMessage<Error>(AllOf(HasSubstr("'e.down_proj_scales'"), HasSubstr("[3, 2]"),
                                         HasSubstr("expected one scale per block, [2, 3]"))));
  std::vector<std::uint8_t> nan_scales = scales;
  nan_scales[4] = 0xFF;
  const SafetensorsRawTensor nan{ElementType::kU8, Shape{2, 3}, nan_scales};
  EXPECT_THAT([&] { DequantizeMxfp4("e.down_proj", blocks, nan); },
              ThrowsMessage<Error>(AllOf(HasSubstr("'e.down_proj_scales'"), HasSubstr("0xFF"),
                                         HasSubstr("E8M0 NaN"), HasSubstr("[1, 1]"))));
  const SafetensorsRawTensor i8{ElementType::kI8, Shape{2, 3}, scales};
  EXPECT_THAT(
      [&] { DequantizeMxfp4("e.down_proj", blocks, i8); },
      ThrowsMessage<Error>(AllOf(HasSubstr("'e.down_proj_scales'"), HasSubstr("dtype I8"))));
  EXPECT_THAT(
      [&] {
        QuantizeMxfp4("w", Tensor(Shape{2, 33}, DType::kF32));
      },
      ThrowsMessage<Error>(AllOf(HasSubstr("'w'"), HasSubstr("[2, 33]"),
                                 HasSubstr("multiple of the block size 32"))));
  Tensor with_nan(Shape{1, 32}, DType::kF32);
  with_nan.Set(7, std::nanf(""));
  EXPECT_THAT(
      [&] { QuantizeMxfp4("w", with_nan); },
      ThrowsMessage<Error>(AllOf(HasSubstr("'w'"), HasSubstr("non-finite"), HasSubstr("[0, 7]"))));
}

}  // namespace
}  // namespace equiv
