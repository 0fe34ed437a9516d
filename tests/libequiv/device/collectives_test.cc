#include "libequiv/device/collectives.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libequiv/random/random_tensor.h"
#include "libequiv/tensor/error.h"
#include "tests/support/error_of.h"

namespace equiv::device {
namespace {

using ::testing::HasSubstr;

Matrix RandomBf16(int64_t rows, int64_t cols, std::uint64_t seed) {
  const std::vector<float> v = RandomNormal({rows, cols}, seed, DType::kBF16).ToFloats();
  return Eigen::Map<const Matrix>(v.data(), rows, cols);
}

Matrix Scalar(float value) { return Matrix::Constant(1, 1, value); }

using ::equiv::testing_support::ErrorOf;

TEST(AllReduceTest, Bf16AddsInRankOrderRoundingEachAdd) {
  // 256 + 1 = 257 rounds (to even) to 256 in bf16, twice; 1 + 1 + 256 = 258 is exact.
  const std::vector<Matrix> big_first = {Scalar(256), Scalar(1), Scalar(1)};
  const std::vector<Matrix> big_last = {Scalar(1), Scalar(1), Scalar(256)};
  EXPECT_EQ(AllReduce(big_first, CollectiveDtype::kBf16)(0, 0), 256.0f);
  EXPECT_EQ(AllReduce(big_last, CollectiveDtype::kBf16)(0, 0), 258.0f);
  // Float32 adds keep 257, and the final bf16 rounding gives the exact 258 either way.
  EXPECT_EQ(AllReduce(big_first, CollectiveDtype::kF32)(0, 0), 258.0f);
  EXPECT_EQ(AllReduce(big_last, CollectiveDtype::kF32)(0, 0), 258.0f);
}

TEST(AllReduceTest, F32CollectiveIsCloserToTheExactSum) {
  std::vector<Matrix> partials;
  Eigen::MatrixXd exact = Eigen::MatrixXd::Zero(32, 64);
  for (int rank = 0; rank < 8; ++rank) {
    partials.push_back(RandomBf16(32, 64, 100 + rank));
    exact += partials.back().cast<double>();
  }
  const double bf16 = (AllReduce(partials, CollectiveDtype::kBf16).cast<double>() - exact).norm();
  const double f32 = (AllReduce(partials, CollectiveDtype::kF32).cast<double>() - exact).norm();
  RecordProperty("bf16_error", std::to_string(bf16 / exact.norm()));
  RecordProperty("f32_error", std::to_string(f32 / exact.norm()));
  EXPECT_LT(f32, 0.75 * bf16);
  EXPECT_LT(bf16, 0x1p-7 * exact.norm());
}

TEST(AllReduceTest, OnePartialIsRoundedToBf16) {
  const std::vector<Matrix> one = {Scalar(1.0f + 0x1p-10f)};
  EXPECT_EQ(AllReduce(one, CollectiveDtype::kF32)(0, 0), 1.0f);
}

TEST(AllReduceTest, Errors) {
  EXPECT_EQ(ErrorOf([] { AllReduce({}, CollectiveDtype::kBf16); }), "AllReduce: no partials");
  const std::vector<Matrix> shapes = {Matrix::Zero(2, 3), Matrix::Zero(2, 3), Matrix::Zero(3, 2)};
  EXPECT_EQ(ErrorOf([&] { AllReduce(shapes, CollectiveDtype::kBf16); }),
            "AllReduce: rank 2's partial [3, 2] differs from rank 0's [2, 3]");
}

TEST(AllGatherTest, PlacesShardsSideBySideInRankOrder) {
  Matrix a(2, 1);
  a << 1, 2;
  Matrix b(2, 2);
  b << 3, 4, 5, 6;
  Matrix expected(2, 3);
  expected << 1, 3, 4, 2, 5, 6;
  const std::vector<Matrix> shards = {a, b};
  EXPECT_EQ(AllGather(shards), expected);
}

TEST(AllGatherTest, Errors) {
  EXPECT_EQ(ErrorOf([] { AllGather({}); }), "AllGather: no shards");
  const std::vector<Matrix> shards = {Matrix::Zero(2, 3), Matrix::Zero(4, 3)};
  EXPECT_EQ(ErrorOf([&] { AllGather(shards); }),
            "AllGather: rank 1's shard [4, 3] has other rows than rank 0's [2, 3]");
}

TEST(ShardTest, RowAndColumnShardsReassemble) {
  const Matrix m = RandomBf16(8, 12, 1);
  for (int64_t tp : {1, 2, 4}) {
    Matrix rows(8, 12);
    std::vector<Matrix> columns;
    for (int64_t rank = 0; rank < tp; ++rank) {
      rows.middleRows(rank * 8 / tp, 8 / tp) = RowShard(m, rank, tp);
      columns.push_back(ColumnShard(m, rank, tp));
    }
    EXPECT_EQ(rows, m) << "tp " << tp;
    EXPECT_EQ(AllGather(columns), m) << "tp " << tp;
  }
  EXPECT_EQ(RowShard(m, 1, 4), m.middleRows(2, 2));
  EXPECT_EQ(ColumnShard(m, 2, 4), m.middleCols(6, 3));
}

TEST(ShardTest, Errors) {
  const Matrix m = Matrix::Zero(100, 12);
  EXPECT_EQ(ErrorOf([&] { RowShard(m, 0, 8); }), "RowShard: 100 rows do not divide by tp_degree 8");
  EXPECT_EQ(ErrorOf([&] { ColumnShard(m, 0, 8); }),
            "ColumnShard: 12 columns do not divide by tp_degree 8");
  EXPECT_EQ(ErrorOf([&] { RowShard(m, 4, 4); }), "RowShard: rank 4 is outside [0, 4)");
  EXPECT_THAT(ErrorOf([&] { ColumnShard(m, 0, 0); }), HasSubstr("tp_degree 0 is not positive"));
}

TEST(AllToAllTest, BlockFromSrcToDstArrivesAtDstFromSrcAsBf16) {
  // 1 + 2^-10 is no bf16 value: it arrives rounded to 1.
  std::vector<std::vector<Matrix>> send = {{Scalar(1), Scalar(2)},
                                           {Scalar(3), Scalar(1 + 0x1p-10f)}};
  send[0][1] = Matrix::Constant(3, 1, 2.0f);  // blocks may differ in rows
  const std::vector<std::vector<Matrix>> got = AllToAll(send);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0][0](0, 0), 1.0f);
  EXPECT_EQ(got[0][1](0, 0), 3.0f);
  EXPECT_EQ(got[1][0].rows(), 3);
  EXPECT_EQ(got[1][0](2, 0), 2.0f);
  EXPECT_EQ(got[1][1](0, 0), 1.0f);
}

TEST(AllToAllTest, NamesTheRankThatSendsTheWrongNumberOfBlocks) {
  const std::vector<std::vector<Matrix>> send = {{Scalar(1), Scalar(2)}, {Scalar(3)}};
  EXPECT_THAT(ErrorOf([&] { AllToAll(send); }),
              HasSubstr("AllToAll: rank 1 sends 1 blocks to 2 ranks"));
  EXPECT_THAT(ErrorOf([] { AllToAll({}); }), HasSubstr("AllToAll: no ranks"));
}

}  // namespace
}  // namespace equiv::device
