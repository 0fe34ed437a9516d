// `equiv merge` and `equiv localize` on results files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "cli/localize_command.h"
#include "cli/merge_command.h"
#include "libequiv/results/results_writer.h"
#include "libequiv/results/shard.h"
#include "libequiv/results/suite_results.h"
#include "tests/support/test_files.h"

namespace equiv::cli {
namespace {

using ::testing::HasSubstr;

CaseResult Case(std::string name, std::string c, int64_t order, double r, bool passed) {
  CaseResult result;
  result.name = result.case_name = std::move(name);
  result.input = "normal";
  result.component = c;
  result.layer = 0;
  result.order = order;
  result.outcome = Outcome::kRatio;
  result.r_ratio = r;
  result.band = BandOf(r);
  result.passed = passed;
  result.source_paths = {"model.layers.0.mlp"};
  result.target_paths = {"model.layers.0.mlp"};
  return result;
}

std::string Write(const std::string& name, std::optional<Shard> shard,
                  const std::vector<CaseResult>& cases) {
  const std::string path = testing_support::TestDir() + "/" + name;
  SuiteResults header;
  header.suite = "s";
  header.shard = shard;
  if (shard) header.suite_cases = {"layers_0_mlp", "layers_0_attention"};
  ResultsWriter writer(path, header);
  for (const CaseResult& c : cases) writer.Append(c);
  writer.Finish();
  return path;
}

TEST(MergeCommandTest, MergesShardsIntoOneFile) {
  const std::string a =
      Write("m.shard-1-of-2.json", Shard{0, 2}, {Case("layers_0_mlp", "mlp", 0, 1.0, true)});
  const std::string b = Write("m.shard-2-of-2.json", Shard{1, 2},
                              {Case("layers_0_attention", "attention", 1, 5.0, false)});
  const std::string merged = testing_support::TestDir() + "/m.json";
  std::ostringstream out, err;
  ASSERT_EQ(RunMerge({.shards = {a, b}, .output = merged}, out, err), kExitPassed) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("2 shards, 2 cases (1 passed, 1 failed"));
  EXPECT_EQ(LoadSuiteResults(merged).cases.size(), 2u);
  // A missing shard is named.
  EXPECT_EQ(RunMerge({.shards = {a}, .output = merged}, out, err), kExitError);
  EXPECT_THAT(err.str(), HasSubstr("equiv merge:"));
}

TEST(LocalizeCommandTest, NamesThePrimarySuspectAndExitsOneOnAFailure) {
  const std::string path = Write("loc.json", std::nullopt,
                                 {Case("layers_0_mlp", "mlp", 0, 25.0, false),
                                  Case("layers_0_decoder_layer", "decoder_layer", 1, 3.0, false)});
  std::ostringstream out, err;
  EXPECT_EQ(RunLocalize({.results = path}, out, err), kExitFailed) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("primary suspect layers_0_mlp (mlp, R = 25"));
  EXPECT_THAT(out.str(), HasSubstr("1. layers_0_mlp  R = 25  step  missing_algorithm"));
  std::ostringstream json;
  EXPECT_EQ(RunLocalize({.results = path, .json = true}, json, err), kExitFailed);
  EXPECT_EQ(nlohmann::json::parse(json.str())["primary"]["name"], "layers_0_mlp");
  EXPECT_EQ(RunLocalize({.results = "/nonexistent.json"}, out, err), kExitError);
}

}  // namespace
}  // namespace equiv::cli
