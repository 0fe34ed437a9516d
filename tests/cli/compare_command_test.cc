#include "cli/compare_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/report_command.h"
#include "libequiv/io/npy.h"
#include "libequiv/io/safetensors.h"
#include "libequiv/results/suite_results.h"
#include "libequiv/tensor/tensor.h"
#include "tests/support/dump_files.h"
#include "tests/support/test_files.h"

namespace equiv::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kData = std::string(EQUIV_TEST_DATA_DIR) + "/cli/";

struct CommandRun {
  int exit_code;
  std::string out, err;  // err: progress and errors
};

CommandRun Compare(std::vector<std::string> inputs, bool json = false) {
  CompareArgs args;
  args.inputs = std::move(inputs);
  args.json = json;
  std::ostringstream out, err;
  const int code = RunCompare(args, out, err);
  return {code, out.str(), err.str()};
}

std::vector<std::string> Triple(const std::string& name, const std::string& target = "") {
  return {kData + name + "_ref_fp32.npy", kData + name + "_ref_bf16.npy",
          kData + (target.empty() ? name + "_target.npy" : target)};
}

// The acceptance check: R on triples written by PyTorch equals PyTorch's float64 R.
TEST(CompareCommandTest, RatioEqualsPyTorchFloat64) {
  std::ifstream in(kData + "expected.json");
  ASSERT_TRUE(in) << "missing " << kData << "expected.json (tools/golden/make_cli_golden.py)";
  const nlohmann::json expected = nlohmann::json::parse(in);
  for (const std::string name : {"linear", "scaled"}) {
    const CommandRun run = Compare(Triple(name), /*json=*/true);
    const double r = nlohmann::json::parse(run.out)["results"][0]["r_ratio"].get<double>();
    const double torch_r = expected[name].get<double>();
    EXPECT_NEAR(r, torch_r, 1e-9 * torch_r) << name;
    std::cout << name << ": equiv R = " << r << ", PyTorch float64 R = " << torch_r
              << ", relative difference " << std::fabs(r - torch_r) / torch_r << "\n";
  }
  EXPECT_EQ(Compare(Triple("linear")).exit_code, kExitPassed);
  EXPECT_EQ(Compare(Triple("scaled")).exit_code, kExitFailed);
}

TEST(CompareCommandTest, TableNamesTheBandAndReportsFailures) {
  const CommandRun run = Compare(Triple("scaled"));
  EXPECT_THAT(run.out, HasSubstr("likely_bug"));
  EXPECT_THAT(run.out, HasSubstr("1 compared: 0 passed, 1 failed"));
  EXPECT_THAT(run.out, HasSubstr("worst element (largest |target - ref_fp32|)"));
}

TEST(CompareCommandTest, NaNInTargetIsAFailure) {
  const CommandRun run = Compare(Triple("linear", "nan_target.npy"));
  EXPECT_EQ(run.exit_code, kExitFailed);
  EXPECT_THAT(run.out, HasSubstr("nonfinite_target"));
  EXPECT_THAT(run.out, HasSubstr("target has 2 NaN and 0 Inf, the first at flat 69, index [2, 5]"));
}

TEST(CompareCommandTest, ShapeMismatchIsAnError) {
  const CommandRun run = Compare(Triple("linear", "short_target.npy"));
  EXPECT_EQ(run.exit_code, kExitError);
  EXPECT_THAT(run.out,
              HasSubstr("shapes differ: ref_fp32 [8, 32], ref_bf16 [8, 32], target [4, 32]"));
}

TEST(CompareCommandTest, WholeDumpComparesEveryTriple) {
  const CommandRun run = Compare({kData + "dump.safetensors"}, /*json=*/true);
  EXPECT_EQ(run.exit_code, kExitFailed);
  const nlohmann::json j = nlohmann::json::parse(run.out);
  ASSERT_EQ(j["results"].size(), 2u);
  EXPECT_EQ(j["results"][0]["name"], "layers.0.linear");
  EXPECT_EQ(j["results"][0]["passed"], true);
  EXPECT_EQ(j["results"][1]["name"], "layers.1.scaled");
  EXPECT_EQ(j["results"][1]["band"], "likely_bug");
  EXPECT_THAT(run.err, HasSubstr("[2/2] layers.1.scaled"));
  // The dump holds bf16 tensors; the .npy files hold the same values as float32.
  const double npy_r =
      nlohmann::json::parse(Compare(Triple("scaled"), true).out)["results"][0]["r_ratio"];
  EXPECT_EQ(j["results"][1]["r_ratio"].get<double>(), npy_r);
}

TEST(CompareCommandTest, SafetensorsTensorSpecs) {
  const std::string dump = kData + "dump.safetensors:layers.1.scaled.";
  const CommandRun run = Compare({dump + "ref_fp32", dump + "ref_bf16", dump + "target"});
  EXPECT_EQ(run.exit_code, kExitFailed);
  EXPECT_THAT(run.out, HasSubstr("likely_bug"));
}

TEST(CompareCommandTest, IncompleteTripleInADumpIsAnError) {
  const std::string path = testing_support::TestDir() + "/incomplete.safetensors";
  const Tensor t = Tensor::FromFloats(Shape{2}, std::vector<float>{1.0f, 2.0f});
  WriteSafetensors(path, {{"a.ref_fp32", t}, {"a.ref_bf16", t}});
  const CommandRun run = Compare({path});
  EXPECT_EQ(run.exit_code, kExitError);
  EXPECT_THAT(run.err,
              HasSubstr("equiv compare: a: incomplete triple: " + path + " has no a.target"));
  std::filesystem::remove(path);
}

TEST(CompareCommandTest, BadInputsAreErrorsThatNameThem) {
  CommandRun run = Compare(
      {kData + "missing_ref_fp32.npy", kData + "linear_ref_bf16.npy", kData + "linear_target.npy"});
  EXPECT_EQ(run.exit_code, kExitError);
  EXPECT_THAT(run.err, HasSubstr("missing_ref_fp32.npy"));

  run = Compare({"weights.pt", "b.npy", "c.npy"});
  EXPECT_EQ(run.exit_code, kExitError);
  EXPECT_THAT(run.err, HasSubstr("'weights.pt': not a tensor file equiv reads"));

  run = Compare({kData + "dump.safetensors:no.such.tensor", kData + "linear_ref_bf16.npy",
                 kData + "linear_target.npy"});
  EXPECT_EQ(run.exit_code, kExitError);
  EXPECT_THAT(run.err, HasSubstr("no.such.tensor"));

  run = Compare({"a.npy", "b.npy"}, /*json=*/true);
  EXPECT_EQ(run.exit_code, kExitError);
  EXPECT_THAT(nlohmann::json::parse(run.out)["error"].get<std::string>(),
              HasSubstr("compare takes REF_FP32 REF_BF16 TARGET, or one DUMP.safetensors"));
  EXPECT_THAT(run.err, HasSubstr("equiv compare: compare takes REF_FP32 REF_BF16 TARGET"));
}

// What PyTorch dumps ([1, n, f]) and what equiv reference writes ([n, f]) compare as one pair.
TEST(CompareCommandTest, ABatchOfOneIsSqueezedOnEveryTensor) {
  const std::string dir = testing_support::TestDir();
  std::vector<float> f(32), b(32);
  for (int i = 0; i < 32; ++i) {
    f[i] = static_cast<float>(i) / 7;
    b[i] = f[i] + 1e-3f * static_cast<float>(i % 3);
  }
  WriteNpy(dir + "/f.npy", TensorView(f, Shape{4, 8}));
  WriteNpy(dir + "/b.npy", TensorView(b, Shape{1, 4, 8}));
  WriteNpy(dir + "/t.npy", TensorView(b, Shape{1, 4, 8}));
  const CommandRun run = Compare({dir + "/f.npy", dir + "/b.npy", dir + "/t.npy"});
  EXPECT_EQ(run.exit_code, kExitPassed) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("1 compared: 1 passed, 0 failed"));
}

// compare --results: a suite results file, labelled from the module paths, that report reads.
TEST(CompareCommandTest, ResultsFileIsLabelledAndReportReadsIt) {
  const std::string dir = testing_support::TestDir();
  const std::string dump = dir + "/rope.safetensors";
  testing_support::WriteDump(dump, {{.name = "model.layers.0.mlp/normal", .r = 1},
                                    {.name = "model.layers.0.self_attn/long_sequence",
                                     .r = 40,
                                     .metadata = R"({"module_path": "model.layers.0.self_attn", )"
                                                 R"("input_kind": "long_sequence"})"},
                                    {.name = "model.layers.0/long_sequence", .r = 30}});
  CompareArgs args;
  args.inputs = {dump};
  args.results = dir + "/results.json";
  args.config = std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/tiny-llama.json";
  std::ostringstream out, err;
  EXPECT_EQ(RunCompare(args, out, err), kExitFailed) << err.str();
  EXPECT_THAT(err.str(),
              HasSubstr("equiv compare: results " + dir + "/results.json (3 cases, 2 failed)"));
  const SuiteResults results = LoadSuiteResults(dir + "/results.json");
  EXPECT_TRUE(results.complete);
  EXPECT_EQ(results.suite, "rope");
  EXPECT_EQ(*results.dumps, dump);
  ASSERT_EQ(results.cases.size(), 3u);
  EXPECT_EQ(results.cases[1].name, "layers_0_attention/long_sequence");
  EXPECT_EQ(results.cases[1].component, "attention");

  // The summary names self_attn, not the decoder layer that contains it, and no clean port.
  std::ostringstream md, md_err;
  EXPECT_EQ(RunReport({.results = dir + "/results.json", .format = "markdown"}, md, md_err), 0)
      << md_err.str();
  EXPECT_THAT(md.str(), HasSubstr("**Primary suspect:** `layers_0_attention/long_sequence` "
                                  "(attention, layer 0)"));
  EXPECT_THAT(md.str(), HasSubstr("`model.layers.0.self_attn`"));
  EXPECT_THAT(md.str(), HasSubstr("targets dumped by the port, read from `" + dump + "`"));
  EXPECT_THAT(md.str(), Not(HasSubstr("clean")));
}

// The JSON of compare is not a results file: report says what to do instead.
TEST(CompareCommandTest, ReportGivenCompareJsonSaysWhatToDo) {
  const std::string dir = testing_support::TestDir();
  const std::string json = testing_support::WriteText(
      dir + "/compare.json", Compare({kData + "dump.safetensors"}, /*json=*/true).out);
  std::ostringstream out, err;
  EXPECT_EQ(RunReport({.results = json, .output = dir + "/r.html"}, out, err), 2);
  EXPECT_THAT(err.str(), HasSubstr(json + " is the output of `equiv compare --json` (one object "
                                          "\"results\"), not a suite's results file: write one "
                                          "with `equiv compare DUMP.safetensors --results "
                                          "results.json`"));
}

}  // namespace
}  // namespace equiv::cli
