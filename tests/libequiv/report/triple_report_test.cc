#include "libequiv/report/triple_report.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/golden.h"

namespace equiv {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

using testing_support::ExpectMatchesGolden;

// Three runs of a [2, 3] component, as doubles: ref_bf16 and target are ref_fp32 plus the
// given errors.
struct Runs {
  std::vector<double> ref_fp32 = {1.0, -2.0, 0.5, 3.0, 0.0, -1.5};
  std::vector<double> ref_bf16, target;
  Shape shape{2, 3};
  Shape target_shape{2, 3};

  Runs(const std::vector<double>& baseline_error, const std::vector<double>& target_error) {
    for (std::size_t i = 0; i < ref_fp32.size(); ++i) {
      ref_bf16.push_back(ref_fp32[i] + baseline_error[i]);
      target.push_back(ref_fp32[i] + target_error[i]);
    }
  }

  Triple triple() const {
    return Triple{.ref_fp32 = TensorView(std::span<const double>(ref_fp32), shape),
                  .ref_bf16 = TensorView(std::span<const double>(ref_bf16), shape),
                  .target = TensorView(std::span<const double>(target), target_shape)};
  }
};

const std::vector<double> kBaselineError = {0.001, -0.001, 0.0005, -0.001, 0.0, 0.0005};
const std::vector<double> kLikelyBugError = {0.002, -0.001, 0.001, 0.01, 0.0, 0.004};

TEST(FormatFullTest, SeventeenSignificantDigits) {
  EXPECT_EQ(FormatFull(0.1), "0.10000000000000001");
  EXPECT_EQ(FormatFull(1.2), "1.2");
  EXPECT_EQ(FormatFull(1.0 / 3.0), "0.33333333333333331");
  EXPECT_EQ(FormatFull(kNaN), "nan");
  EXPECT_EQ(FormatFull(-kInf), "-inf");
}

TEST(TripleReportTest, FailedRatioNamesEverything) {
  const Runs runs(kBaselineError, kLikelyBugError);
  const TripleComparison result = CompareTriple(runs.triple());
  ASSERT_EQ(result.outcome, Outcome::kRatio);
  const std::string report = FormatTripleReport(result, "layers.0.mlp");
  EXPECT_THAT(report, StartsWith("R-ratio report 'layers.0.mlp': FAILED (outcome: ratio)\n"));
  EXPECT_THAT(report, EndsWith("\n"));
  EXPECT_THAT(report,
              AllOf(HasSubstr("  R = ||target - ref_fp32||_F / (||ref_bf16 - ref_fp32||_F + "
                              "eps) = " +
                              FormatFull(result.r_ratio) + "\n"),
                    HasSubstr("  tau = 1.2 (R below tau passes)\n"),
                    HasSubstr("  band: likely_bug: likely porting bug"),
                    HasSubstr("error statistics over all 6 elements (e = x - ref_fp32):\n"
                              "                        target - ref_fp32         "
                              "ref_bf16 - ref_fp32\n"),
                    HasSubstr("  norm ||e||_F          " + FormatFull(result.target_error.norm)),
                    HasSubstr("  max abs               "), HasSubstr("  mean abs              "),
                    HasSubstr("  max rel               "), HasSubstr("  mean rel              "),
                    HasSubstr("  rel Frobenius         "), HasSubstr("  rel inf               "),
                    HasSubstr("worst element (largest |target - ref_fp32|): flat 3, index "
                              "[1, 0]\n  ref_fp32 = 3, ref_bf16 = 2.9990000000000001, target = "
                              "3.0099999999999998"),
                    HasSubstr("non-finite values: none (all finite)\n"), Not(HasSubstr("flagged")),
                    Not(HasSubstr("degenerate"))));
}

TEST(TripleReportTest, GoldenFailureReport) {
  const Runs runs(kBaselineError, kLikelyBugError);
  ExpectMatchesGolden(FormatTripleReport(CompareTriple(runs.triple()), "layers.0.mlp"),
                      "libequiv/report/golden/triple_report_failure.txt");
}

TEST(TripleReportTest, UnnamedReport) {
  const Runs runs(kBaselineError, kLikelyBugError);
  EXPECT_THAT(FormatTripleReport(CompareTriple(runs.triple())),
              StartsWith("R-ratio report: FAILED (outcome: ratio)\n"));
}

TEST(TripleReportTest, OverPrecisionIsFlagged) {
  const Runs runs(kBaselineError, std::vector<double>(6, 0.0));  // target == ref_fp32
  const std::string report = FormatTripleReport(CompareTriple(runs.triple()));
  EXPECT_THAT(report, AllOf(StartsWith("R-ratio report: PASSED, flagged over_precision "
                                       "(outcome: ratio)\n"),
                            HasSubstr("band: over_precision: "),
                            HasSubstr("flagged: over_precision: R < 1")));
}

TEST(TripleReportTest, WithinTolerancePasses) {
  const Runs runs(kBaselineError, kBaselineError);  // target == ref_bf16: R = 1
  const std::string report = FormatTripleReport(CompareTriple(runs.triple()));
  EXPECT_THAT(report,
              AllOf(StartsWith("R-ratio report: PASSED (outcome: ratio)\n"), HasSubstr(" = 1\n"),
                    HasSubstr("band: within_tolerance: "), Not(HasSubstr("flagged"))));
}

TEST(TripleReportTest, DegenerateBaselineShowsUlps) {
  std::vector<double> target_error(6, 0.0);
  target_error[2] = 0x1p-8;  // one bf16 ulp at 0.5
  const Runs runs(std::vector<double>(6, 0.0), target_error);
  const std::string report = FormatTripleReport(CompareTriple(runs.triple()));
  EXPECT_THAT(report,
              AllOf(StartsWith("R-ratio report: FAILED (outcome: degenerate_baseline)\n"),
                    HasSubstr("= not computed (degenerate_baseline)\n"),
                    HasSubstr("band: none (R was not judged)\n"),
                    HasSubstr("degenerate baseline: ||ref_bf16 - ref_fp32||_F = 0 against "
                              "||ref_fp32||_F = "),
                    HasSubstr("  max ULP distance target vs ref_bf16: 1 bf16 ulps, allowed 0\n"),
                    HasSubstr("  elements over the allowed distance: 1 of 6\n"),
                    HasSubstr("worst ULP element: flat 2, index [0, 2]\n  ref_fp32 = 0.5, "
                              "ref_bf16 = 0.5, target = 0.50390625")));
}

TEST(TripleReportTest, NonFiniteTargetCountsOnlyTheInputsThatMatter) {
  Runs runs(kBaselineError, kLikelyBugError);
  runs.target[1] = kNaN;
  runs.target[4] = kNaN;
  const std::string report = FormatTripleReport(CompareTriple(runs.triple()));
  EXPECT_THAT(
      report,
      AllOf(StartsWith("R-ratio report: FAILED (outcome: nonfinite_target)\n"),
            HasSubstr(" (over the finite elements only)\n"),
            HasSubstr("error statistics over the 4 of 6 elements where all three are finite"),
            HasSubstr("non-finite values (never compared):\n  target    2 NaN, 0 Inf; "
                      "the first at flat 1, index [0, 1]\n"),
            Not(HasSubstr("ref_fp32  0 NaN")), Not(HasSubstr("ref_bf16  0 NaN"))));
}

TEST(TripleReportTest, NonFiniteReferenceIsNotJudged) {
  Runs runs(kBaselineError, kLikelyBugError);
  runs.ref_fp32[5] = kInf;
  const std::string report = FormatTripleReport(CompareTriple(runs.triple()));
  EXPECT_THAT(report,
              AllOf(StartsWith("R-ratio report: FAILED (outcome: nonfinite_reference)\n"),
                    HasSubstr("= not computed (nonfinite_reference)\n"), HasSubstr("band: none"),
                    HasSubstr("  ref_fp32  0 NaN, 1 Inf; the first at flat 5, index [1, 2]\n")));
}

TEST(TripleReportTest, ShapeMismatchListsTheShapes) {
  Runs runs(kBaselineError, kLikelyBugError);
  runs.target_shape = Shape{3, 2};
  const std::string report = FormatTripleReport(CompareTriple(runs.triple()));
  EXPECT_THAT(report, AllOf(StartsWith("R-ratio report: FAILED (outcome: shape_mismatch)\n"),
                            HasSubstr("shapes (nothing was compared):\n"
                                      "  ref_fp32  [2, 3]\n"
                                      "  ref_bf16  [2, 3]\n"
                                      "  target    [3, 2]  <- differs from ref_fp32\n"),
                            Not(HasSubstr("error statistics")), Not(HasSubstr("worst"))));
}

TEST(TripleReportTest, EmptyTensors) {
  const std::vector<double> none;
  const TensorView empty(std::span<const double>(none), Shape{0, 3});
  const std::string report = FormatTripleReport(
      CompareTriple(Triple{.ref_fp32 = empty, .ref_bf16 = empty, .target = empty}));
  EXPECT_THAT(report, AllOf(StartsWith("R-ratio report: FAILED (outcome: empty)\n"),
                            HasSubstr("  target    [0, 3]\n"), Not(HasSubstr("differs"))));
}

}  // namespace
}  // namespace equiv
