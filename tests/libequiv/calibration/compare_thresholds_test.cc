#include "libequiv/calibration/compare_thresholds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace equiv {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

CaseResult Case(std::string name, std::string component, double r,
                Outcome outcome = Outcome::kRatio) {
  CaseResult c;
  c.name = std::move(name);
  c.component = component;
  c.outcome = outcome;
  c.r_ratio = r;
  return c;
}

TEST(CompareThresholdsTest, ListsTheCasesOnlyTheCalibratedTausCatch) {
  const Thresholds calibrated{.tau = 1.2, .tau_by_component = {{"rotary", 1.05}, {"mlp", 1.309}}};
  const std::vector<CaseResult> results = {
      Case("layers_0_rotary/normal", "rotary", 1.1),         // caught only when calibrated
      Case("layers_0_mlp/normal", "mlp", 1.25),              // let through when calibrated
      Case("layers_1_mlp/normal", "mlp", 0.8),               // over-precision: passes both
      Case("layers_0_rotary/long_sequence", "rotary", 5.0),  // fails both
      Case("embed_tokens/normal", "embedding", NAN, Outcome::kDegenerateBaseline),
      Case("layers_1_rotary/normal", "rotary", 1.05),  // R = tau fails
  };
  const std::vector<ThresholdChange> caught = CompareThresholds(results, calibrated, {});
  ASSERT_EQ(caught.size(), 2u);
  EXPECT_EQ(caught[0].name, "layers_0_rotary/normal");
  EXPECT_EQ(caught[0].r_ratio, 1.1);
  EXPECT_EQ(caught[0].calibrated_tau, 1.05);
  EXPECT_EQ(caught[0].default_tau, 1.2);
  EXPECT_EQ(caught[0].calibrated_band, Band::kPossibleBug);
  EXPECT_EQ(caught[0].default_band, Band::kWithinTolerance);
  EXPECT_EQ(caught[1].name, "layers_1_rotary/normal");
  EXPECT_EQ(ToJson(caught[0])["calibrated_band"], "possible_bug");

  EXPECT_THAT(CompareThresholds(results, {}, calibrated),
              ElementsAre(Field(&ThresholdChange::name, "layers_0_mlp/normal")));
  EXPECT_TRUE(CompareThresholds(results, calibrated, calibrated).empty());
}

}  // namespace
}  // namespace equiv
