#include "libequiv/device/parallel_layers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "libequiv/device/collectives.h"
#include "libequiv/device/device_matmul.h"
#include "libequiv/nn/linear.h"
#include "libequiv/random/random_tensor.h"
#include "libequiv/tensor/error.h"
#include "tests/support/error_of.h"

namespace equiv::device {
namespace {

using ::testing::HasSubstr;
using MatrixD = Eigen::MatrixXd;

// Float32 values (not bf16): the layers must round weights themselves.
Matrix RandomF32(int64_t rows, int64_t cols, std::uint64_t seed, double stddev = 1.0) {
  const std::vector<float> v = RandomNormal({rows, cols}, seed, DType::kF32, 0, stddev).ToFloats();
  return Eigen::Map<const Matrix>(v.data(), rows, cols);
}
Matrix RandomBf16(int64_t rows, int64_t cols, std::uint64_t seed) {
  return nn::Rounded(nn::Precision::kBf16, RandomF32(rows, cols, seed));
}

bool BitwiseEqual(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

using ::equiv::testing_support::ErrorOf;

// x W^T + b in double, on the bf16-rounded weights the device holds.
MatrixD Reference(const Matrix& x, const Matrix& w, const Vector& b) {
  MatrixD y = x.cast<double>() * nn::Rounded(nn::Precision::kBf16, w).cast<double>().transpose();
  y.rowwise() += nn::Rounded(nn::Precision::kBf16, Vector(b)).cast<double>().transpose();
  return y;
}

TEST(ColumnParallelLinearTest, EveryTpDegreeEqualsTp1Bitwise) {
  const Matrix x = RandomBf16(16, 256, 1);
  const Matrix w = RandomF32(64, 256, 2, 0.05);
  const Vector b = RandomF32(64, 1, 3).col(0);
  for (Accumulation acc : {Accumulation::kF32, Accumulation::kBf16PerKTile}) {
    const Matrix tp1 = ColumnParallelLinear(w, b, {.accumulation = acc}).Forward(x);
    EXPECT_TRUE(
        BitwiseEqual(tp1, DeviceMatmul(x, nn::Rounded(nn::Precision::kBf16, w),
                                       nn::Rounded(nn::Precision::kBf16, Vector(b)), acc, 128)));
    for (int64_t tp : {2, 4, 8}) {
      const ColumnParallelLinear layer(w, b, {.tp_degree = tp, .accumulation = acc});
      EXPECT_EQ(layer.tp_degree(), tp);
      // Splitting the output features leaves every dot product whole.
      EXPECT_TRUE(BitwiseEqual(layer.Forward(x), tp1)) << "tp " << tp;
    }
  }
}

TEST(ColumnParallelLinearTest, EachRankComputesItsColumnBlock) {
  const Matrix x = RandomBf16(4, 32, 4);
  const Matrix w = RandomF32(16, 32, 5);
  const ColumnParallelLinear layer(w, Vector(), {.tp_degree = 4});
  const Matrix full = layer.Forward(x);
  const std::vector<Matrix> sharded = layer.ForwardSharded(x);
  ASSERT_EQ(sharded.size(), 4u);
  for (int64_t rank = 0; rank < 4; ++rank) {
    EXPECT_EQ(sharded[rank], full.middleCols(rank * 4, 4));
    EXPECT_EQ(layer.weight_shard(rank),
              nn::Rounded(nn::Precision::kBf16, w).middleRows(rank * 4, 4));
    EXPECT_EQ(layer.bias_shard(rank).size(), 0);
  }
}

TEST(ColumnParallelLinearTest, FromShardsEqualsFromTheFullWeight) {
  const Matrix x = RandomBf16(4, 32, 6);
  const Matrix w = RandomF32(16, 32, 7);
  const Vector b = RandomF32(16, 1, 8).col(0);
  std::vector<Matrix> w_shards;
  std::vector<Vector> b_shards;
  for (int64_t rank = 0; rank < 2; ++rank) {
    w_shards.push_back(RowShard(w, rank, 2));
    b_shards.push_back(b.segment(rank * 8, 8));
  }
  const ColumnParallelLinear from_shards(w_shards, b_shards, {.tp_degree = 2});
  EXPECT_TRUE(BitwiseEqual(from_shards.Forward(x),
                           ColumnParallelLinear(w, b, {.tp_degree = 2}).Forward(x)));
}

TEST(ColumnParallelLinearTest, Errors) {
  const Matrix w = Matrix::Zero(6, 4);
  EXPECT_EQ(ErrorOf([&] { ColumnParallelLinear(w, Vector(), {.tp_degree = 4}); }),
            "ColumnParallelLinear: weight [6, 4] has 6 output features, which do not divide by "
            "tp_degree 4");
  EXPECT_EQ(ErrorOf([&] { ColumnParallelLinear(w, Vector::Zero(4), {}); }),
            "ColumnParallelLinear: bias has 4 values, the weight [6, 4] has 6 output features");
  EXPECT_EQ(ErrorOf([&] { ColumnParallelLinear(std::vector<Matrix>{w}, {}, {.tp_degree = 2}); }),
            "ColumnParallelLinear: 1 weight shards for tp_degree 2");
  EXPECT_EQ(
      ErrorOf([&] {
        ColumnParallelLinear(std::vector<Matrix>{w, Matrix::Zero(6, 5)}, {}, {.tp_degree = 2});
      }),
      "ColumnParallelLinear rank 1: weight shard [6, 5] differs from rank 0's [6, 4]");
  EXPECT_EQ(ErrorOf([&] {
              ColumnParallelLinear(std::vector<Matrix>{w, w}, {Vector::Zero(6), Vector()},
                                   {.tp_degree = 2});
            }),
            "ColumnParallelLinear rank 1 has no bias shard, rank 0 has one");
}

TEST(RowParallelLinearTest, Tp1RoundsTheProductThenAddsTheBias) {
  const Matrix x = RandomBf16(8, 64, 9);
  const Matrix w = RandomF32(32, 64, 10, 0.1);
  const Vector b = RandomF32(32, 1, 11).col(0);
  // As NxD: the reduced product is a bf16 tensor before the bias is added, so two roundings
  // where a fused addmm (DeviceMatmul with the bias) has one.
  Matrix expected =
      DeviceMatmul(x, nn::Rounded(nn::Precision::kBf16, w), Vector(), Accumulation::kF32, 128);
  expected.rowwise() += nn::Rounded(nn::Precision::kBf16, Vector(b)).transpose();
  nn::RoundInPlace(nn::Precision::kBf16, expected);
  EXPECT_TRUE(BitwiseEqual(RowParallelLinear(w, b, {}).Forward(x), expected));
}

TEST(RowParallelLinearTest, TpRoundingChangesBitsButStaysSmall) {
  const Matrix x = RandomBf16(16, 512, 12);
  const Matrix w = RandomF32(64, 512, 13, 0.05);
  const Vector b = RandomF32(64, 1, 14).col(0);
  const MatrixD ref = Reference(x, w, b);
  const Matrix tp1 = RowParallelLinear(w, b, {}).Forward(x);
  const double tp1_error = (tp1.cast<double>() - ref).norm() / ref.norm();
  for (CollectiveDtype cc : {CollectiveDtype::kBf16, CollectiveDtype::kF32}) {
    for (int64_t tp : {2, 4, 8}) {
      const DeviceConfig device{.tp_degree = tp, .collective_dtype = cc};
      const Matrix y = RowParallelLinear(w, b, device).Forward(x);
      const double error = (y.cast<double>() - ref).norm() / ref.norm();
      RecordProperty(device.Name() + "_relative_error", std::to_string(error));
      EXPECT_FALSE(BitwiseEqual(y, tp1)) << device.Name();
      EXPECT_LT(error, 0x1p-7) << device.Name();
      // Each rank's bf16 partial adds a rounding, so a split is no more accurate than tp1's one.
      EXPECT_GT(error, 0.9 * tp1_error) << device.Name();
    }
  }
  RecordProperty("tp1_relative_error", std::to_string(tp1_error));
}

TEST(RowParallelLinearTest, ForwardShardedEqualsForward) {
  const Matrix x = RandomBf16(4, 32, 15);
  const Matrix w = RandomF32(8, 32, 16);
  const RowParallelLinear layer(w, Vector(), {.tp_degree = 4});
  std::vector<Matrix> shards;
  for (int64_t rank = 0; rank < 4; ++rank) shards.push_back(ColumnShard(x, rank, 4));
  EXPECT_TRUE(BitwiseEqual(layer.ForwardSharded(shards), layer.Forward(x)));
}

TEST(RowParallelLinearTest, BiasIsAddedOnceNotPerRank) {
  Vector b(2);
  b << 1.5f, -3.0f;
  const Matrix y =
      RowParallelLinear(Matrix::Zero(2, 8), b, {.tp_degree = 4}).Forward(Matrix::Ones(3, 8));
  EXPECT_TRUE(y.row(2) == b.transpose());
}

TEST(RowParallelLinearTest, Errors) {
  const Matrix w = Matrix::Zero(4, 6);
  EXPECT_EQ(ErrorOf([&] { RowParallelLinear(w, Vector(), {.tp_degree = 4}); }),
            "RowParallelLinear: weight [4, 6] has 6 input features, which do not divide by "
            "tp_degree 4");
  const RowParallelLinear layer(w, Vector(), {.tp_degree = 2});
  EXPECT_EQ(ErrorOf([&] { layer.Forward(Matrix::Zero(1, 4)); }),
            "RowParallelLinear: x [1, 4] has 4 features, the weight expects 6");
  const std::vector<Matrix> one = {Matrix::Zero(1, 3)};
  EXPECT_EQ(ErrorOf([&] { layer.ForwardSharded(one); }),
            "RowParallelLinear: 1 input shards for tp_degree 2");
  const std::vector<Matrix> bad = {Matrix::Zero(1, 3), Matrix::Zero(1, 2)};
  EXPECT_EQ(ErrorOf([&] { layer.ForwardSharded(bad); }),
            "RowParallelLinear: rank 1's input shard [1, 2] has 2 features, its weight shard "
            "[4, 3] expects 3");
}

TEST(ParallelEmbeddingTest, EqualsARowLookupAtEveryTp) {
  const Matrix table = RandomF32(64, 16, 17);
  const std::vector<int64_t> ids = {0, 63, 17, 17, 31, 32, 5, 48};
  const Matrix expected = nn::Embedding(nn::Rounded(nn::Precision::kBf16, table), ids);
  for (CollectiveDtype cc : {CollectiveDtype::kBf16, CollectiveDtype::kF32}) {
    for (int64_t tp : {1, 2, 4, 8}) {
      const DeviceConfig device{.tp_degree = tp, .collective_dtype = cc};
      EXPECT_EQ(ParallelEmbedding(table, device).Forward(ids), expected) << device.Name();
    }
  }
}

TEST(ParallelEmbeddingTest, Errors) {
  const Matrix table = Matrix::Zero(64, 4);
  const ParallelEmbedding embedding(table, {.tp_degree = 4});
  const std::vector<int64_t> ids = {1, 2, 64};
  EXPECT_EQ(ErrorOf([&] { embedding.Forward(ids); }),
            "ParallelEmbedding: token id 64 at position 2 is outside the vocabulary [0, 64)");
  const std::vector<int64_t> negative = {-1};
  EXPECT_THAT(ErrorOf([&] { embedding.Forward(negative); }),
              HasSubstr("token id -1 at position 0"));
  EXPECT_EQ(ErrorOf([&] { ParallelEmbedding(Matrix::Zero(10, 4), {.tp_degree = 4}); }),
            "ParallelEmbedding: weight [10, 4] has 10 vocabulary rows, which do not divide by "
            "tp_degree 4");
}

}  // namespace
}  // namespace equiv::device
