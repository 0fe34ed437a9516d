// CalibrateTeacherForced on synthetic known-good results (the real runs are wired in later).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "libequiv/calibration/calibration.h"
#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::equiv::testing_support::ErrorOf;
using ::testing::DoubleNear;

// A passed result with these pooled metrics and one prompt of 20 positions: `low` of them at
// cosine `low_cosine`, the rest at cosine 1.
TeacherForcedResult KnownGood(double r_p95, double cos_p5, double kl_p95, int low = 0,
                              double low_cosine = 0.5) {
  TeacherForcedResult t;
  t.r_ratio.p95 = r_p95;
  t.cosine.p5 = cos_p5;
  t.kl.p95 = kl_p95;
  PromptResult prompt;
  for (int i = 0; i < 20; ++i) {
    prompt.positions.push_back({.position = i, .cosine = i < low ? low_cosine : 1.0});
  }
  t.prompts.push_back(prompt);
  return t;
}

TEST(CalibrateTeacherForcedTest, TightensOnACleanPort) {
  const std::vector<TeacherForcedResult> runs = {
      KnownGood(1.0, 0.9995, 0.001), KnownGood(1.02, 0.999, 0.002), KnownGood(1.05, 0.9993, 0.0015),
      KnownGood(1.01, 0.9996, 0.0012), KnownGood(1.03, 0.9991, 0.0018)};
  const TeacherForcedCalibration c = CalibrateTeacherForced(runs);
  EXPECT_EQ(c.runs, 5);
  EXPECT_THAT(c.criteria.tau, DoubleNear(1.155, 1e-12));     // 1.05 x 1.1 < 1.2
  EXPECT_THAT(c.criteria.theta, DoubleNear(0.9989, 1e-12));  // 0.999 - 0.1 x 0.001 > 0.95
  EXPECT_THAT(c.criteria.delta, DoubleNear(0.0022, 1e-12));  // 0.002 x 1.1 < 0.05
  EXPECT_EQ(c.criteria.rho, 0.01);                           // no position below theta
  EXPECT_EQ(c.criteria.min_top1, 0.5);                       // not calibrated
  EXPECT_EQ(c.quantile_cosine_p5, 0.999);
}

TEST(CalibrateTeacherForcedTest, LoosensWhereKnownGoodRunsNeedIt) {
  const std::vector<TeacherForcedResult> runs = {
      KnownGood(1.5, 0.94, 0.08, 1), KnownGood(1.3, 0.96, 0.04), KnownGood(1.4, 0.95, 0.06),
      KnownGood(1.2, 0.97, 0.03), KnownGood(1.1, 0.98, 0.02, 2)};
  const TeacherForcedCalibration c = CalibrateTeacherForced(runs);
  EXPECT_THAT(c.criteria.tau, DoubleNear(1.65, 1e-12));
  EXPECT_THAT(c.criteria.theta, DoubleNear(0.934, 1e-12));  // 0.94 - 0.1 x 0.06
  EXPECT_THAT(c.criteria.delta, DoubleNear(0.088, 1e-12));
  EXPECT_EQ(c.quantile_low_cosine_fraction, 0.1);  // 2 of 20 positions below theta
  EXPECT_EQ(c.criteria.rho, 0.1);                  // 0.11 clamped to rho_upper
}

TEST(CalibrateTeacherForcedTest, ClampsToTheRuleBounds) {
  const std::vector<TeacherForcedResult> runs(5, KnownGood(0.9, 1.0, 1e-8));
  const TeacherForcedCalibration c = CalibrateTeacherForced(runs);
  EXPECT_EQ(c.criteria.tau, 1.05);
  EXPECT_EQ(c.criteria.theta, 0.9999);
  EXPECT_EQ(c.criteria.delta, 1e-4);
}

TEST(CalibrateTeacherForcedTest, RefusesFewFailedOrNonFiniteRuns) {
  std::vector<TeacherForcedResult> runs(4, KnownGood(1.0, 0.999, 0.001));
  EXPECT_EQ(ErrorOf([&] { CalibrateTeacherForced(runs); }),
            "calibration: 4 known-good teacher-forced runs, at least 5 needed");
  runs.push_back(KnownGood(15.1, 0.9, 0.3));
  runs.back().failures.push_back({.condition = "r_ratio_p95", .message = "R p95 = 15.1 >= 1.2"});
  EXPECT_EQ(ErrorOf([&] { CalibrateTeacherForced(runs); }),
            "known-good teacher-forced run 4 failed (R p95 = 15.1 >= 1.2): a calibration on a "
            "broken port must not loosen thresholds");
  runs.back() = KnownGood(1.0, NAN, 0.001);
  EXPECT_EQ(ErrorOf([&] { CalibrateTeacherForced(runs); }),
            "known-good teacher-forced run 4: cosine.p5 is not finite (nan)");
  runs.back() = KnownGood(1.0, 0.999, 0.001);
  runs.back().prompts[0].positions[3].cosine = NAN;
  EXPECT_EQ(ErrorOf([&] { CalibrateTeacherForced(runs); }),
            "known-good teacher-forced run 4: prompts[0] position 3 cosine is not finite (nan)");
  runs.back().prompts.clear();
  EXPECT_EQ(ErrorOf([&] { CalibrateTeacherForced(runs); }),
            "known-good teacher-forced run 4 has no positions");
}

TEST(CalibrateTeacherForcedTest, TheFixtureReadsTheCalibratedCriteria) {
  std::vector<CaseResult> cases(5);
  for (CaseResult& c : cases) {
    c.component = "mlp";
    c.outcome = Outcome::kRatio;
    c.r_ratio = 1.0;
    c.passed = true;
  }
  const std::vector<TeacherForcedResult> runs(5, KnownGood(1.1, 0.999, 0.002));
  const nlohmann::json json = ToJson(Calibrate(cases, runs));
  EXPECT_EQ(json["evidence"]["teacher_forced_runs"], 5);
  const TeacherForcedCriteria c = TeacherForcedCriteriaFromJson(json, "calibrated.json");
  EXPECT_THAT(c.tau, DoubleNear(1.21, 1e-12));
  EXPECT_THAT(c.theta, DoubleNear(0.9989, 1e-12));
  EXPECT_THAT(c.delta, DoubleNear(0.0022, 1e-12));
  EXPECT_EQ(c.min_top1, 0.5);
  EXPECT_EQ(c.rho, 0.01);
}

}  // namespace
}  // namespace equiv
