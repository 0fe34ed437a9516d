#include "libequiv/device/device_matmul.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "libequiv/precision/bf16.h"
#include "libequiv/random/random_tensor.h"
#include "libequiv/tensor/error.h"

namespace equiv::device {
namespace {

using ::testing::HasSubstr;
using MatrixD = Eigen::MatrixXd;

Matrix RandomBf16(int64_t rows, int64_t cols, std::uint64_t seed) {
  const std::vector<float> v = RandomNormal({rows, cols}, seed, DType::kBF16).ToFloats();
  return Eigen::Map<const Matrix>(v.data(), rows, cols);
}

bool BitwiseEqual(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

// The bf16 value's index on the number line, so adjacent bf16 values differ by one.
int Bf16Ordinal(float value) {
  const int bits = FloatToBf16Bits(value);
  return (bits & 0x8000) ? -(bits & 0x7FFF) : bits;
}

// ||a - ref||_F / ||ref||_F, in double.
double RelativeError(const Matrix& a, const MatrixD& ref) {
  return (a.cast<double>() - ref).norm() / ref.norm();
}

MatrixD ReferenceProduct(const Matrix& x, const Matrix& w) {
  return x.cast<double>() * w.cast<double>().transpose();
}

std::string ErrorOf(const Matrix& x, const Matrix& w, const Vector& b, Accumulation acc,
                    int64_t k_tile) {
  try {
    DeviceMatmul(x, w, b, acc, k_tile);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(DeviceMatmulTest, F32IsWithinOneBf16UlpOfTheRoundedDoubleProduct) {
  const Matrix x = RandomBf16(16, 512, 1);
  const Matrix w = RandomBf16(64, 512, 2);
  const Vector b = RandomBf16(64, 1, 3).col(0);
  const Matrix y = DeviceMatmul(x, w, b, Accumulation::kF32, 128);
  MatrixD ref = ReferenceProduct(x, w);
  ref.rowwise() += b.cast<double>().transpose();
  int exact = 0;
  for (Eigen::Index r = 0; r < y.rows(); ++r) {
    for (Eigen::Index c = 0; c < y.cols(); ++c) {
      const float rounded_ref = RoundToBf16(static_cast<float>(ref(r, c)));
      const int distance = std::abs(Bf16Ordinal(y(r, c)) - Bf16Ordinal(rounded_ref));
      ASSERT_LE(distance, 1) << "at (" << r << ", " << c << "): " << y(r, c) << " vs " << ref(r, c);
      exact += distance == 0;
    }
  }
  // Float32 accumulation almost never changes the bf16 result.
  EXPECT_GT(exact, y.size() * 95 / 100);
}

TEST(DeviceMatmulTest, IsBitIdenticalAcrossCalls) {
  const Matrix x = RandomBf16(8, 300, 4);
  const Matrix w = RandomBf16(24, 300, 5);
  for (Accumulation acc : {Accumulation::kF32, Accumulation::kBf16PerKTile}) {
    EXPECT_TRUE(BitwiseEqual(DeviceMatmul(x, w, Vector(), acc, 128),
                             DeviceMatmul(x, w, Vector(), acc, 128)));
  }
}

TEST(DeviceMatmulTest, BiasIsAddedBeforeTheOnlyRounding) {
  // 1 + 2^-8 is a tie that rounds to 1; with the bias 2^-8 added first it is 1 + 2^-7 exactly.
  Matrix x(1, 2);
  x << 1.0f, 0x1p-8f;
  Matrix w(1, 2);
  w << 1.0f, 1.0f;
  Vector b(1);
  b << 0x1p-8f;
  EXPECT_EQ(DeviceMatmul(x, w, b, Accumulation::kF32, 128)(0, 0), 1.0f + 0x1p-7f);
  EXPECT_EQ(DeviceMatmul(x, w, Vector(), Accumulation::kF32, 128)(0, 0), 1.0f);
}

TEST(DeviceMatmulTest, PerKTileRunningSumIsKeptInBf16) {
  // 256 + 1 + 1: float32 gives 258 (a bf16 value); a bf16 running sum rounds 257 to 256 twice.
  Matrix x(1, 3);
  x << 1.0f, 1.0f, 1.0f;
  Matrix w(1, 3);
  w << 256.0f, 1.0f, 1.0f;
  EXPECT_EQ(DeviceMatmul(x, w, Vector(), Accumulation::kF32, 1)(0, 0), 258.0f);
  EXPECT_EQ(DeviceMatmul(x, w, Vector(), Accumulation::kBf16PerKTile, 1)(0, 0), 256.0f);
  // Tiles {256, 1} and a short last tile {1}: 257 rounds to 256 before the last add.
  EXPECT_EQ(DeviceMatmul(x, w, Vector(), Accumulation::kBf16PerKTile, 2)(0, 0), 256.0f);
  EXPECT_EQ(DeviceMatmul(x, w, Vector(), Accumulation::kBf16PerKTile, 3)(0, 0), 258.0f);
}

TEST(DeviceMatmulTest, PerKTileErrorIsLargerOnALongReduction) {
  const Matrix x = RandomBf16(8, 4096, 6);
  const Matrix w = RandomBf16(32, 4096, 7);
  const MatrixD ref = ReferenceProduct(x, w);
  const double f32 = RelativeError(DeviceMatmul(x, w, Vector(), Accumulation::kF32, 128), ref);
  const double tiled =
      RelativeError(DeviceMatmul(x, w, Vector(), Accumulation::kBf16PerKTile, 128), ref);
  RecordProperty("f32_relative_error", std::to_string(f32));
  RecordProperty("bf16_per_k_tile_relative_error", std::to_string(tiled));
  // 32 tiles, each rounded and added in bf16: several roundings where kF32 has one.
  EXPECT_GT(tiled, 2.0 * f32);
  EXPECT_LT(tiled, 0x1p-5);
}

TEST(DeviceMatmulTest, OneTileCoveringKAgreesBitwiseWithF32) {
  const Matrix x = RandomBf16(8, 96, 8);
  const Matrix w = RandomBf16(16, 96, 9);
  const Matrix f32 = DeviceMatmul(x, w, Vector(), Accumulation::kF32, 128);
  EXPECT_TRUE(BitwiseEqual(DeviceMatmul(x, w, Vector(), Accumulation::kBf16PerKTile, 96), f32));
  EXPECT_TRUE(BitwiseEqual(DeviceMatmul(x, w, Vector(), Accumulation::kBf16PerKTile, 1000), f32));
}

TEST(DeviceMatmulTest, EmptyReductionGivesBias) {
  const Matrix x(2, 0);
  const Matrix w(3, 0);
  Vector b(3);
  b << 1.0f, -2.0f, 0.5f;
  const Matrix y = DeviceMatmul(x, w, b, Accumulation::kBf16PerKTile, 4);
  EXPECT_TRUE(y.row(0) == b.transpose());
  EXPECT_TRUE(y.row(1) == b.transpose());
}

TEST(DeviceMatmulTest, ErrorsNameTheShapes) {
  const Matrix x = Matrix::Zero(2, 3);
  const Matrix w = Matrix::Zero(5, 4);
  EXPECT_EQ(ErrorOf(x, w, Vector(), Accumulation::kF32, 1),
            "DeviceMatmul: x [2, 3] has 3 features, the weight [5, 4] expects 4");
  EXPECT_EQ(ErrorOf(Matrix::Zero(2, 4), w, Vector::Zero(4), Accumulation::kF32, 1),
            "DeviceMatmul: bias has 4 values, the weight has 5 output features");
  EXPECT_THAT(ErrorOf(Matrix::Zero(2, 4), w, Vector(), Accumulation::kBf16PerKTile, 0),
              HasSubstr("k_tile 0 is not positive"));
}

}  // namespace
}  // namespace equiv::device
