#include "libequiv/tensor/tensor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <vector>

#include "libequiv/precision/bf16.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(ShapeTest, CountsAndIndexes) {
  const Shape shape{2, 3, 4};
  EXPECT_EQ(shape.NumElements(), 24);
  EXPECT_EQ(shape.rank(), 3);
  EXPECT_EQ(shape.MultiIndex(23), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(shape.MultiIndex(5), (std::vector<std::int64_t>{0, 1, 1}));
  EXPECT_EQ(shape.ToString(), "[2, 3, 4]");
  EXPECT_EQ(Shape().NumElements(), 1);
  EXPECT_EQ(Shape().ToString(), "[]");
}

TEST(ShapeTest, RejectsNegativeAndOverflowingDimensions) {
  const auto negative = [] { return Shape(std::vector<std::int64_t>{2, -1}); };
  EXPECT_THAT(negative, ThrowsMessage<Error>(HasSubstr("dimension 1 is negative")));
  const auto huge = [] { return Shape(std::vector<std::int64_t>(3, std::int64_t{1} << 30)); };
  EXPECT_THAT(huge, ThrowsMessage<Error>(HasSubstr("overflows")));
}

TEST(TensorTest, StoredValuesAreRepresentableInTheirPrecision) {
  const std::vector<float> values = {1.0f, 1.00390625f + 1e-6f, -3.14159f, 1e-40f};
  const Tensor bf16 = Tensor::FromFloats(Shape{4}, values, DType::kBF16);
  for (std::int64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(bf16.Get(i), RoundToBf16(values[static_cast<std::size_t>(i)]));
  }
  const Tensor f32 = Tensor::FromFloats(Shape{4}, values);
  EXPECT_EQ(f32.ToFloats(), values);
  EXPECT_EQ(f32.To(DType::kBF16).ToFloats(), bf16.ToFloats());
  Tensor t(Shape{2}, DType::kF16);
  t.Set(1, 65520.0f);
  EXPECT_TRUE(std::isinf(t.Get(1)));
}

TEST(TensorTest, ViewsShareStorage) {
  Tensor t(Shape{2, 2}, DType::kBF16);
  t.Set(3, 2.5f);
  const TensorView view = t;
  EXPECT_EQ(view.dtype(), DType::kBF16);
  EXPECT_EQ(view.shape(), (Shape{2, 2}));
  EXPECT_EQ(view.Get(3), 2.5);
  EXPECT_EQ(view.data(), t.bits16().data());
}

TEST(TensorTest, WrongSizesAreClearErrors) {
  const std::vector<float> three(3);
  EXPECT_THAT(
      [&] {
        Tensor::FromFloats(Shape{2, 2}, three);
      },
      ThrowsMessage<Error>(HasSubstr("3 values given for shape [2, 2], which holds 4")));
  EXPECT_THAT([&] { TensorView(three, Shape{4}); },
              ThrowsMessage<Error>(HasSubstr("3 elements given for shape [4]")));
  EXPECT_THAT([] { Tensor(Shape{1}, DType::kF64); }, ThrowsMessage<Error>(HasSubstr("f64")));
  const std::vector<std::uint16_t> bits(4);
  EXPECT_THAT([&] { TensorView(bits, DType::kF32, Shape{4}); },
              ThrowsMessage<Error>(HasSubstr("must be bf16 or f16")));
}

TEST(TensorViewTest, DecodesEveryDType) {
  const std::vector<double> f64 = {0.1, -2.5};
  const std::vector<std::uint16_t> f16 = {0x3C00, 0xC000};  // 1, -2
  EXPECT_EQ(TensorView(f64, Shape{2}).Get(0), 0.1);
  EXPECT_EQ(TensorView(f16, DType::kF16, Shape{2}).Get(1), -2.0);
  double out[2];
  TensorView(f16, DType::kF16, Shape{2}).Decode(0, 2, out);
  EXPECT_EQ(out[0], 1.0);
}

TEST(TensorViewTest, PrintsShapeNotElements) {
  std::vector<float> many(1000, 1.0f);
  std::ostringstream os;
  PrintTo(TensorView(many, Shape{10, 100}), &os);
  EXPECT_EQ(os.str(), "f32[10, 100]");
}

}  // namespace
}  // namespace equiv
