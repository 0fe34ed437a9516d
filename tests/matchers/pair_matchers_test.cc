// The pair-metric matchers: descriptions and explanations, word for word, on a Pair and on
// a Triple (read as target vs ref_fp32).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libequiv/report/triple_report.h"
#include "matchers/matchers.h"
#include "tests/support/explain.h"

namespace equiv {
namespace {

using ::testing::AllOf;
using ::testing::DescribeMatcher;
using ::testing::HasSubstr;
using ::testing::Matches;
using ::testing::Not;
using ::testing::StartsWith;
using testing_support::Explain;
using testing_support::View;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- CosineSimilarityAtLeast ----

TEST(CosineSimilarityAtLeastTest, Describes) {
  EXPECT_EQ(DescribeMatcher<Pair>(CosineSimilarityAtLeast(0.999)),
            "has cosine similarity <t, r> / (||t|| ||r||) of target and reference at least "
            "0.999");
  EXPECT_EQ(DescribeMatcher<Triple>(CosineSimilarityAtLeast(0.999), /*negation=*/true),
            "has cosine similarity <t, r> / (||t|| ||r||) of target and reference below "
            "0.999, or not computable");
}

TEST(CosineSimilarityAtLeastTest, PassExplainsInOneLine) {
  const std::vector<double> r = {1, 2, 3}, t = {2, 4, 6};
  const Pair pair{.target = View(t, Shape{3}), .reference = View(r, Shape{3})};
  EXPECT_TRUE(Matches(CosineSimilarityAtLeast(0.999))(pair));
  EXPECT_EQ(Explain(CosineSimilarityAtLeast(0.999), pair),
            "whose cosine similarity <t, r> / (||t|| ||r||) (t = target, r = reference) is 1, "
            "at least the threshold 0.999");
}

TEST(CosineSimilarityAtLeastTest, FailureIsADiagnosis) {
  const std::vector<double> r = {1, 1, 0, 0}, t = {1, 0, 0, 1};
  const Pair pair{.target = View(t, Shape{2, 2}), .reference = View(r, Shape{2, 2})};
  const std::string cos = FormatFull(CosineSimilarity(pair.target, pair.reference).value);
  EXPECT_FALSE(Matches(CosineSimilarityAtLeast(0.999))(pair));
  EXPECT_EQ(Explain(CosineSimilarityAtLeast(0.999), pair),
            "whose cosine similarity <t, r> / (||t|| ||r||) (t = target, r = reference) is " + cos +
                ", below the threshold 0.999\n"
                "  ||target|| = 1.4142135623730951, ||reference|| = 1.4142135623730951, "
                "||target - reference|| = 1.4142135623730951\n"
                "  worst element (largest |target - reference|): flat 1, index [0, 1]: "
                "reference = 1, target = 0, target - reference = -1\n"
                "  NaN/Inf: none, all 4 elements finite");
}

TEST(CosineSimilarityAtLeastTest, TripleMeansTargetVsRefFp32WithContext) {
  const std::vector<double> r = {1, 1, 0, 0}, b = {1, 1.01, 0, 0}, t = {1, 0, 0, 1};
  const Triple triple{
      .ref_fp32 = View(r, Shape{4}), .ref_bf16 = View(b, Shape{4}), .target = View(t, Shape{4})};
  EXPECT_THAT(
      Explain(CosineSimilarityAtLeast(0.999), triple),
      AllOf(StartsWith("whose cosine similarity <t, r> / (||t|| ||r||) (t = target, r = "
                       "ref_fp32) is "),
            HasSubstr("||ref_fp32|| = "),
            HasSubstr("worst element (largest |target - ref_fp32|): flat 1, index [1]: "
                      "ref_fp32 = 1, ref_bf16 = 1.01, target = 0, target - ref_fp32 = -1\n"),
            HasSubstr("\n  context, the triple's R-ratio: R = "),
            HasSubstr(", band wrong_computation: completely wrong computation")));
}

TEST(CosineSimilarityAtLeastTest, ZeroVectorIsNamed) {
  const std::vector<double> r = {1, 2}, zero = {0, 0};
  const Pair pair{.target = View(zero, Shape{2}), .reference = View(r, Shape{2})};
  EXPECT_THAT(Explain(CosineSimilarityAtLeast(0.5), pair),
              AllOf(HasSubstr(" is 0, below the threshold 0.5"),
                    HasSubstr("note: target is a zero vector (cosine defined as 0 against a "
                              "non-zero vector)")));
  EXPECT_TRUE(Matches(CosineSimilarityAtLeast(1.0))(
      Pair{.target = View(zero, Shape{2}), .reference = View(zero, Shape{2})}));
}

TEST(CosineSimilarityAtLeastTest, NaNIsCountedNotCompared) {
  const std::vector<double> r = {1, 2, 3}, t = {1, kNaN, 3};
  const Pair pair{.target = View(t, Shape{3}), .reference = View(r, Shape{3})};
  EXPECT_FALSE(Matches(CosineSimilarityAtLeast(-1.0))(pair));
  EXPECT_THAT(Explain(CosineSimilarityAtLeast(0.9), pair),
              AllOf(HasSubstr("(t = target, r = reference) is not computed: NaN/Inf are never "
                              "compared\n"),
                    HasSubstr("\n  NaN/Inf: target has 1 NaN and 0 Inf, the first at flat 1, "
                              "index [1]; statistics skip them")));
}

TEST(CosineSimilarityAtLeastTest, ShapeMismatchIsExplained) {
  const std::vector<double> six(6, 1.0);
  const Pair pair{.target = View(six, Shape{2, 3}), .reference = View(six, Shape{3, 2})};
  EXPECT_FALSE(Matches(CosineSimilarityAtLeast(0.9))(pair));
  EXPECT_EQ(Explain(CosineSimilarityAtLeast(0.9), pair),
            "whose shapes differ: target [2, 3], reference [3, 2]; nothing was compared");
}

// ---- NmseBelow ----

TEST(NmseBelowTest, DescribesAndExplains) {
  EXPECT_EQ(DescribeMatcher<Pair>(NmseBelow(1e-4)),
            "has NMSE ||t - r||^2 / ||r||^2 of target and reference below 1e-04");
  EXPECT_EQ(DescribeMatcher<Pair>(NmseBelow(1e-4), true),
            "has NMSE ||t - r||^2 / ||r||^2 of target and reference not below 1e-04, or not "
            "computable");
  const std::vector<double> r = {3, 4}, t = {3, 4.5};
  const Pair pair{.target = View(t, Shape{2}), .reference = View(r, Shape{2})};
  EXPECT_TRUE(Matches(NmseBelow(0.011))(pair));  // 0.25 / 25 = 0.01
  EXPECT_EQ(Explain(NmseBelow(0.011), pair),
            "whose NMSE ||t - r||^2 / ||r||^2 (t = target, r = reference) is 0.01, below the "
            "threshold 0.011");
  EXPECT_FALSE(Matches(NmseBelow(0.01))(pair));
  EXPECT_THAT(Explain(NmseBelow(0.01), pair),
              AllOf(StartsWith("whose NMSE ||t - r||^2 / ||r||^2 (t = target, r = reference) "
                               "is 0.01, not below the threshold 0.01\n"),
                    HasSubstr("flat 1, index [1]: reference = 4, target = 4.5")));
}

// ---- WithinUlps ----

TEST(WithinUlpsTest, DescribesAndExplains) {
  EXPECT_EQ(DescribeMatcher<Pair>(WithinUlps(1)),
            "has every target element within 1 bf16 ulps of the reference");
  EXPECT_EQ(DescribeMatcher<Pair>(WithinUlps(4, DType::kF32), true),
            "has a target element more than 4 f32 ulps from the reference");
  const double ulp = 0x1p-7;
  const std::vector<double> r = {1, 1, 1, 1}, t = {1, 1 + ulp, 1 + 3 * ulp, 1 + 2 * ulp};
  const Pair pair{.target = View(t, Shape{2, 2}), .reference = View(r, Shape{2, 2})};
  EXPECT_TRUE(Matches(WithinUlps(3))(pair));
  EXPECT_EQ(Explain(WithinUlps(3), pair),
            "whose largest ULP distance from reference is 3 bf16 ulps, within the allowed 3");
  EXPECT_FALSE(Matches(WithinUlps(1))(pair));
  EXPECT_EQ(Explain(WithinUlps(1), pair),
            "whose largest ULP distance from reference is 3 bf16 ulps, more than the allowed 1\n"
            "  farthest element: flat 2, index [1, 0]: reference = 1, target = 1.0234375, "
            "target - reference = 0.0234375\n"
            "  2 of 4 elements are farther than 1 bf16 ulps\n"
            "  NaN/Inf: none, all 4 elements finite");
}

TEST(WithinUlpsTest, NaNIsInfinitelyFar) {
  const std::vector<double> r = {1, 1}, t = {1, kNaN};
  const Pair pair{.target = View(t, Shape{2}), .reference = View(r, Shape{2})};
  EXPECT_FALSE(Matches(WithinUlps(1e9))(pair));
  EXPECT_THAT(Explain(WithinUlps(1), pair),
              AllOf(HasSubstr("is inf bf16 ulps"), HasSubstr("target has 1 NaN")));
}

// ---- KlDivergenceAtMost ----

// [2, 2, 2] logits whose row 2 (index [1, 0]) has KL(p || q) = ln(5/3), the others 0.
struct KlRows {
  std::vector<double> reference, target;
  KlRows() {
    for (int row = 0; row < 4; ++row) {
      reference.insert(reference.end(), {std::log(0.5), std::log(0.5)});
      if (row == 2) {
        target.insert(target.end(), {std::log(0.9), std::log(0.1)});
      } else {
        target.insert(target.end(), {std::log(0.5), std::log(0.5)});
      }
    }
  }
  Pair pair() const {
    return Pair{.target = View(target, Shape{2, 2, 2}),
                .reference = View(reference, Shape{2, 2, 2})};
  }
};

TEST(KlDivergenceAtMostTest, Describes) {
  EXPECT_EQ(DescribeMatcher<Pair>(KlDivergenceAtMost(1e-3)),
            "has logits whose mean over rows of KL(P_reference || Q_target) = sum p (log p - "
            "log q) of the softmaxes is at most 0.001");
  EXPECT_EQ(DescribeMatcher<Pair>(KlDivergenceAtMost(1e-3), true),
            "has logits whose mean over rows of KL(P_reference || Q_target) = sum p (log p - "
            "log q) of the softmaxes is above 0.001, or not computable");
}

TEST(KlDivergenceAtMostTest, FailureNamesTheWorstRow) {
  const KlRows rows;
  const RowMetric m = KlDivergence(rows.pair().target, rows.pair().reference);
  EXPECT_TRUE(Matches(KlDivergenceAtMost(0.2))(rows.pair()));  // mean ln(5/3) / 4 = 0.128
  EXPECT_EQ(Explain(KlDivergenceAtMost(0.2), rows.pair()),
            "whose mean over 4 rows of KL(P_reference || Q_target) of the softmaxes is " +
                FormatFull(m.mean) + ", at most the threshold 0.2");
  EXPECT_FALSE(Matches(KlDivergenceAtMost(1e-3))(rows.pair()));
  EXPECT_EQ(Explain(KlDivergenceAtMost(1e-3), rows.pair()),
            "whose mean over 4 rows of KL(P_reference || Q_target) of the softmaxes is " +
                FormatFull(m.mean) +
                ", above the threshold 0.001\n"
                "  worst row [1, 0] (row 2 of 4, vocab 2): KL = " +
                FormatFull(m.max) + "; over rows max " + FormatFull(m.max) +
                ", min 0\n"
                "  at that row: reference top-1 [0], target top-1 [0]\n"
                "  NaN/Inf: none, all 8 elements finite");
}

TEST(KlDivergenceAtMostTest, NaNLogitsAreExplained) {
  KlRows rows;
  rows.target[3] = kNaN;
  EXPECT_FALSE(Matches(KlDivergenceAtMost(1e9))(rows.pair()));
  EXPECT_THAT(Explain(KlDivergenceAtMost(1e-3), rows.pair()),
              AllOf(HasSubstr("is not computed: a row holds NaN or +Inf logits, or only -Inf"),
                    HasSubstr("worst row [0, 1] (row 1 of 4, vocab 2): KL = nan"),
                    HasSubstr("target has 1 NaN and 0 Inf, the first at flat 3, index [0, 1, "
                              "1]")));
}

// ---- TopKAgreementAtLeast ----

TEST(TopKAgreementAtLeastTest, Describes) {
  EXPECT_EQ(DescribeMatcher<Pair>(TopKAgreementAtLeast(5, 0.9)),
            "has logits whose mean over rows of the top-5 agreement |topk(t) intersect "
            "topk(r)| / k is at least 0.9");
  EXPECT_EQ(DescribeMatcher<Pair>(TopKAgreementAtLeast(5, 0.9), true),
            "has logits whose mean over rows of the top-5 agreement |topk(t) intersect "
            "topk(r)| / k is below 0.9, or not computable");
}

TEST(TopKAgreementAtLeastTest, FailureListsTheTopKOfTheWorstRow) {
  const std::vector<double> r = {5, 4, 3, 2, 1, 5, 4, 3, 2, 1};
  const std::vector<double> t = {5, 4, 3, 2, 1, 1, 2, 3, 4, 5};
  const Pair pair{.target = View(t, Shape{2, 5}), .reference = View(r, Shape{2, 5})};
  EXPECT_TRUE(Matches(TopKAgreementAtLeast(3, 0.5))(pair));  // (1 + 1/3) / 2
  EXPECT_FALSE(Matches(TopKAgreementAtLeast(3, 0.9))(pair));
  EXPECT_EQ(Explain(TopKAgreementAtLeast(3, 0.9), pair),
            "whose mean over 2 rows of the top-3 agreement |topk(target) intersect "
            "topk(reference)| / k is 0.66666666666666663, below the threshold "
            "0.9\n"
            "  worst row [1] (row 1 of 2, vocab 5): agreement 0.33333333333333331; over rows "
            "min 0.33333333333333331, max 1\n"
            "  at that row: reference top-3 [0, 1, 2], target top-3 [4, 3, 2]\n"
            "  NaN/Inf: none, all 10 elements finite");
}

TEST(TopKAgreementAtLeastTest, BadKIsANonMatchNotAThrow) {
  const std::vector<double> r = {1, 2, 3};
  const Pair pair{.target = View(r, Shape{3}), .reference = View(r, Shape{3})};
  bool matched = true;
  EXPECT_NO_THROW(matched = Matches(TopKAgreementAtLeast(4, 0.5))(pair));
  EXPECT_FALSE(matched);
  EXPECT_EQ(Explain(TopKAgreementAtLeast(4, 0.5), pair),
            "which could not be compared: topk_agreement: k must lie in [1, vocab = 3], got 4");
}

// ---- every pair matcher on a triple and on mismatched shapes ----

TEST(PairMatchersTest, TripleShapeMismatchNamesRefFp32) {
  const std::vector<double> six(6, 1.0);
  const Triple triple{.ref_fp32 = View(six, Shape{2, 3}),
                      .ref_bf16 = View(six, Shape{2, 3}),
                      .target = View(six, Shape{6})};
  const std::string expected =
      "whose shapes differ: target [6], ref_fp32 [2, 3]; nothing was compared";
  EXPECT_EQ(Explain(CosineSimilarityAtLeast(0.9), triple), expected);
  EXPECT_EQ(Explain(NmseBelow(0.1), triple), expected);
  EXPECT_EQ(Explain(WithinUlps(1), triple), expected);
  EXPECT_EQ(Explain(KlDivergenceAtMost(0.1), triple), expected);
  EXPECT_EQ(Explain(TopKAgreementAtLeast(1, 0.1), triple), expected);
}

TEST(PairMatchersTest, MismatchedRefBf16IsNotReadForTheWorstElement) {
  const std::vector<double> r = {1, 2, 3}, t = {1, 2, 4}, b = {1};
  const Triple triple{
      .ref_fp32 = View(r, Shape{3}), .ref_bf16 = View(b, Shape{1}), .target = View(t, Shape{3})};
  EXPECT_THAT(
      Explain(NmseBelow(1e-6), triple),
      AllOf(HasSubstr("flat 2, index [2]: ref_fp32 = 3, target = 4"), Not(HasSubstr("ref_bf16 =")),
            HasSubstr("context, the triple's R-ratio: not judged (shape_mismatch)")));
}

}  // namespace
}  // namespace equiv
