#include "libequiv/precision/int8_weight.h"

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

TEST(Int8WeightTest, QuantizesAsPyTorchBitForBit) {
  const Int8Weight q = QuantizeInt8PerChannel("w", GoldenTensor("int8.input"));
  const SafetensorsRawTensor values = QuantGolden().Raw("int8.values");
  ASSERT_EQ(q.shape, values.shape);
  EXPECT_EQ(std::vector<std::uint8_t>(
                reinterpret_cast<const std::uint8_t*>(q.values.data()),
                reinterpret_cast<const std::uint8_t*>(q.values.data()) + q.values.size()),
            std::vector<std::uint8_t>(values.bytes.begin(), values.bytes.end()));
  const TensorView scale = QuantGolden().View("int8.scale");
  for (std::int64_t o = 0; o < 8; ++o)
    EXPECT_EQ(FloatBits(q.scales.Get(o)), FloatBits(scale.Get(o))) << o;
  // Row 5 has scale 1 and the ties 2.5, -3.5, 0.5: to even.
  EXPECT_EQ(q.values[5 * 48 + 1], 2);
  EXPECT_EQ(q.values[5 * 48 + 2], -4);
  EXPECT_EQ(q.values[5 * 48 + 3], 0);
}

TEST(Int8WeightTest, DequantizesAsPyTorchBitForBit) {
  const Tensor w =
      DequantizeInt8("int8", QuantGolden().Raw("int8.values"), QuantGolden().View("int8.scale"));
  const TensorView want = QuantGolden().View("int8.dequant");
  ASSERT_EQ(w.shape(), want.shape());
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < w.size(); ++i)
    wrong += FloatBits(w.Get(i)) != FloatBits(want.Get(i)) ? 1 : 0;
  EXPECT_EQ(wrong, 0);
}

TEST(Int8WeightTest, RefusesHostileTensorsNamingThem) {
  const std::vector<std::uint8_t> bytes(4 * 6, 3);
  const SafetensorsRawTensor weight{ElementType::kI8, Shape{4, 6}, bytes};
  // Scales per column instead of per row.
  const Tensor per_column(Shape{6}, DType::kF32);
  EXPECT_THAT([&] { DequantizeInt8("q_proj.weight", weight, per_column); },
              ThrowsMessage<Error>(AllOf(HasSubstr("'q_proj.weight_scale'"), HasSubstr("shape [6]"),
                                         HasSubstr("expected [4] or [4, 1]"),
                                         HasSubstr("one per input column"))));
  Tensor nan_scale(Shape{4, 1}, DType::kF32);
  nan_scale.Set(2, std::nanf(""));
  EXPECT_THAT([&] { DequantizeInt8("q_proj.weight", weight, nan_scale); },
              ThrowsMessage<Error>(AllOf(HasSubstr("'q_proj.weight_scale'"), HasSubstr("at [2]"),
                                         HasSubstr("finite value >= 0"))));
  Tensor negative(Shape{4}, DType::kF32);
  negative.Set(1, -1.0f);
  EXPECT_THAT([&] { DequantizeInt8("q_proj.weight", weight, negative); },
              ThrowsMessage<Error>(HasSubstr("at [1]")));
  const SafetensorsRawTensor u8{ElementType::kU8, Shape{4, 6}, bytes};
  EXPECT_THAT([&] { DequantizeInt8("q_proj.weight", u8, negative); },
              ThrowsMessage<Error>(AllOf(HasSubstr("'q_proj.weight'"), HasSubstr("dtype U8"),
                                         HasSubstr("expected I8 [out, in]"))));
  EXPECT_THAT(
      [&] {
        QuantizeInt8PerChannel("w", Tensor(Shape{2, 3, 4}, DType::kF32));
      },
      ThrowsMessage<Error>(AllOf(HasSubstr("'w'"), HasSubstr("expected [out, in]"))));
}

TEST(Int8WeightTest, PerColumnScalesAreOnlyForFaults) {
  const std::vector<std::uint8_t> bytes = {1, 1, 1, 1};
  const SafetensorsRawTensor weight{ElementType::kI8, Shape{2, 2}, bytes};
  const Tensor scales = Tensor::FromFloats(Shape{2}, std::vector<float>{2.0f, 3.0f});
  EXPECT_EQ(DequantizeInt8("w", weight, scales).ToFloats(), (std::vector<float>{2, 2, 3, 3}));
  EXPECT_EQ(DequantizeInt8("w", weight, scales, Int8ScaleAxis::kPerInputChannel).ToFloats(),
            (std::vector<float>{2, 3, 2, 3}));
}

}  // namespace
}  // namespace equiv
