// Per-position metrics and their summaries on hand-made logits.
#include "libequiv/e2e/logit_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/support/error_of.h"

namespace equiv {
namespace {

using nn::Matrix;
using testing_support::ErrorOf;

TEST(QuantileTest, InterpolatesLinearlyBetweenOrderStatistics) {
  // h = (n - 1) q: for 1..5, p95 is at h = 3.8, 4 + 0.8 * (5 - 4).
  EXPECT_DOUBLE_EQ(Quantile({5, 1, 4, 2, 3}, 0.95), 4.8);
  EXPECT_DOUBLE_EQ(Quantile({5, 1, 4, 2, 3}, 0.05), 1.2);
  EXPECT_DOUBLE_EQ(Quantile({5, 1, 4, 2, 3}, 0.5), 3);
  EXPECT_DOUBLE_EQ(Quantile({7}, 0.95), 7);
  EXPECT_TRUE(std::isnan(Quantile({}, 0.5)));
  EXPECT_TRUE(std::isnan(Quantile({1, std::nan("")}, 0.5)));
}

TEST(ComparePositionsTest, ComputesEachRow) {
  Matrix f(2, 4), b(2, 4), t(2, 4);
  f << 1, 2, 3, 4, 4, 3, 2, 1;
  b = f;
  b(0, 0) += 0.01f;
  b(1, 3) += 0.01f;
  t = f;
  t(0, 0) += 0.02f;  // R = 2 on row 0
  t(1, 3) = 5;       // row 1: argmax moves from 0 to 3
  const std::vector<PositionMetrics> rows = ComparePositions(f, b, t, 10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].position, 10);
  EXPECT_NEAR(rows[0].r_ratio, 2.0, 1e-5);
  EXPECT_TRUE(rows[0].top1);
  EXPECT_EQ(rows[0].top5, 1.0);  // k clamped to vocab 4
  EXPECT_GT(rows[0].cosine, 0.9999);
  EXPECT_FALSE(rows[1].top1);
  EXPECT_GT(rows[1].kl, 0);
  EXPECT_NEAR(rows[1].r_ratio, 4 / 0.01, 0.1);
}

TEST(ComparePositionsTest, RejectsShapes) {
  EXPECT_EQ(ErrorOf([] { ComparePositions(Matrix(2, 3), Matrix(2, 3), Matrix(1, 3)); }),
            "ComparePositions: logits ref_fp32 [2, 3], ref_bf16 [2, 3], target [1, 3]: expected "
            "three equal non-empty shapes");
}

TEST(SummarizeTest, FindsWorstAndNaN) {
  std::vector<PositionMetrics> at(4);
  for (int i = 0; i < 4; ++i) at[i].position = 100 + i;
  const MetricSummary high = Summarize({1, 3, 2, 3}, at, Worst::kHighest);
  EXPECT_EQ(high.worst_position, 101);  // first among ties
  EXPECT_DOUBLE_EQ(high.mean, 2.25);
  EXPECT_DOUBLE_EQ(high.min, 1);
  EXPECT_DOUBLE_EQ(high.max, 3);
  EXPECT_EQ(high.worst_prompt, -1);
  EXPECT_EQ(Summarize({1, 3, 0.5, 3}, at, Worst::kLowest).worst_position, 102);
  const MetricSummary nan = Summarize({1, std::nan(""), 2, 3}, at, Worst::kLowest);
  EXPECT_EQ(nan.worst_position, 101);
  EXPECT_TRUE(std::isnan(nan.p5) && std::isnan(nan.min) && std::isnan(nan.mean));
}

TEST(SummarizePooledTest, NamesTheWorstPromptAndPosition) {
  TeacherForcedResult r;
  r.prompts.resize(2);
  r.prompts[0].positions = {{.position = 0, .r_ratio = 1, .cosine = 0.99, .kl = 0.1, .top1 = true},
                            {.position = 1, .r_ratio = 1, .cosine = 0.99, .kl = 0.1, .top1 = true}};
  r.prompts[1].positions = {{.position = 0, .r_ratio = 1, .cosine = 0.99, .kl = 0.1, .top1 = true},
                            {.position = 1, .r_ratio = 9, .cosine = 0.5, .kl = 2, .top1 = false}};
  for (PromptResult& p : r.prompts) SummarizePrompt(p);
  SummarizePooled(r, 0.95);
  EXPECT_EQ(r.r_ratio.worst_prompt, 1);
  EXPECT_EQ(r.r_ratio.worst_position, 1);
  EXPECT_EQ(r.cosine.worst_prompt, 1);
  EXPECT_DOUBLE_EQ(r.top1, 0.75);
  EXPECT_DOUBLE_EQ(r.prompts[1].top1, 0.5);
  EXPECT_DOUBLE_EQ(r.low_cosine_fraction, 0.25);
  EXPECT_DOUBLE_EQ(LowCosineFraction(r, 0.999), 1.0);
}

}  // namespace
}  // namespace equiv
