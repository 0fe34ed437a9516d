// nn::Route and nn::SparseMoe on hand-made inputs: the top-k order and its ties, the
// renormalization, one rounding of the weights, and the block on a single expert.
#include "libequiv/nn/moe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "libequiv/tensor/error.h"
#include "tests/support/error_of.h"

namespace equiv::nn {
namespace {

using ::equiv::testing_support::ErrorOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Matrix Logits(std::initializer_list<float> row) {
  Matrix m(1, static_cast<Eigen::Index>(row.size()));
  Eigen::Index c = 0;
  for (const float v : row) m(0, c++) = v;
  return m;
}

TEST(RouteTest, TopKMostProbableFirstTiesToTheLowerIndex) {
  const Routing r = Route(Logits({0.5f, 2.0f, 0.5f, 1.0f}), {.top_k = 3}, Precision::kFp32);
  EXPECT_THAT(r.experts, ElementsAre(1, 3, 0));
}

TEST(RouteTest, RenormalizedWeightsSumToOneAndRoundOnceInBf16) {
  const Matrix logits = Logits({0.3f, 1.7f, -0.4f, 1.1f});
  const Routing fp32 = Route(logits, {.top_k = 2}, Precision::kFp32);
  EXPECT_NEAR(fp32.weights.sum(), 1.0f, 1e-6f);
  // softmax over all four, then the top two divided by their sum: e^1.7 / (e^1.7 + e^1.1).
  EXPECT_NEAR(fp32.weights(0, 0), 1.0 / (1.0 + std::exp(-0.6)), 1e-6);
  const Routing bf16 = Route(logits, {.top_k = 2}, Precision::kBf16);
  for (int64_t s = 0; s < 2; ++s) {
    EXPECT_EQ(bf16.weights(0, s), Round(Precision::kBf16, fp32.weights(0, s)));
  }
  const Routing plain = Route(logits, {.top_k = 2, .renormalize = false}, Precision::kFp32);
  EXPECT_LT(plain.weights.sum(), 0.95f);
}

TEST(RouteTest, RejectsTopKOutsideTheExperts) {
  EXPECT_THAT(ErrorOf([] {
                Route(Logits({1.0f, 2.0f}), {.top_k = 3}, Precision::kFp32);
              }),
              HasSubstr("Route: top_k 3 is outside [1, 2] experts"));
}

MlpWeights Expert(float scale) {
  MlpWeights w;
  w.gate_proj.weight = Matrix::Constant(3, 2, 0.5f * scale);
  w.up_proj.weight = Matrix::Constant(3, 2, 0.25f);
  w.down_proj.weight = Matrix::Constant(2, 3, scale);
  return w;
}

TEST(SparseMoeTest, TopOneOfOneExpertIsThatExpert) {
  MoeWeights moe;
  moe.gate.weight = Matrix::Constant(1, 2, 1.0f);
  moe.experts = {Expert(1.0f)};
  Matrix x(2, 2);
  x << 1.0f, -0.5f, 0.25f, 2.0f;
  const Matrix y = SparseMoe(x, moe, {.top_k = 1}, HiddenAct::kSilu, Precision::kFp32);
  const Matrix expected = GatedMlp(x, moe.experts[0], HiddenAct::kSilu, Precision::kFp32);
  EXPECT_TRUE(y.isApprox(expected)) << y << "\n" << expected;
}

TEST(SparseMoeTest, EveryExpertPutsEachExpertInItsColumns) {
  MoeWeights moe;
  moe.gate.weight = Matrix::Zero(2, 2);
  moe.experts = {Expert(1.0f), Expert(2.0f)};
  const Matrix x = Matrix::Constant(3, 2, 0.5f);
  const Matrix all = EveryExpert(x, moe, HiddenAct::kSilu, Precision::kBf16);
  ASSERT_EQ(all.cols(), 4);
  EXPECT_EQ(Matrix(all.leftCols(2)),
            GatedMlp(x, moe.experts[0], HiddenAct::kSilu, Precision::kBf16));
  EXPECT_EQ(Matrix(all.rightCols(2)),
            GatedMlp(x, moe.experts[1], HiddenAct::kSilu, Precision::kBf16));
}

}  // namespace
}  // namespace equiv::nn
