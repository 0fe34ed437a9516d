// RRatioBelow and HasRRatio: their descriptions and explanations, word for word.
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
using ::testing::Not;
using ::testing::StartsWith;
using testing_support::Explain;

// Three runs of a [2, 3] component: ref_bf16 and target are ref_fp32 plus the given errors.
struct Runs {
  std::vector<double> ref_fp32 = {1.0, -2.0, 0.5, 3.0, 0.0, -1.5};
  std::vector<double> ref_bf16, target;
  Shape target_shape{2, 3};

  Runs(const std::vector<double>& baseline_error, const std::vector<double>& target_error) {
    for (std::size_t i = 0; i < ref_fp32.size(); ++i) {
      ref_bf16.push_back(ref_fp32[i] + baseline_error[i]);
      target.push_back(ref_fp32[i] + target_error[i]);
    }
  }

  Triple triple() const {
    return Triple{.ref_fp32 = TensorView(std::span<const double>(ref_fp32), Shape{2, 3}),
                  .ref_bf16 = TensorView(std::span<const double>(ref_bf16), Shape{2, 3}),
                  .target = TensorView(std::span<const double>(target), target_shape)};
  }
};

const std::vector<double> kBaselineError = {0.001, -0.001, 0.0005, -0.001, 0.0, 0.0005};
const std::vector<double> kLikelyBugError = {0.002, -0.001, 0.001, 0.01, 0.0, 0.004};
const std::vector<double> kNoError(6, 0.0);

constexpr char kRFormula[] = "||target - ref_fp32||_F / (||ref_bf16 - ref_fp32||_F + eps)";

TEST(RRatioBelowTest, Describes) {
  EXPECT_EQ(DescribeMatcher<Triple>(RRatioBelow(1.2)),
            std::string("passes the R-ratio check: R = ") + kRFormula +
                " below tau = 1.2 (a degenerate baseline must instead be within 0 bf16 ulps "
                "of ref_bf16)");
  EXPECT_EQ(DescribeMatcher<Triple>(RRatioBelow(1.5), /*negation=*/true),
            std::string("fails the R-ratio check: R = ") + kRFormula +
                " not below tau = 1.5, a degenerate baseline not within 0 bf16 ulps of "
                "ref_bf16, or inputs that cannot be compared (shapes, NaN/Inf)");
  CompareOptions options;
  options.max_ulps = 2;
  options.ulp_precision = DType::kF16;
  EXPECT_THAT(DescribeMatcher<Triple>(RRatioBelow(1.2, options)),
              HasSubstr("within 2 f16 ulps of ref_bf16"));
}

TEST(RRatioBelowTest, PassExplainsInOneLine) {
  const Runs runs(kBaselineError, kBaselineError);  // target == ref_bf16: R = 1
  EXPECT_TRUE(testing::Matches(RRatioBelow(1.2))(runs.triple()));
  EXPECT_EQ(Explain(RRatioBelow(1.2), runs.triple()),
            "whose R = 1 < tau = 1.2, band within_tolerance");
}

TEST(RRatioBelowTest, OverPrecisionPassesButIsFlagged) {
  const Runs runs(kBaselineError, kNoError);  // target == ref_fp32: R = 0
  EXPECT_EQ(Explain(RRatioBelow(1.2), runs.triple()),
            "whose R = 0 < tau = 1.2, band over_precision; flagged: over_precision (R < 1: "
            "the port is more precise than the bf16 reference)");
}

TEST(RRatioBelowTest, FailureExplanationIsTheFullReport) {
  const Runs runs(kBaselineError, kLikelyBugError);
  EXPECT_FALSE(testing::Matches(RRatioBelow(1.2))(runs.triple()));
  std::string report = FormatTripleReport(CompareTriple(runs.triple()));
  report.pop_back();  // gtest ends the line
  EXPECT_EQ(Explain(RRatioBelow(1.2), runs.triple()), "whose R-ratio check fails:\n" + report);
  EXPECT_THAT(report, AllOf(HasSubstr("band: likely_bug"), HasSubstr("worst element"),
                            HasSubstr("index [1, 0]")));
}

TEST(RRatioBelowTest, TauDecides) {
  const Runs runs(kBaselineError, kLikelyBugError);  // R = 5.9
  EXPECT_FALSE(testing::Matches(RRatioBelow(3.0))(runs.triple()));
  CompareOptions options;
  options.tau = 3.0;  // replaced by the tau argument
  EXPECT_FALSE(testing::Matches(RRatioBelow(1.2, options))(runs.triple()));
}

TEST(RRatioBelowTest, DegenerateBaselineUsesTheAllowedUlps) {
  std::vector<double> one_ulp(6, 0.0);
  one_ulp[2] = 0x1p-8;  // one bf16 ulp at 0.5
  const Runs runs(kNoError, one_ulp);
  EXPECT_THAT(Explain(RRatioBelow(1.2), runs.triple()),
              AllOf(StartsWith("whose R-ratio check fails:\n"
                               "R-ratio report: FAILED (outcome: degenerate_baseline)"),
                    HasSubstr("max ULP distance target vs ref_bf16: 1 bf16 ulps, allowed 0\n")));
  CompareOptions options;
  options.max_ulps = 1;
  EXPECT_TRUE(testing::Matches(RRatioBelow(1.2, options))(runs.triple()));
  EXPECT_THAT(Explain(RRatioBelow(1.2, options), runs.triple()),
              StartsWith("which passes by degenerate baseline"));
}

TEST(RRatioBelowTest, BadTauIsANonMatchNotAThrow) {
  const Runs runs(kBaselineError, kBaselineError);
  bool matched = true;
  EXPECT_NO_THROW(matched = testing::Matches(RRatioBelow(5.0))(runs.triple()));
  EXPECT_FALSE(matched);
  EXPECT_THAT(Explain(RRatioBelow(5.0), runs.triple()),
              StartsWith("which could not be compared: tau must lie in [1, 3]"));
}

TEST(RRatioBelowTest, ShapeMismatchIsExplained) {
  Runs runs(kBaselineError, kBaselineError);
  runs.target_shape = Shape{3, 2};
  EXPECT_FALSE(testing::Matches(RRatioBelow(1.2))(runs.triple()));
  EXPECT_THAT(Explain(RRatioBelow(1.2), runs.triple()),
              AllOf(HasSubstr("FAILED (outcome: shape_mismatch)"),
                    HasSubstr("target    [3, 2]  <- differs from ref_fp32")));
}

TEST(HasRRatioTest, Describes) {
  EXPECT_EQ(DescribeMatcher<Triple>(HasRRatio(testing::Lt(1.2))),
            std::string("has an R-ratio ") + kRFormula + " that is < 1.2");
  EXPECT_EQ(DescribeMatcher<Triple>(HasRRatio(testing::Lt(1.2)), /*negation=*/true),
            "has no computable R-ratio, or one that isn't < 1.2");
}

TEST(HasRRatioTest, ExplainsRAndBand) {
  const Runs runs(kBaselineError, kLikelyBugError);
  const std::string r = FormatFull(CompareTriple(runs.triple()).r_ratio);
  EXPECT_TRUE(testing::Matches(HasRRatio(testing::Gt(5.0)))(runs.triple()));
  EXPECT_EQ(Explain(HasRRatio(testing::Gt(5.0)), runs.triple()),
            "whose R = " + r + ", band likely_bug");
  // The inner matcher's own explanation follows, then the report.
  EXPECT_THAT(Explain(HasRRatio(testing::DoubleNear(7.0, 0.5)), runs.triple()),
              StartsWith("whose R = " + r + ", band likely_bug, which is -1.09"));
}

TEST(HasRRatioTest, FailureAddsTheReport) {
  const Runs runs(kBaselineError, kLikelyBugError);
  EXPECT_FALSE(testing::Matches(HasRRatio(testing::Lt(1.2)))(runs.triple()));
  EXPECT_THAT(Explain(HasRRatio(testing::Lt(1.2)), runs.triple()),
              AllOf(StartsWith("whose R = 5.9039938"),
                    HasSubstr(", band likely_bug\nR-ratio report: FAILED (outcome: ratio)\n")));
}

TEST(HasRRatioTest, NoRatioNoMatch) {
  const Runs degenerate(kNoError, kNoError);
  EXPECT_FALSE(testing::Matches(HasRRatio(testing::Lt(1.2)))(degenerate.triple()));
  EXPECT_THAT(Explain(HasRRatio(testing::Lt(1.2)), degenerate.triple()),
              StartsWith("whose R-ratio is not available (outcome degenerate_baseline):\n"));
  Runs nan_target(kBaselineError, kBaselineError);
  nan_target.target[0] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(testing::Matches(HasRRatio(testing::Not(testing::IsNan())))(nan_target.triple()));
  EXPECT_THAT(Explain(HasRRatio(testing::Lt(1.2)), nan_target.triple()),
              AllOf(StartsWith("whose R-ratio is not available (outcome nonfinite_target)"),
                    Not(HasSubstr("could not be compared"))));
}

}  // namespace
}  // namespace equiv
