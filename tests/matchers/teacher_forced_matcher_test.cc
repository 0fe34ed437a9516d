// IsTeacherForcedEquivalent: its description, its negation and its explanations, word for
// word, on hand-made results (re-judged under the matcher's criteria).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "libequiv/e2e/logit_metrics.h"
#include "libequiv/e2e/teacher_forced_judge.h"
#include "matchers/matchers.h"
#include "tests/support/explain.h"

namespace equiv {
namespace {

using ::testing::DescribeMatcher;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::Explain;

// Two prompts of four positions; prompt 1 position 2 is bad when `broken`.
TeacherForcedResult Result(bool broken) {
  TeacherForcedResult r;
  r.prompts.resize(2);
  for (PromptResult& p : r.prompts) {
    for (int64_t i = 0; i < 4; ++i) {
      p.positions.push_back({.position = i,
                             .r_ratio = 1.0,
                             .cosine = 0.999,
                             .kl = 0.0001,
                             .top1 = true,
                             .top5 = 1,
                             .top10 = 1});
    }
  }
  if (broken) {
    for (PositionMetrics& m : r.prompts[1].positions) {
      m.r_ratio = 5;
      m.top1 = false;
    }
    r.prompts[0].positions[1].top1 = false;
    r.prompts[1].positions[2] = {.position = 2, .r_ratio = 40, .cosine = 0.5, .kl = 3};
  }
  for (PromptResult& p : r.prompts) SummarizePrompt(p);
  SummarizePooled(r, r.criteria.theta);
  r.failures = JudgeTeacherForced(r, r.criteria);
  return r;
}

constexpr char kConditions[] =
    "R p95 < tau = 1.35, cosine p5 >= theta = 0.95, KL(P_fp32 || P_target) p95 <= delta = "
    "2e-04, top-1 agreement > 0.5, fraction of positions with cosine < theta <= rho = 0.05";

TEST(TeacherForcedMatcherTest, Describes) {
  EXPECT_EQ(DescribeMatcher<TeacherForcedResult>(IsTeacherForcedEquivalent()),
            std::string("is teacher-forced equivalent: ") + kConditions);
  EXPECT_EQ(DescribeMatcher<TeacherForcedResult>(IsTeacherForcedEquivalent(), true),
            std::string("is not teacher-forced equivalent: fails at least one of ") + kConditions);
  EXPECT_THAT(DescribeMatcher<TeacherForcedResult>(IsTeacherForcedEquivalent({.tau = 2})),
              HasSubstr("R p95 < tau = 2,"));
}

TEST(TeacherForcedMatcherTest, ExplainsAPass) {
  EXPECT_THAT(Result(false), IsTeacherForcedEquivalent());
  EXPECT_EQ(Explain(IsTeacherForcedEquivalent(), Result(false)),
            "whose teacher-forced comparison over 2 prompts, 8 positions passes: R p95 = 1, "
            "cosine p5 = 0.999, KL p95 = 0.0001, top-1 agreement = 1");
}

TEST(TeacherForcedMatcherTest, ExplainsEveryFailingCondition) {
  const TeacherForcedResult r = Result(true);
  EXPECT_THAT(r, Not(IsTeacherForcedEquivalent()));
  // R over 8 positions: 1 x4, 5 x3, 40; p95 at h = 6.65 -> 5 + 0.65 * 35 = 27.75
  // (27.749999999999982: 0.95 * 7 rounds down).
  EXPECT_EQ(Explain(IsTeacherForcedEquivalent(), r),
            "whose teacher-forced comparison over 2 prompts, 8 positions fails 5 of 5 conditions:\n"
            "  r_ratio_p95: R p95 = 27.749999999999982 >= tau = 1.35 (worst: prompt 1, position "
            "2, R = 40)\n"
            "  cosine_p5: cosine p5 = 0.67464999999999997 < theta = 0.95 (worst: prompt 1, "
            "position 2, cosine = 0.5)\n"
            "  kl_p95: KL(P_fp32 || P_target) p95 = 1.9500349999999982 > delta = 2e-04 (worst: "
            "prompt 1, position 2, KL = 3)\n"
            "  top1_agreement: top-1 agreement = 0.375 <= 0.5 (worst: prompt 1 with top-1 "
            "agreement 0, first disagreement at position 0)\n"
            "  low_cosine_fraction: fraction of positions with cosine < theta = 0.95 is 0.125 > "
            "rho = 0.05 (worst: prompt 1, position 2, cosine = 0.5)");
}

TEST(TeacherForcedMatcherTest, ReJudgesUnderItsCriteria) {
  const TeacherForcedResult r = Result(true);
  const TeacherForcedCriteria loose{.tau = 30, .theta = 0.4, .delta = 2, .min_top1 = 0.3, .rho = 0};
  EXPECT_THAT(r, IsTeacherForcedEquivalent(loose));
  // theta re-counts the low-cosine positions: at 0.9991 all eight are low.
  const std::string e =
      Explain(IsTeacherForcedEquivalent(
                  {.tau = 30, .theta = 0.9991, .delta = 2, .min_top1 = 0.3, .rho = 0.5}),
              r);
  EXPECT_THAT(e, HasSubstr("fails 2 of 5 conditions:\n  cosine_p5: "));
  EXPECT_THAT(e, HasSubstr("low_cosine_fraction: fraction of positions with cosine < theta = "
                           "0.9991 is 1 > rho = 0.5"));
}

TEST(TeacherForcedMatcherTest, NaNFails) {
  TeacherForcedResult r = Result(false);
  r.prompts[0].positions[0].kl = std::nan("");
  for (PromptResult& p : r.prompts) SummarizePrompt(p);
  SummarizePooled(r, 0.95);
  EXPECT_THAT(Explain(IsTeacherForcedEquivalent(), r),
              HasSubstr("kl_p95: KL(P_fp32 || P_target) p95 = nan > delta = 2e-04 (worst: prompt "
                        "0, position 0, KL = nan)"));
}

TEST(TeacherForcedMatcherTest, PrintsTheVerdictLine) {
  std::ostringstream os;
  PrintTo(Result(true), &os);
  EXPECT_THAT(os.str(), HasSubstr(": failed, 2 prompts, R p95 = 27.749999999999982"));
}

}  // namespace
}  // namespace equiv
