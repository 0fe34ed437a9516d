// Calibration on real known-good runs of the built-in port: the thresholds it derives, that
// they still catch every catalog fault, and what they catch that tau = 1.2 misses.
#include "libequiv/calibration/known_good.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "libequiv/calibration/calibration.h"
#include "libequiv/calibration/compare_thresholds.h"
#include "libequiv/calibration/detection_matrix.h"
#include "libequiv/families/registry.h"

namespace equiv {
namespace {

using ::testing::AllOf;
using ::testing::Each;
using ::testing::Field;
using ::testing::Gt;
using ::testing::Lt;
using ::testing::StartsWith;

const std::string kConfigs = std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs";

DetectionMatrix Matrix(const Thresholds& thresholds, std::vector<CleanRun> clean_runs = {}) {
  DetectionMatrixOptions options;
  options.configs_dir = kConfigs;
  options.thresholds = thresholds;
  options.clean_runs = std::move(clean_runs);
  return RunDetectionMatrix(options);
}

void PrintCaught(const std::vector<FaultSuiteRun>& faults, const Thresholds& calibrated) {
  for (const FaultSuiteRun& run : faults) {
    for (const ThresholdChange& c : CompareThresholds(run.results, calibrated, {})) {
      std::cout << "caught " << run.info->name << "  " << ToJson(c).dump() << "\n";
    }
  }
}

class KnownGoodTest : public ::testing::Test {
 protected:
  // tiny-llama on TP 1 and TP 8 (bf16 collectives), the three default seeds: 6 suite runs.
  static const std::vector<CaseResult>& Good() {
    static const std::vector<CaseResult> good = KnownGoodComponentRuns(
        kConfigs, {device::DeviceConfig{}, device::DeviceConfig{.tp_degree = 8}}, DefaultSeeds(),
        {"tiny-llama"});
    return good;
  }
  static const Thresholds& Calibrated() {
    static const Thresholds calibrated = CalibrateComponents(Good()).thresholds;
    return calibrated;
  }
};

TEST_F(KnownGoodTest, RunsNameTheirRunAndPassAtTauThree) {
  ASSERT_EQ(Good().size(), 6u * 30u);
  EXPECT_EQ(Good().front().name, "tiny-llama/tp1/seeds_1_11/layers_0_input_layernorm/normal");
  EXPECT_EQ(Good().back().name,
            "tiny-llama/tp8/seeds_3_13/layers_1_decoder_layer/outlier_channels");
  EXPECT_THAT(Good(), Each(AllOf(Field(&CaseResult::passed, true), Field(&CaseResult::tau, 3.0))));
}

TEST_F(KnownGoodTest, TheDefaultTauFailsAKnownGoodTp8Mlp) {
  std::vector<std::string> above;
  for (const CaseResult& r : Good()) {
    if (r.r_ratio >= kDefaultTau) above.push_back(r.name);
  }
  // Eight bf16 partials summed in bf16: legitimate rounding past 1.2 on other seeds.
  EXPECT_THAT(above, ::testing::ElementsAre("tiny-llama/tp8/seeds_2_12/layers_0_mlp/normal",
                                            "tiny-llama/tp8/seeds_2_12/layers_1_mlp/normal",
                                            "tiny-llama/tp8/seeds_3_13/layers_0_mlp/normal",
                                            "tiny-llama/tp8/seeds_3_13/layers_1_mlp/normal"));
}

TEST_F(KnownGoodTest, CalibrationTightensNormsAndLoosensTpRoundedKinds) {
  const Thresholds& t = Calibrated();
  for (const char* c : {"input_layernorm", "post_attention_layernorm", "final_norm", "rotary",
                        "qkv_proj", "lm_head"}) {
    EXPECT_THAT(t.For(c), AllOf(Lt(kDefaultTau), Gt(1.0))) << c;
  }
  EXPECT_THAT(t.For("mlp"), Gt(kDefaultTau));
  EXPECT_THAT(t.For("attention"), Gt(kDefaultTau));
  for (const CaseResult& r : Good()) {
    EXPECT_LT(r.r_ratio, t.For(r.component)) << r.name;  // every known-good case passes
  }
}

TEST_F(KnownGoodTest, CalibratedThresholdsStillCatchEveryCatalogFault) {
  // Every fault (TP 1, its showcase config) and the tightest clean variant, TP 8.
  const DetectionMatrix m = Matrix(Calibrated(), {{"tiny-llama", {.tp_degree = 8}}});
  EXPECT_TRUE(m.AllAsExpected()) << FormatDetectionMatrix(m);
  EXPECT_EQ(m.faults.size(), FaultCatalog().size());
}

TEST_F(KnownGoodTest, CalibratedTausCatchWhatTheDefaultMisses) {
  const std::vector<FaultSuiteRun> faults = FaultSuiteRuns(kConfigs);
  const auto caught = [&](const Thresholds& calibrated) {
    std::vector<std::string> names;
    for (const FaultSuiteRun& run : faults) {
      for (const ThresholdChange& c : CompareThresholds(run.results, calibrated, {})) {
        names.push_back(std::string(run.info->name) + " " + c.name);
      }
    }
    return names;
  };
  // Every fault the calibrated taus see, the default tau 1.2 sees already: bf16 inv_freq, which
  // the rotary tau 1.1 alone caught at 24 positions on tiny-llama (R = 1.103), is at R = 1.6
  // there on its showcase tiny-llama-long (head_dim 128).
  EXPECT_THAT(caught(Calibrated()), ::testing::IsEmpty());
  // Calibrated on TP 1 alone, attention tightens too and a 24-key bf16 softmax shows.
  // Five seeds: with three the embedding has too few samples, and calibration refuses.
  const std::vector<SuiteSeeds> seeds = {{1, 11}, {2, 12}, {3, 13}, {4, 14}, {5, 15}};
  const Thresholds tp1 =
      CalibrateComponents(
          KnownGoodComponentRuns(kConfigs, {device::DeviceConfig{}}, seeds, {"tiny-llama"}))
          .thresholds;
  EXPECT_THAT(caught(tp1), ::testing::ElementsAre(
                               "softmax_bf16 tiny-llama/tp1/seeds_1_11/layers_0_attention/normal"));
}

// The report behind docs/calibration.md: every tiny config, clean variant and default seed.
// Run with --gtest_also_run_disabled_tests; EQUIV_CALIBRATION_OUT=path also writes the file.
// The matrix judges each run by its regime's thresholds (a thresholds file's set for it).
TEST(DetectionMatrixRegimeTest, ARunIsJudgedByItsRegimesThresholds) {
  DetectionMatrixOptions options;
  options.configs_dir = kConfigs;
  options.thresholds.tau = 1.3;  // bf16's: not int8-weight's
  options.thresholds_by_regime[Regime::kInt8Weight] = {.tau = 1.11,
                                                       .tau_by_component = {{"mlp", 1.07}}};
  options.teacher_forced_by_regime[Regime::kInt8Weight].tau = 1.25;
  options.e2e_prompts = 1;
  const MatrixRun int8 =
      RunMatrixSuite(options, "tiny-llama", {.tp_degree = 2}, {}, Regime::kInt8Weight);
  for (const CaseResult& r : int8.results) {
    EXPECT_EQ(r.tau, r.component == "mlp" ? 1.07 : 1.11) << r.name;
  }
  EXPECT_EQ(int8.teacher_forced.criteria.tau, 1.25);
}

TEST(KnownGoodReport, DISABLED_FullTinyCalibration) {
  const std::vector<CaseResult> good = KnownGoodComponentRuns(kConfigs);
  const Calibration calibration = Calibrate(good);
  std::cout << ToJson(calibration).dump(2) << "\n";
  if (const char* out = std::getenv("EQUIV_CALIBRATION_OUT")) WriteCalibration(calibration, out);
  const Thresholds& calibrated = calibration.components.thresholds;
  const DetectionMatrix matrix = Matrix(calibrated);
  std::cout << FormatDetectionMatrix(matrix);
  const std::vector<FaultSuiteRun> faults = FaultSuiteRuns(kConfigs);
  PrintCaught(faults, calibrated);
  for (const CaseResult& r : good) {
    if (r.r_ratio > Thresholds{}.tau)
      std::cout << "known-good above 1.2: " << r.name << " R = " << r.r_ratio << "\n";
  }
  // Calibrated for the TP 1 deployment only, as the fault runs are.
  const Thresholds tp1 =
      CalibrateComponents(KnownGoodComponentRuns(kConfigs, {device::DeviceConfig{}})).thresholds;
  std::cout << "tp1-only: " << ToJson(tp1).dump() << "\n";
  PrintCaught(faults, tp1);
  for (const FaultSuiteRun& run : faults) {
    for (const CaseResult& r : run.results) {
      if (r.component == run.info->component && r.input == "normal") {
        std::cout << run.info->name << " " << r.name << " R = " << r.r_ratio << "\n";
      }
    }
  }
  EXPECT_TRUE(matrix.AllAsExpected());
  // Its clean rows are TP 1 only: a TP 1 calibration does not cover TP 8 rounding.
  const DetectionMatrix tp1_matrix = Matrix(tp1, {{"tiny-llama", {}}});
  std::cout << FormatDetectionMatrix(tp1_matrix);
  EXPECT_TRUE(tp1_matrix.AllAsExpected());
}

}  // namespace
}  // namespace equiv
