#include "libequiv/metrics/pair_metrics.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libequiv/tensor/error.h"
#include "libequiv/tensor/tensor.h"

namespace equiv {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A view over doubles with the given shape (1-D by default).
TensorView View(const std::vector<double>& values, Shape shape) {
  return TensorView(std::span<const double>(values), std::move(shape));
}
TensorView View(const std::vector<double>& values) {
  return View(values, Shape{static_cast<std::int64_t>(values.size())});
}

// ---- cosine similarity, relative L2, NMSE ----

TEST(CosineSimilarityTest, ParallelOrthogonalAntiparallel) {
  const std::vector<double> r = {1, 2, 3}, twice = {2, 4, 6}, minus = {-1, -2, -3};
  EXPECT_DOUBLE_EQ(CosineSimilarity(View(twice), View(r)).value, 1.0);
  EXPECT_DOUBLE_EQ(CosineSimilarity(View(minus), View(r)).value, -1.0);
  const std::vector<double> x = {1, 0}, y = {0, 1};
  EXPECT_EQ(CosineSimilarity(View(x), View(y)).value, 0.0);
}

TEST(CosineSimilarityTest, HandComputed) {
  // <t, r> = 4 + 10 + 18 = 32, ||t|| = sqrt(14), ||r|| = sqrt(77)
  const std::vector<double> t = {1, 2, 3}, r = {4, 5, 6};
  const PairMetric m = CosineSimilarity(View(t), View(r));
  EXPECT_NEAR(m.value, 32.0 / std::sqrt(14.0 * 77.0), 1e-15);
  EXPECT_DOUBLE_EQ(m.target_norm, std::sqrt(14.0));
  EXPECT_DOUBLE_EQ(m.reference_norm, std::sqrt(77.0));
  EXPECT_DOUBLE_EQ(m.diff_norm, std::sqrt(27.0));
  EXPECT_EQ(m.kind, PairMetricKind::kCosineSimilarity);
  EXPECT_EQ(m.elements, 3);
  EXPECT_TRUE(m.AllFinite());
}

TEST(CosineSimilarityTest, ZeroVectorsAreDefined) {
  const std::vector<double> zero = {0, 0, 0}, x = {1, 2, 3};
  EXPECT_EQ(CosineSimilarity(View(zero), View(zero)).value, 1.0);  // identical
  EXPECT_EQ(CosineSimilarity(View(zero), View(x)).value, 0.0);     // no shared direction
  EXPECT_EQ(CosineSimilarity(View(x), View(zero)).value, 0.0);
}

TEST(CosineSimilarityTest, StaysWithinMinusOneAndOne) {
  std::vector<double> v(1000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.1 + 1e-3 * static_cast<double>(i);
  const double cos = CosineSimilarity(View(v), View(v)).value;
  EXPECT_LE(cos, 1.0);
  EXPECT_NEAR(cos, 1.0, 1e-15);
}

TEST(RelativeL2Test, HandComputed) {
  // ||t - r|| = ||(0.3, 0.4)|| = 0.5, ||r|| = 5
  const std::vector<double> r = {3, 4}, t = {3.3, 4.4};
  EXPECT_NEAR(RelativeL2(View(t), View(r)).value, 0.1, 1e-15);
  EXPECT_NEAR(Nmse(View(t), View(r)).value, 0.01, 1e-16);
  EXPECT_EQ(RelativeL2(View(r), View(r)).value, 0.0);
  EXPECT_EQ(Nmse(View(r), View(r)).value, 0.0);
}

TEST(RelativeL2Test, ZeroReference) {
  const std::vector<double> zero = {0, 0}, x = {1, 0};
  EXPECT_EQ(RelativeL2(View(zero), View(zero)).value, 0.0);
  EXPECT_EQ(RelativeL2(View(x), View(zero)).value, kInf);
  EXPECT_EQ(Nmse(View(zero), View(zero)).value, 0.0);
  EXPECT_EQ(Nmse(View(x), View(zero)).value, kInf);
}

TEST(PairMetricTest, WorstElementHasIndexAndValues) {
  const std::vector<double> r = {1, 2, 3, 4, 5, 6}, t = {1, 2, 3.5, 4, 5.5, 6};
  const PairMetric m = RelativeL2(View(t, Shape{2, 3}), View(r, Shape{2, 3}));
  EXPECT_EQ(m.worst.flat, 2);  // ties between [0, 2] and [1, 1]: the lower index
  EXPECT_THAT(m.worst.index, ElementsAre(0, 2));
  EXPECT_EQ(m.worst.target, 3.5);
  EXPECT_EQ(m.worst.reference, 3);
}

TEST(PairMetricTest, MixedDTypes) {
  const Tensor bf16 =
      Tensor::FromFloats(Shape{3}, std::vector<float>{1.0f, 2.0f, 3.0f}, DType::kBF16);
  const std::vector<float> f32 = {1.0f, 2.0f, 3.0f};
  const TensorView f32_view(std::span<const float>(f32), Shape{3});
  EXPECT_EQ(CosineSimilarity(bf16, f32_view).value, 1.0);
  EXPECT_EQ(Nmse(bf16, f32_view).value, 0.0);
}

TEST(PairMetricTest, NonFiniteInputsAreReportedNotCompared) {
  const std::vector<double> r = {1, kInf, 3, 4}, t = {1, 2, kNaN, kNaN};
  for (const PairMetric& m :
       {CosineSimilarity(View(t), View(r)), RelativeL2(View(t), View(r)), Nmse(View(t), View(r))}) {
    EXPECT_TRUE(std::isnan(m.value)) << PairMetricName(m.kind);
    EXPECT_FALSE(m.AllFinite());
    EXPECT_EQ(m.nonfinite_target.nan, 2);
    EXPECT_EQ(m.nonfinite_target.first_index, 2);
    EXPECT_EQ(m.nonfinite_reference.inf, 1);
    EXPECT_EQ(m.nonfinite_reference.first_index, 1);
    EXPECT_EQ(m.reference_norm, 1.0);  // statistics over the finite element [0] only
  }
}

TEST(PairMetricTest, ShapeMismatchNamesBothShapes) {
  const std::vector<double> six(6, 1.0);
  EXPECT_THAT(
      [&] {
        CosineSimilarity(View(six, Shape{2, 3}), View(six, Shape{3, 2}));
      },
      ThrowsMessage<Error>(AllOf(HasSubstr("cosine_similarity"), HasSubstr("target [2, 3]"),
                                 HasSubstr("reference [3, 2]"))));
  EXPECT_THROW(Nmse(View(six, Shape{6}), View(six, Shape{2, 3})), Error);
  EXPECT_THROW(MaxUlpDistance(View(six, Shape{6}), View(six, Shape{2, 3})), Error);
  EXPECT_THROW(KlDivergence(View(six, Shape{6}), View(six, Shape{2, 3})), Error);
  EXPECT_THROW(TopKAgreement(View(six, Shape{6}), View(six, Shape{2, 3}), 1), Error);
}

TEST(PairMetricTest, EmptyInputsAreAnError) {
  const std::vector<double> none;
  EXPECT_THAT([&] { RelativeL2(View(none), View(none)); },
              ThrowsMessage<Error>(HasSubstr("nothing to compare")));
  EXPECT_THROW(KlDivergence(View(none, Shape{0, 4}), View(none, Shape{0, 4})), Error);
}

// Chunk boundaries depend only on the size: any thread count gives the same bits.
TEST(PairMetricTest, BitIdenticalWhateverTheThreadCount) {
  std::vector<double> t(300'000), r(300'000);
  for (std::size_t i = 0; i < t.size(); ++i) {
    r[i] = std::sin(0.001 * static_cast<double>(i));
    t[i] = r[i] + 1e-3 * std::cos(0.37 * static_cast<double>(i));
  }
  ::setenv("EQUIV_THREADS", "1", 1);
  const PairMetric one = CosineSimilarity(View(t), View(r));
  const RowMetric kl_one = KlDivergence(View(t, Shape{300, 1000}), View(r, Shape{300, 1000}));
  ::setenv("EQUIV_THREADS", "5", 1);
  const PairMetric five = CosineSimilarity(View(t), View(r));
  const RowMetric kl_five = KlDivergence(View(t, Shape{300, 1000}), View(r, Shape{300, 1000}));
  ::unsetenv("EQUIV_THREADS");
  EXPECT_EQ(one.value, five.value);
  EXPECT_EQ(one.diff_norm, five.diff_norm);
  EXPECT_EQ(one.worst.flat, five.worst.flat);
  EXPECT_EQ(kl_one.mean, kl_five.mean);
  EXPECT_EQ(kl_one.per_row, kl_five.per_row);
}

// ---- ULP distance ----

TEST(MaxUlpDistanceTest, CountsInUlpsOfTheGrid) {
  const double ulp = 0x1p-7;  // bf16 ulp at 1
  const std::vector<double> r = {1, 1, 1, 1}, t = {1, 1 + ulp, 1 + 3 * ulp, 1 - 3 * ulp / 2};
  const UlpResult u = MaxUlpDistance(View(t, Shape{2, 2}), View(r, Shape{2, 2}));
  EXPECT_EQ(u.max_ulps, 3.0);
  EXPECT_EQ(u.flat_index, 2);
  EXPECT_THAT(u.index, ElementsAre(1, 0));
  EXPECT_EQ(u.target, 1 + 3 * ulp);
  EXPECT_EQ(u.reference, 1.0);
  EXPECT_EQ(u.grid, DType::kBF16);
  EXPECT_EQ(u.elements, 4);
  EXPECT_EQ(CountUlpsOver(View(t), View(r), 1.0), 2);
  EXPECT_EQ(CountUlpsOver(View(t), View(r), 0.0), 3);
  // Below 1 the bf16 spacing halves: 1 - 3/2 ulp(1) is 3 ulps away.
  const std::vector<double> below = {1 - 3 * ulp / 2}, one = {1};
  EXPECT_EQ(MaxUlpDistance(View(below), View(one)).max_ulps, 3.0);
  EXPECT_EQ(MaxUlpDistance(View(below), View(one), DType::kF32).max_ulps, 3.0 * 65536);
}

TEST(MaxUlpDistanceTest, TiesGoToTheLowerIndexAndEqualIsZero) {
  const std::vector<double> r = {2, 2, 2}, t = {2, 2 + 0x1p-6, 2 + 0x1p-6};
  EXPECT_EQ(MaxUlpDistance(View(t), View(r)).flat_index, 1);
  const UlpResult same = MaxUlpDistance(View(r), View(r));
  EXPECT_EQ(same.max_ulps, 0.0);
  EXPECT_EQ(same.flat_index, 0);
}

TEST(MaxUlpDistanceTest, NaNIsInfinitelyFarAndCounted) {
  const std::vector<double> r = {1, 1, 1}, t = {1, kNaN, 1};
  const UlpResult u = MaxUlpDistance(View(t), View(r));
  EXPECT_EQ(u.max_ulps, kInf);
  EXPECT_EQ(u.flat_index, 1);
  EXPECT_EQ(u.nonfinite_target.nan, 1);
  EXPECT_EQ(u.nonfinite_reference.total(), 0);
}

// ---- KL divergence ----

// Logits whose softmax is `p`, shifted by `shift` (softmax does not see the shift).
std::vector<double> Logits(const std::vector<double>& p, double shift) {
  std::vector<double> logits;
  for (double v : p) logits.push_back(std::log(v) + shift);
  return logits;
}

TEST(KlDivergenceTest, KnownDistributionsAndDirection) {
  // KL(p || q) = 0.5 ln(0.5/0.9) + 0.5 ln(0.5/0.1) = ln(5/3); KL(q || p) differs.
  const std::vector<double> p = Logits({0.5, 0.5}, 3.0), q = Logits({0.9, 0.1}, -2.0);
  const RowMetric m = KlDivergence(/*target=*/View(q), /*reference=*/View(p));
  EXPECT_NEAR(m.mean, std::log(5.0 / 3.0), 1e-15);
  EXPECT_NEAR(KlDivergence(View(p), View(q)).mean,
              0.9 * std::log(0.9 / 0.5) + 0.1 * std::log(0.1 / 0.5), 1e-15);
  EXPECT_EQ(m.kind, RowMetricKind::kKlDivergence);
  EXPECT_EQ(m.row_length, 2);
  EXPECT_TRUE(m.row_shape.empty());
  EXPECT_THAT(m.per_row, ElementsAre(m.mean));
  EXPECT_EQ(m.worst_row, 0);
}

TEST(KlDivergenceTest, IdenticalLogitsGiveExactlyZero) {
  const std::vector<double> x = {0.3, -1.7, 2.2, 0.0, 5.5};
  EXPECT_EQ(KlDivergence(View(x), View(x)).mean, 0.0);
}

TEST(KlDivergenceTest, ExtremeLogitsDoNotOverflow) {
  // exp(1e4) overflows a naive softmax; log-sum-exp does not care.
  const std::vector<double> p = Logits({0.5, 0.5}, 1e4), q = Logits({0.9, 0.1}, 1e4);
  EXPECT_NEAR(KlDivergence(View(q), View(p)).mean, std::log(5.0 / 3.0), 1e-9);
  const std::vector<double> low_p = Logits({0.5, 0.5}, -1e4);
  EXPECT_NEAR(KlDivergence(View(q), View(low_p)).mean, std::log(5.0 / 3.0), 1e-9);
  // One dominating logit: softmax is (1, 0) up to exp(-1e4), KL is 0.
  const std::vector<double> peaked = {1e4, 0.0};
  EXPECT_EQ(KlDivergence(View(peaked), View(peaked)).mean, 0.0);
}

TEST(KlDivergenceTest, PerRowMeanMaxAndWorstRow) {
  // [2, 2, 2] logits: rows 0..3, row 2 = [1, 0] has KL ln(5/3).
  const std::vector<double> p = Logits({0.5, 0.5}, 0), q = Logits({0.9, 0.1}, 0);
  std::vector<double> t, r;
  for (int row = 0; row < 4; ++row) {
    r.insert(r.end(), p.begin(), p.end());
    const std::vector<double>& tr = row == 2 ? q : p;
    t.insert(t.end(), tr.begin(), tr.end());
  }
  const RowMetric m = KlDivergence(View(t, Shape{2, 2, 2}), View(r, Shape{2, 2, 2}));
  ASSERT_EQ(m.per_row.size(), 4u);
  EXPECT_EQ(m.per_row[0], 0.0);
  EXPECT_NEAR(m.per_row[2], std::log(5.0 / 3.0), 1e-15);
  EXPECT_NEAR(m.mean, std::log(5.0 / 3.0) / 4, 1e-15);
  EXPECT_EQ(m.max, m.per_row[2]);
  EXPECT_EQ(m.min, 0.0);
  EXPECT_EQ(m.worst_row, 2);
  EXPECT_THAT(m.row_shape, ElementsAre(2, 2));
  EXPECT_THAT(m.WorstRowIndex(), ElementsAre(1, 0));
}

TEST(KlDivergenceTest, MinusInfinityIsAMaskedEntry) {
  const std::vector<double> masked = {0.0, 0.0, -kInf}, open = {0.0, 0.0, 0.0};
  const RowMetric both = KlDivergence(View(masked), View(masked));
  EXPECT_EQ(both.mean, 0.0);
  EXPECT_EQ(both.nonfinite_target.inf, 1);  // still counted
  // q = 0 where p > 0: KL is infinite, as it should be.
  EXPECT_EQ(KlDivergence(/*target=*/View(masked), /*reference=*/View(open)).mean, kInf);
  // p = 0 where q > 0: finite, KL(p || q) = ln(3/2).
  EXPECT_NEAR(KlDivergence(View(open), View(masked)).mean, std::log(1.5), 1e-15);
}

TEST(KlDivergenceTest, NaNRowIsTheWorstAndPoisonsTheMean) {
  const std::vector<double> r = {0, 1, 0, 1, 0, 1}, t = {0, 2, kNaN, 1, 0, kInf};
  const RowMetric m = KlDivergence(View(t, Shape{3, 2}), View(r, Shape{3, 2}));
  EXPECT_GT(m.per_row[0], 0.0);
  EXPECT_TRUE(std::isnan(m.per_row[1]));
  EXPECT_TRUE(std::isnan(m.per_row[2]));  // +inf logit
  EXPECT_TRUE(std::isnan(m.mean));
  EXPECT_TRUE(std::isnan(m.max));
  EXPECT_EQ(m.worst_row, 1);
  EXPECT_EQ(m.nonfinite_target.nan, 1);
  EXPECT_EQ(m.nonfinite_target.inf, 1);
  EXPECT_EQ(m.nonfinite_target.first_index, 2);
}

TEST(KlDivergenceTest, ScalarIsAnError) {
  const std::vector<double> one = {1.0};
  EXPECT_THAT([&] { KlDivergence(View(one, Shape{}), View(one, Shape{})); },
              ThrowsMessage<Error>(HasSubstr("vocabulary dimension")));
}

// ---- top-k agreement ----

TEST(TopKAgreementTest, TiesGoToTheLowerIndex) {
  const std::vector<double> r = {1, 1, 1, 0}, t = {0, 1, 1, 1};
  EXPECT_THAT(TopKIndices(View(r), 0, 2), ElementsAre(0, 1));
  EXPECT_THAT(TopKIndices(View(t), 0, 2), ElementsAre(1, 2));
  const RowMetric m = TopKAgreement(View(t), View(r), 2);  // {1, 2} ∩ {0, 1} = {1}
  EXPECT_EQ(m.mean, 0.5);
  EXPECT_EQ(m.kind, RowMetricKind::kTopKAgreement);
  EXPECT_EQ(m.k, 2);
  EXPECT_EQ(TopKAgreement(View(t), View(r), 4).mean, 1.0);
  EXPECT_EQ(TopKAgreement(View(t), View(r), 1).mean, 0.0);  // argmax 1 vs 0
}

TEST(TopKAgreementTest, PerRowMinAndWorstRow) {
  const std::vector<double> r = {5, 4, 3, 2, 1, 5, 4, 3, 2, 1, 5, 4, 3, 2, 1};
  const std::vector<double> t = {5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 5, 4, 1, 2, 3};
  const RowMetric m = TopKAgreement(View(t, Shape{3, 5}), View(r, Shape{3, 5}), 3);
  EXPECT_THAT(m.per_row, ElementsAre(1.0, 1.0 / 3, 2.0 / 3));
  EXPECT_DOUBLE_EQ(m.mean, 2.0 / 3);
  EXPECT_EQ(m.min, 1.0 / 3);
  EXPECT_EQ(m.max, 1.0);
  EXPECT_EQ(m.worst_row, 1);
  EXPECT_THAT(TopKIndices(View(t, Shape{3, 5}), 1, 3), ElementsAre(4, 3, 2));
}

TEST(TopKAgreementTest, ExtremeAndInfiniteLogitsRank) {
  const std::vector<double> r = {1e4, -1e4, kInf, 0}, t = {1e4, -1e4, kInf, 0};
  EXPECT_THAT(TopKIndices(View(r), 0, 2), ElementsAre(2, 0));
  EXPECT_EQ(TopKAgreement(View(t), View(r), 2).mean, 1.0);
}

TEST(TopKAgreementTest, NaNRowIsReported) {
  const std::vector<double> r = {1, 2, 3, 4}, t = {1, kNaN, 3, 4};
  const RowMetric m = TopKAgreement(View(t, Shape{2, 2}), View(r, Shape{2, 2}), 1);
  EXPECT_TRUE(std::isnan(m.per_row[0]));
  EXPECT_EQ(m.per_row[1], 1.0);
  EXPECT_TRUE(std::isnan(m.mean));
  EXPECT_EQ(m.worst_row, 0);
  EXPECT_EQ(m.nonfinite_target.nan, 1);
}

TEST(TopKAgreementTest, KOutOfRangeIsAnError) {
  const std::vector<double> r = {1, 2, 3};
  EXPECT_THAT([&] { TopKAgreement(View(r), View(r), 4); },
              ThrowsMessage<Error>(HasSubstr("k must lie in [1, vocab = 3], got 4")));
  EXPECT_THROW(TopKAgreement(View(r), View(r), 0), Error);
  EXPECT_THROW(TopKIndices(View(r), 1, 1), Error);  // only row 0 exists
}

// ---- helpers and printing ----

TEST(CountNonFiniteTest, CountsAndFirstIndex) {
  const std::vector<double> v = {1, kInf, kNaN, -kInf, kNaN};
  const NonFiniteCount c = CountNonFinite(View(v));
  EXPECT_EQ(c.nan, 2);
  EXPECT_EQ(c.inf, 2);
  EXPECT_EQ(c.first_index, 1);
  const std::vector<double> fine = {1, 2};
  EXPECT_EQ(CountNonFinite(View(fine)).total(), 0);
  EXPECT_EQ(CountNonFinite(View(fine)).first_index, -1);
}

TEST(PairMetricPrintTest, PrintsResultsNeverTensors) {
  const std::vector<double> r = {1, 2, 3, 4}, t = {1, 2, 3, kNaN};
  EXPECT_EQ(testing::PrintToString(
                Pair{.target = View(t, Shape{2, 2}), .reference = View(r, Shape{2, 2})}),
            "Pair{target f64[2, 2], reference f64[2, 2]}");
  EXPECT_EQ(testing::PrintToString(CosineSimilarity(View(r), View(r))),
            "cosine_similarity = 1 over 4 elements");
  EXPECT_EQ(testing::PrintToString(Nmse(View(t), View(r))),
            "nmse = nan over 4 elements; target has 1 NaN and 0 Inf, the first at flat 3");
  EXPECT_EQ(testing::PrintToString(MaxUlpDistance(View(r), View(r))),
            "max 0 bf16 ulps at [0] (target 1, reference 1) over 4 elements");
  EXPECT_EQ(testing::PrintToString(KlDivergence(View(r, Shape{2, 2}), View(r, Shape{2, 2}))),
            "kl_divergence: mean 0, max 0, worst row [0] of 2 rows of 2");
  EXPECT_EQ(testing::PrintToString(TopKAgreement(View(r), View(r), 2)),
            "top2_agreement: mean 1, min 1, worst row [] of 1 rows of 4");
}

}  // namespace
}  // namespace equiv
