#include "libequiv/calibration/calibration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "tests/support/error_of.h"
#include "tests/support/test_files.h"

namespace equiv {
namespace {

using ::equiv::testing_support::ErrorOf;
using ::testing::DoubleNear;
using ::testing::HasSubstr;

CaseResult Case(std::string component, double r, std::string name = "") {
  CaseResult c;
  c.name = name.empty() ? component + "/" + std::to_string(r) : name;
  c.component = component;
  c.outcome = Outcome::kRatio;
  c.r_ratio = r;
  c.band = BandOf(r, 3.0);
  c.passed = true;
  return c;
}

void Add(std::vector<CaseResult>& cases, std::string component, std::vector<double> rs) {
  for (double r : rs) cases.push_back(Case(component, r));
}

TEST(CalibrateComponentsTest, TightensCleanNormsAndLoosensTpRoundedMlp) {
  std::vector<CaseResult> cases;
  Add(cases, "input_layernorm", {1.0, 1.0, 1.0, 1.0, 1.0});
  Add(cases, "mlp", {1.05, 1.11, 1.19, 1.02, 1.08});
  const ComponentCalibration c = CalibrateComponents(cases);
  // 1.0 x 1.1 = 1.1 < 1.2: tighter than the default.
  EXPECT_THAT(c.thresholds.For("input_layernorm"), DoubleNear(1.1, 1e-12));
  // 1.19 x 1.1 = 1.309 > 1.2: looser, because TP 8 bf16 collectives are legitimate.
  EXPECT_THAT(c.thresholds.For("mlp"), DoubleNear(1.309, 1e-12));
  EXPECT_THAT(c.thresholds.tau, DoubleNear(1.309, 1e-12));
  EXPECT_EQ(c.per_component.at("mlp").samples, 5);
  EXPECT_EQ(c.per_component.at("mlp").quantile_r, 1.19);
  EXPECT_EQ(c.per_component.at("mlp").worst_case, "mlp/1.190000");
  EXPECT_EQ(c.all.samples, 10);
  // A kind without evidence keeps the global tau.
  EXPECT_THAT(c.thresholds.For("attention"), DoubleNear(1.309, 1e-12));
}

TEST(CalibrateComponentsTest, ClampsToTheRuleBoundsAndCountsOverPrecision) {
  std::vector<CaseResult> cases;
  Add(cases, "mlp", {0.75, 0.74, 0.8, 0.7, 0.76});  // over-precision: evidence too
  Add(cases, "attention", {2.9, 2.8, 2.95, 2.7, 2.99});
  const ComponentCalibration c = CalibrateComponents(cases);
  EXPECT_EQ(c.thresholds.For("mlp"), 1.05);       // 0.8 x 1.1 below the floor
  EXPECT_EQ(c.thresholds.For("attention"), 3.0);  // never past likely_bug
  EXPECT_EQ(c.per_component.at("mlp").min_r, 0.7);
}

TEST(CalibrateComponentsTest, TheQuantileLeavesOutTheRareTopSamples) {
  std::vector<CaseResult> cases;
  for (int i = 0; i < 200; ++i) cases.push_back(Case("mlp", 1.0 + i * 0.001));
  const CalibrationRule rule{.quantile = 0.99, .margin = 0};
  EXPECT_THAT(CalibrateComponents(cases, rule).thresholds.For("mlp"),
              DoubleNear(1.197, 1e-12));  // rank 198 of 200, not the max 1.199
}

TEST(CalibrateComponentsTest, RefusesFewSamplesFailedOrNonFiniteEvidence) {
  std::vector<CaseResult> cases;
  Add(cases, "mlp", {1.0, 1.0, 1.0, 1.0, 1.0});
  Add(cases, "rotary", {1.0, 1.0, 1.0});
  EXPECT_EQ(ErrorOf([&] { CalibrateComponents(cases); }),
            "calibration: rotary has 3 known-good samples judged by R, at least 5 needed");
  EXPECT_EQ(ErrorOf([&] { CalibrateComponents(cases, {.min_samples = 3}); }), "no error");

  std::vector<CaseResult> broken = cases;
  broken.push_back(Case("mlp", 3.4, "tiny-llama/tp8/seeds_1_11/layers_1_mlp/normal"));
  broken.back().passed = false;
  broken.back().band = Band::kLikelyBug;
  EXPECT_EQ(ErrorOf([&] { CalibrateComponents(broken, {.min_samples = 3}); }),
            "known-good case \"tiny-llama/tp8/seeds_1_11/layers_1_mlp/normal\" failed (outcome "
            "ratio, R = 3.3999999999999999, band likely_bug): a calibration on a broken port "
            "must not loosen thresholds");

  std::vector<CaseResult> nan = cases;
  nan.push_back(Case("mlp", NAN, "layers_0_mlp/normal"));
  EXPECT_EQ(ErrorOf([&] { CalibrateComponents(nan, {.min_samples = 3}); }),
            "known-good case \"layers_0_mlp/normal\" has R = nan, not a finite value >= 0");
  EXPECT_EQ(ErrorOf([] { CalibrateComponents({}); }),
            "calibration: 0 known-good samples judged by R in all, at least 5 needed");
}

TEST(CalibrateComponentsTest, CasesNotJudgedByRAreNoEvidence) {
  std::vector<CaseResult> cases;
  Add(cases, "mlp", {1.0, 1.0, 1.0, 1.0, 1.0});
  CaseResult lookup = Case("embedding", NAN, "embed_tokens/normal");
  lookup.outcome = Outcome::kDegenerateBaseline;
  lookup.band.reset();
  cases.push_back(lookup);
  const ComponentCalibration c = CalibrateComponents(cases);
  EXPECT_EQ(c.cases, 6);
  EXPECT_EQ(c.not_by_ratio, 1);
  EXPECT_FALSE(c.thresholds.tau_by_component.contains("embedding"));
}

TEST(CalibrationRuleTest, ErrorsNameTheField) {
  const auto error = [](CalibrationRule rule) { return ErrorOf([&] { ValidateRule(rule); }); };
  EXPECT_EQ(error({.quantile = 1.5}), "calibration rule: quantile = 1.5 is outside (0, 1]");
  EXPECT_EQ(error({.margin = -0.1}), "calibration rule: margin = -0.1 is not a finite value >= 0");
  EXPECT_EQ(error({.tau_upper = 4}),
            "calibration rule: tau_upper = 4 is above 3 (a thresholds "
            "file's limit)");
  EXPECT_EQ(error({.tau_lower = 0.9}),
            "calibration rule: tau_lower = 0.9 is outside [1, "
            "tau_upper]");
  EXPECT_EQ(error({.min_samples = 0}), "calibration rule: min_samples = 0 is below 1");
  EXPECT_EQ(error({}), "no error");
}

TEST(CalibrationJsonTest, SuitesReadTheTausAndIgnoreTheRest) {
  std::vector<CaseResult> cases;
  Add(cases, "input_layernorm", {1.0, 1.0, 1.0, 1.0, 1.0});
  Add(cases, "mlp", {1.05, 1.11, 1.19, 1.02, 1.08});
  const Calibration c = Calibrate(cases);
  const nlohmann::json json = ToJson(c);
  EXPECT_EQ(json["version"], 1);
  EXPECT_EQ(json["rule"]["quantile"], 0.99);
  EXPECT_EQ(json["rule"]["min_samples"], 5);
  EXPECT_EQ(json["evidence"]["component_cases"], 10);
  EXPECT_EQ(json["evidence"]["per_component"]["mlp"]["samples"], 5);
  EXPECT_EQ(json["evidence"]["per_component"]["mlp"]["quantile_r"], 1.19);
  EXPECT_EQ(json["evidence"]["teacher_forced_runs"], 0);
  EXPECT_FALSE(json.contains("teacher_forced"));  // readers keep the default criteria

  const std::string path = testing_support::TestDir() + "/equiv_calib.json";
  WriteCalibration(c, path);
  EXPECT_EQ(LoadThresholds(path), c.components.thresholds);
  EXPECT_EQ(TeacherForcedCriteriaFromJson(json, "c.json").tau, TeacherForcedCriteria{}.tau);
  std::filesystem::remove(path);
  EXPECT_THAT(ErrorOf([&] { WriteCalibration(c, "/nonexistent/dir/c.json"); }),
              HasSubstr("/nonexistent/dir/c.json: cannot write the calibration file"));
}

TEST(CalibrationJsonTest, OneFileHoldsEachRegimesCalibration) {
  std::vector<CaseResult> bf16_cases, int8_cases;
  Add(bf16_cases, "mlp", {1.05, 1.11, 1.19, 1.02, 1.08});
  Add(int8_cases, "mlp", {1.0, 1.01, 1.02, 1.0, 1.01});
  const std::vector<Calibration> both = {Calibrate(bf16_cases),
                                         Calibrate(int8_cases, {}, {}, Regime::kInt8Weight)};
  const nlohmann::json json = ToJson(both);
  EXPECT_EQ(json["tau"], both[0].components.thresholds.tau);
  EXPECT_EQ(json["evidence"]["per_component"]["mlp"]["quantile_r"], 1.19);
  EXPECT_EQ(json["regimes"]["int8-weight"]["evidence"]["per_component"]["mlp"]["quantile_r"], 1.02);
  EXPECT_FALSE(json["regimes"]["int8-weight"].contains("rule"));  // one rule, at the top
  EXPECT_EQ(json["rule"]["quantile"], 0.99);

  const std::string path = testing_support::TestDir() + "/equiv_calib_regimes.json";
  WriteCalibration(both, path);
  EXPECT_EQ(LoadThresholds(path), both[0].components.thresholds);
  EXPECT_EQ(LoadThresholds(path, Regime::kInt8Weight), both[1].components.thresholds);
  EXPECT_DOUBLE_EQ(LoadThresholds(path, Regime::kInt8Weight).For("mlp"), 1.02 * 1.1);

  // A weight regime alone: the top level holds no set, so bf16 is refused, not defaulted.
  WriteCalibration(both[1], path);
  EXPECT_THAT(ErrorOf([&] { LoadThresholds(path); }),
              HasSubstr("has no thresholds for regime bf16 (it has int8-weight)"));
  std::filesystem::remove(path);

  EXPECT_EQ(ErrorOf([&] {
              ToJson(std::vector<Calibration>{both[1], both[1]});
            }),
            "calibration: regime int8-weight is given twice");
  Calibration other = both[1];
  other.rule.margin = 0.2;
  EXPECT_EQ(ErrorOf([&] {
              ToJson(std::vector<Calibration>{both[0], other});
            }),
            "calibration: regime int8-weight has another rule than bf16; one file holds one "
            "rule");
}

}  // namespace
}  // namespace equiv
