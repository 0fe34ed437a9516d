// `equiv calibrate` with --regime on the smallest evidence set (one config, one variant, one
// seed, min_samples 1: one suite run per regime, a few seconds under ASan): each regime's set
// from its own runs, in one file the suites read by regime. The full calibration (every config,
// variant and seed of a regime) is the CLI run docs/calibration.md reports.
#include "cli/calibrate_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "libequiv/calibration/known_good.h"
#include "libequiv/io/json_reader.h"
#include "libequiv/io/number_format.h"
#include "libequiv/suite/thresholds.h"
#include "tests/support/error_of.h"
#include "tests/support/test_files.h"

namespace equiv::cli {
namespace {

using ::equiv::testing_support::ErrorOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kConfigs = std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs";

struct CommandRun {
  int exit_code;
  std::string out, err;
};

CalibrateArgs Small(std::vector<std::string> regimes, const std::string& output) {
  CalibrateArgs args;
  args.configs = kConfigs;
  args.output = output;
  args.regimes = std::move(regimes);
  args.models = {"tiny-llama"};
  args.variants = {"tp2"};
  args.seeds = 1;
  args.rule.min_samples = 1;
  return args;
}

CommandRun RunCommand(const CalibrateArgs& args) {
  std::ostringstream out, err;
  const int code = RunCalibrate(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(CalibrateCommandTest, EachRegimeIsCalibratedFromItsOwnRunsIntoOneFile) {
  const std::string path = testing_support::TestDir() + "/thresholds.json";
  const CommandRun run = RunCommand(Small({"bf16", "int8-weight"}, path));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err,
            "bf16: tiny-llama: the component suite on 1 variant x 1 seed...\n"
            "bf16: tiny-llama: the teacher-forced comparison, 3 prompts...\n"
            "int8-weight: tiny-llama: the component suite on 1 variant x 1 seed...\n"
            "int8-weight: tiny-llama: the teacher-forced comparison, 3 prompts...\n");
  EXPECT_THAT(run.out,
              StartsWith(path + ": 2 regimes\nbf16: 1 config (tiny-llama) x 1 variant x 1 seed: "
                                "30 known-good cases (0 not judged by R), 1 teacher-forced "
                                "run\n  kind                        samples      Q R    max R  "
                                "    tau  worst case\n"));
  EXPECT_THAT(run.out, HasSubstr("\nint8-weight: 1 config (tiny-llama) x 1 variant x 1 seed: 30 "
                                 "known-good cases (0 not judged by R), 1 teacher-forced run\n"));
  // The evidence of each kind: its samples and its worst case, from the regime's own runs.
  EXPECT_THAT(run.out, ContainsRegex("\n  mlp +2 +[0-9.]+ +[0-9.]+ +[0-9.]+  "
                                     "tiny-llama/tp2/seeds_1_11/layers_0_mlp/normal\n"));
  EXPECT_THAT(run.out, ContainsRegex("\n  all \\(tau\\) +30 "));
  EXPECT_THAT(run.out, HasSubstr("  teacher forced: tau "));

  const Thresholds bf16 = LoadThresholds(path);
  const Thresholds int8 = LoadThresholds(path, Regime::kInt8Weight);
  const nlohmann::json file = ReadJsonFile(path);
  EXPECT_EQ(file["tau"], bf16.tau);  // bf16's at the top level, as before regimes
  const nlohmann::json& set = file["regimes"]["int8-weight"];
  EXPECT_EQ(set["tau"], int8.tau);
  EXPECT_EQ(set["evidence"]["component_cases"], 30);
  EXPECT_EQ(set["evidence"]["per_component"]["mlp"]["samples"], 2);
  EXPECT_EQ(set["evidence"]["teacher_forced_runs"], 1);
  EXPECT_THAT(run.out,
              HasSubstr(std::string(1, ' ').append(FormatShort(int8.tau)).append("  tiny-llama/")));
  // int8-weight's MLP baseline holds the int8 error: its R and tau are not bf16's.
  EXPECT_NE(int8.For("mlp"), bf16.For("mlp"));
  EXPECT_GE(int8.tau, 1.05);
  EXPECT_LE(int8.tau, 3.0);
  EXPECT_EQ(LoadTeacherForcedCriteria(path, Regime::kInt8Weight).tau,
            set["teacher_forced"]["tau"].get<double>());
  EXPECT_THAT(ErrorOf([&] { LoadThresholds(path, Regime::kMxfp4Weight); }),
              HasSubstr("has no thresholds for regime mxfp4-weight (it has bf16, int8-weight)"));
}

TEST(CalibrateCommandTest, AWeightRegimeAloneLeavesBf16WithoutASet) {
  const std::string path = testing_support::TestDir() + "/int8.json";
  CalibrateArgs args = Small({"int8-weight"}, path);
  args.teacher_forced = false;
  const CommandRun run = RunCommand(args);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, StartsWith(path + ": 1 regime\nint8-weight: "));
  EXPECT_THAT(ErrorOf([&] { LoadThresholds(path); }),
              HasSubstr("has no thresholds for regime bf16 (it has int8-weight)"));
  EXPECT_FALSE(ReadJsonFile(path)["regimes"]["int8-weight"].contains("teacher_forced"));
}

TEST(CalibrateCommandTest, Fp16IsAClearErrorUntilTheBuiltinPortRunsIt) {
  if (ErrorOf([] { EvidenceOf(Regime::kFp16); }) == "no error") {
    GTEST_SKIP() << "the built-in port runs fp16: the detection matrix has clean fp16 runs";
  }
  const CommandRun run = RunCommand(Small({"int8-weight", "fp16"}, "/nonexistent/t.json"));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err,
            "equiv calibrate: regime fp16: the built-in port cannot run it yet (the detection "
            "matrix has no clean run in it), so there are no known-good runs to calibrate from\n");
}

TEST(CalibrateCommandTest, BadArgumentsExitTwoNamingThem) {
  const std::string path = testing_support::TestDir() + "/bad.json";
  CommandRun run = RunCommand(Small({"int9"}, path));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("int9"));
  EXPECT_THAT(run.err, HasSubstr("bf16, fp16, int8-weight, mxfp4-weight"));
  run = RunCommand(Small({"int8-weight", "int8-weight"}, path));
  EXPECT_EQ(run.err, "equiv calibrate: --regime int8-weight is given twice\n");
  CalibrateArgs args = Small({"int8-weight"}, path);
  args.models = {"tiny-qwen3"};
  run = RunCommand(args);
  EXPECT_EQ(run.err,
            "equiv calibrate: --model \"tiny-qwen3\" is not in regime int8-weight's evidence "
            "(tiny-llama, tiny-llama-yarn, tiny-mistral, tiny-qwen2)\n");
  args = Small({"mxfp4-weight"}, path);  // tiny-llama is no mxfp4-weight evidence
  EXPECT_THAT(RunCommand(args).err,
              HasSubstr("is not in regime mxfp4-weight's evidence (tiny-gpt-oss)"));
}

TEST(RegimeEvidenceTest, EachRegimeHasTheConfigsThatUseItAndTheMatrixsVariants) {
  const RegimeEvidence bf16 = EvidenceOf(Regime::kBf16);
  EXPECT_EQ(bf16.configs, TinyConfigs());
  EXPECT_EQ(bf16.variants.size(), 9u);
  EXPECT_EQ(bf16.e2e_prompts, 3);
  const RegimeEvidence mxfp4 = EvidenceOf(Regime::kMxfp4Weight);
  EXPECT_EQ(mxfp4.configs, std::vector<std::string>{"tiny-gpt-oss"});
  EXPECT_EQ(mxfp4.e2e_prompts, 32);  // DefaultCleanRuns': its routers are near-tied
  ASSERT_EQ(mxfp4.variants.size(), 2u);
  EXPECT_EQ(mxfp4.variants[1].Name(), "tp2");
  EXPECT_EQ(EvidenceOf(Regime::kInt8Weight).configs.front(), "tiny-llama");
}

}  // namespace
}  // namespace equiv::cli
