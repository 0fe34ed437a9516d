// MatmulNT: the documented order of every output's sum, bit for bit on every kernel this CPU
// has and on the portable one; the same bits whatever the thread count and the number of rows;
// float32 x against bf16 weights not rounded; shape errors that name the shapes.
#include "libequiv/nn/gemm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "libequiv/precision/bf16.h"
#include "tests/support/error_of.h"
#include "tests/support/same_bits.h"

namespace equiv::nn {
namespace {

using testing_support::SameBits;

Matrix Random(int64_t rows, int64_t cols, std::uint64_t seed, Precision precision) {
  return testing_support::UniformMatrix(rows, cols, seed, precision);
}

using testing_support::ErrorOf;

float FlushTiny(float v) {
  return std::fabs(v) < std::numeric_limits<float>::min() ? std::copysign(0.0f, v) : v;
}

// The order gemm.h documents, one output at a time.
Matrix Documented(const Matrix& x, const Matrix& b, Precision operands) {
  Matrix y(x.rows(), b.rows());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    for (Eigen::Index j = 0; j < b.rows(); ++j) {
      float acc = 0.0f;
      if (operands == Precision::kFp32) {
        for (Eigen::Index k = 0; k < x.cols(); ++k) acc = std::fma(x(i, k), b(j, k), acc);
      } else {
        const auto at = [](const Matrix& m, Eigen::Index r, Eigen::Index k) {
          return k < m.cols() ? FlushTiny(RoundToBf16(m(r, k))) : 0.0f;
        };
        for (Eigen::Index k = 0; k < x.cols(); k += 2) {
          acc = FlushTiny(std::fma(at(x, i, k + 1), at(b, j, k + 1), acc));
          acc = FlushTiny(std::fma(at(x, i, k), at(b, j, k), acc));
        }
      }
      y(i, j) = acc;
    }
  }
  return y;
}

class GemmKernelTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { previous_ = UsePortableGemm(GetParam()); }
  void TearDown() override { UsePortableGemm(previous_); }
  bool previous_ = false;
};

TEST_P(GemmKernelTest, FollowsTheDocumentedOrderBitForBit) {
  // Shapes off every block: rows not a multiple of a tile, n not of a panel, k odd and past a
  // depth block.
  for (const Precision operands : {Precision::kFp32, Precision::kBf16}) {
    const Matrix x = Random(13, 259, 1, operands);
    const Matrix b = Random(37, 259, 2, operands);
    const Matrix y = MatmulNT(x, PackedMatrix(b, operands), Vector(), Precision::kFp32, 1);
    EXPECT_TRUE(SameBits(y, Documented(x, b, operands)))
        << GemmIsaName(ActiveGemmIsa(operands)) << " " << static_cast<int>(operands);
  }
}

TEST_P(GemmKernelTest, BitIdenticalAcrossThreadCountsAndRowCounts) {
  // 64 x 512 x 512: above the size that runs on more than one thread.
  for (const Precision operands : {Precision::kFp32, Precision::kBf16}) {
    const Matrix x = Random(64, 512, 3, operands);
    const PackedMatrix b(Random(520, 512, 4, operands), operands);
    const Vector bias = Random(1, 520, 5, operands).row(0).transpose();
    const Matrix one = MatmulNT(x, b, bias, operands, 1);
    for (int threads : {2, 3, 7}) {
      EXPECT_TRUE(SameBits(MatmulNT(x, b, bias, operands, threads), one)) << threads;
    }
    // A KV-cached step runs one row: it is the full product's row.
    EXPECT_TRUE(
        SameBits(MatmulNT(x.middleRows(17, 1), b, bias, operands, 1), one.middleRows(17, 1)));
    EXPECT_TRUE(SameBits(MatmulNT(x.topRows(5), b, bias, operands, 2), one.topRows(5)));
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, GemmKernelTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("portable") : std::string("best");
                         });

TEST(GemmTest, FastKernelsGiveThePortableBits) {
  const bool previous = UsePortableGemm(false);
  for (const Precision operands : {Precision::kFp32, Precision::kBf16}) {
    const Matrix x = Random(29, 300, 6, operands);
    const PackedMatrix b(Random(70, 300, 7, operands), operands);
    const Matrix fast = MatmulNT(x, b, Vector(), operands, 2);
    UsePortableGemm(true);
    EXPECT_EQ(ActiveGemmIsa(operands), GemmIsa::kPortable);
    EXPECT_TRUE(SameBits(MatmulNT(x, b, Vector(), operands, 1), fast));
    UsePortableGemm(false);
  }
  UsePortableGemm(previous);
}

TEST(GemmTest, CloseToTheExactProduct) {
  const Matrix x = Random(9, 1000, 8, Precision::kFp32);
  const Matrix b = Random(11, 1000, 9, Precision::kFp32);
  const Matrix y = MatmulNT(x, PackedMatrix(b, Precision::kFp32), Vector(), Precision::kFp32);
  for (Eigen::Index i = 0; i < y.rows(); ++i) {
    for (Eigen::Index j = 0; j < y.cols(); ++j) {
      double exact = 0.0, scale = 0.0;
      for (Eigen::Index k = 0; k < x.cols(); ++k) {
        exact += static_cast<double>(x(i, k)) * b(j, k);
        scale += std::fabs(static_cast<double>(x(i, k)) * b(j, k));
      }
      // A sequential float sum: at most k rounding errors, each within eps of the scale.
      EXPECT_NEAR(y(i, j), exact, 1000 * 6e-8 * scale) << i << "," << j;
    }
  }
}

TEST(GemmTest, BiasAddedInFloat32ThenOneRounding) {
  const Matrix x = Random(3, 40, 10, Precision::kBf16);
  const Matrix b = Random(5, 40, 11, Precision::kBf16);
  const Vector bias = Random(1, 5, 12, Precision::kBf16).row(0).transpose();
  const Matrix y = MatmulNT(x, PackedMatrix(b, Precision::kBf16), bias, Precision::kBf16);
  const Matrix sums = Documented(x, b, Precision::kBf16);
  for (Eigen::Index i = 0; i < y.rows(); ++i) {
    for (Eigen::Index j = 0; j < y.cols(); ++j) {
      EXPECT_EQ(y(i, j), RoundToBf16(sums(i, j) + bias[j]));
    }
  }
}

TEST(GemmTest, Float32InputAgainstBf16WeightsIsNotRounded) {
  const Matrix x = Random(4, 64, 13, Precision::kFp32);  // not bf16 values
  const Matrix b = Random(6, 64, 14, Precision::kBf16);
  const Matrix mixed = MatmulNT(x, PackedMatrix(b, Precision::kBf16), Vector(), Precision::kFp32);
  EXPECT_TRUE(SameBits(mixed, Documented(x, b, Precision::kFp32)));
  EXPECT_FALSE(SameBits(mixed, Documented(x, b, Precision::kBf16)));
}

TEST(GemmTest, TransposedPackingAndEmptyShapes) {
  const Matrix x = Random(3, 7, 15, Precision::kFp32);
  const Matrix b = Random(5, 7, 16, Precision::kFp32);
  const Matrix bt = b.transpose();
  EXPECT_TRUE(SameBits(
      MatmulNT(x, PackedMatrix::FromTransposed(bt, Precision::kFp32), Vector(), Precision::kFp32),
      MatmulNT(x, PackedMatrix(b, Precision::kFp32), Vector(), Precision::kFp32)));
  const Matrix none =
      MatmulNT(Matrix(0, 7), PackedMatrix(b, Precision::kFp32), Vector(), Precision::kFp32);
  EXPECT_EQ(none.rows(), 0);
  EXPECT_EQ(none.cols(), 5);
}

TEST(GemmTest, RejectsShapesThatDoNotFit) {
  const PackedMatrix b(Random(5, 7, 17, Precision::kFp32), Precision::kFp32);
  EXPECT_EQ(ErrorOf([&] { MatmulNT(Matrix(2, 6), b, Vector(), Precision::kFp32); }),
            "MatmulNT: x [2, 6] has 6 columns, b [5, 7] expects 7");
  EXPECT_EQ(ErrorOf([&] { MatmulNT(Matrix(2, 7), b, Vector(3), Precision::kFp32); }),
            "MatmulNT: bias has 3 values, b [5, 7] has 5 outputs");
}

TEST(GemmTest, NamesItsKernels) {
  EXPECT_EQ(GemmIsaName(GemmIsa::kPortable), "portable");
  EXPECT_EQ(GemmIsaName(GemmIsa::kAvx512Bf16), "avx512_bf16");
}

}  // namespace
}  // namespace equiv::nn
