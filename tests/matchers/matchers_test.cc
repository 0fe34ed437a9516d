// The matchers end to end: EXPECT_THAT on owning tensors, the failure messages gtest
// prints, the golden R-ratio failure report, and that no matcher ever throws.
#include "matchers/matchers.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "libequiv/tensor/tensor.h"
#include "tests/support/explain.h"
#include "tests/support/golden.h"

namespace equiv {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Lt;
using ::testing::Matches;
using ::testing::Not;
using testing_support::Explain;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

using testing_support::ExpectMatchesGolden;

// One [3, 4] component as a porting team has it: an f32 reference, its bf16 run, and a
// bf16 port that scales its output by `gain` (a wrong multiplier when gain != 1).
struct Component {
  Tensor ref_fp32, ref_bf16, target;

  explicit Component(float gain) {
    // Literal values, not a libm call: the golden report must not depend on the platform.
    std::vector<float> values = {0.7388f,  1.9175f, -0.3021f, 2.4734f,  -1.1562f, 0.0417f,
                                 -2.2409f, 1.3316f, 0.9063f,  -0.6648f, 1.7781f,  -2.0125f};
    ref_fp32 = Tensor::FromFloats(Shape{3, 4}, values, DType::kF32);
    ref_bf16 = ref_fp32.To(DType::kBF16);
    for (float& v : values) v *= gain;
    target = Tensor::FromFloats(Shape{3, 4}, values, DType::kBF16);
  }

  Triple triple() const {
    return Triple{.ref_fp32 = ref_fp32, .ref_bf16 = ref_bf16, .target = target};
  }
  Pair pair() const { return Pair{.target = target, .reference = ref_fp32}; }
};

TEST(MatchersEndToEndTest, GoodPortPassesEveryMatcher) {
  const Component good(1.0f);  // target == ref_bf16: R = 1
  const Triple triple = good.triple();
  const Pair pair = good.pair();
  EXPECT_THAT(triple, RRatioBelow(1.2));
  EXPECT_THAT(triple, HasRRatio(Lt(1.2)));
  EXPECT_THAT(triple, AllOf(SameShape(), AllFinite(), RRatioBelow()));
  EXPECT_THAT(triple, CosineSimilarityAtLeast(0.9999));
  EXPECT_THAT(pair, NmseBelow(1e-4));
  EXPECT_THAT(pair, WithinUlps(0.5));  // bf16 rounding is at most half an ulp
  EXPECT_THAT(pair, KlDivergenceAtMost(1e-4));
  EXPECT_THAT(pair, TopKAgreementAtLeast(2, 1.0));
  EXPECT_THAT(good.target, AllFinite());
  EXPECT_THAT(triple, Not(HasRRatio(Lt(0.5))));
}

TEST(MatchersEndToEndTest, FailuresPrintTheDiagnosisNeverTheTensors) {
  const Component bad(1.01f);
  const Triple triple = bad.triple();
  const Pair pair = bad.pair();
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(triple, RRatioBelow(1.2)),
                          "Expected: passes the R-ratio check: R = ||target - ref_fp32||_F");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(triple, RRatioBelow(1.2)),
                          "  Actual: Triple{ref_fp32 f32[3, 4], ref_bf16 bf16[3, 4], target "
                          "bf16[3, 4]} (of type equiv::Triple), whose R-ratio check fails:\n"
                          "R-ratio report: FAILED (outcome: ratio)\n");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(triple, HasRRatio(Lt(1.2))),
                          ", band likely_bug\nR-ratio report: FAILED");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(triple, CosineSimilarityAtLeast(1.0)),
                          "context, the triple's R-ratio: R = ");
  EXPECT_NONFATAL_FAILURE(
      EXPECT_THAT(pair, NmseBelow(1e-6)),
      "Actual: Pair{target bf16[3, 4], reference f32[3, 4]} (of type equiv::Pair), "
      "whose NMSE");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(pair, WithinUlps(1)), "farthest element: flat ");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(pair, KlDivergenceAtMost(1e-9)), "worst row [");
  const Component good_component(1.0f);
  const Triple good = good_component.triple();
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(good, Not(RRatioBelow(1.2))),
                          "Expected: fails the R-ratio check");
}

TEST(MatchersEndToEndTest, NonFiniteAndShapeFailures) {
  Component nan(1.0f);
  nan.target.Set(5, kNaN);
  const Triple triple = nan.triple();
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(triple, AllFinite()),
                          "which is not finite: target has 1 NaN and 0 Inf, the first at flat "
                          "5, index [1, 1]");
  const Tensor other(Shape{4, 3}, DType::kBF16);
  const Triple mismatched{.ref_fp32 = nan.ref_fp32, .ref_bf16 = nan.ref_bf16, .target = other};
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(mismatched, SameShape()),
                          "target [4, 3] (differs from ref_fp32)");
}

TEST(MatchersGoldenTest, RRatioFailureReport) {
  const Component bad(1.01f);
  const Triple triple = bad.triple();
  testing::TestPartResultArray failures;
  {
    testing::ScopedFakeTestPartResultReporter reporter(
        testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    EXPECT_THAT(triple, RRatioBelow(1.2));
  }
  ASSERT_EQ(failures.size(), 1);
  ExpectMatchesGolden(std::string(failures.GetTestPartResult(0).message()) + "\n",
                      "matchers/golden/rratio_failure.txt");
}

// Every matcher on inputs that cannot be compared: a non-match that says why, never a throw.
template <typename M, typename T>
void ExpectExplainedNonMatch(const M& matcher, const T& value, const std::string& words) {
  bool matched = true;
  std::string why;
  EXPECT_NO_THROW({
    matched = Matches(matcher)(value);
    why = Explain(matcher, value);
  });
  EXPECT_FALSE(matched) << why;
  EXPECT_THAT(why, HasSubstr(words));
}

TEST(MatchersNeverThrowTest, ShapeMismatch) {
  const Component c(1.0f);
  const Tensor other(Shape{4, 3}, DType::kBF16);
  const Triple triple{.ref_fp32 = c.ref_fp32, .ref_bf16 = c.ref_bf16, .target = other};
  const Pair pair{.target = other, .reference = c.ref_fp32};
  ExpectExplainedNonMatch(RRatioBelow(1.2), triple, "outcome: shape_mismatch");
  ExpectExplainedNonMatch(HasRRatio(Lt(1.2)), triple, "outcome shape_mismatch");
  ExpectExplainedNonMatch(CosineSimilarityAtLeast(0.9), triple, "whose shapes differ");
  ExpectExplainedNonMatch(NmseBelow(0.1), pair, "whose shapes differ");
  ExpectExplainedNonMatch(WithinUlps(1), pair, "whose shapes differ");
  ExpectExplainedNonMatch(KlDivergenceAtMost(0.1), pair, "whose shapes differ");
  ExpectExplainedNonMatch(TopKAgreementAtLeast(1, 0.5), triple, "whose shapes differ");
  ExpectExplainedNonMatch(SameShape(), pair, "whose shapes differ");
}

TEST(MatchersNeverThrowTest, NaNInTheTarget) {
  Component c(1.0f);
  c.target.Set(0, kNaN);
  const Triple triple = c.triple();
  const Pair pair = c.pair();
  ExpectExplainedNonMatch(RRatioBelow(1.2), triple, "outcome: nonfinite_target");
  ExpectExplainedNonMatch(HasRRatio(Lt(1e9)), triple, "outcome nonfinite_target");
  ExpectExplainedNonMatch(CosineSimilarityAtLeast(-1.0), triple, "is not computed");
  ExpectExplainedNonMatch(NmseBelow(1e9), pair, "is not computed");
  ExpectExplainedNonMatch(WithinUlps(1e9), pair, "is inf bf16 ulps");
  ExpectExplainedNonMatch(KlDivergenceAtMost(1e9), pair, "is not computed");
  ExpectExplainedNonMatch(TopKAgreementAtLeast(1, 0.0), pair, "is not computed");
  ExpectExplainedNonMatch(AllFinite(), triple, "target has 1 NaN");
}

TEST(MatchersNeverThrowTest, NaNInTheReferenceAndEmptyInputs) {
  Component c(1.0f);
  c.ref_fp32.Set(3, kNaN);
  ExpectExplainedNonMatch(RRatioBelow(1.2), c.triple(), "outcome: nonfinite_reference");
  const Tensor empty(Shape{0, 4}, DType::kF32);
  const Triple none{.ref_fp32 = empty, .ref_bf16 = empty, .target = empty};
  ExpectExplainedNonMatch(RRatioBelow(1.2), none, "outcome: empty");
  ExpectExplainedNonMatch(CosineSimilarityAtLeast(0.5), none, "nothing to compare");
  ExpectExplainedNonMatch(KlDivergenceAtMost(0.5), none, "nothing to compare");
}

}  // namespace
}  // namespace equiv
