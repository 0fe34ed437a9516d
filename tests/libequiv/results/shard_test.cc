#include "libequiv/results/shard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "libequiv/results/results_writer.h"
#include "libequiv/results/suite_results.h"
#include "tests/support/error_of.h"
#include "tests/support/test_files.h"

namespace equiv {
namespace {

using ::equiv::testing_support::ErrorOf;
using ::testing::HasSubstr;
using ::testing::Optional;

// Sets the two gtest variables for one test and restores them afterwards.
class ShardEnvironmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Save("GTEST_TOTAL_SHARDS", saved_total_);
    Save("GTEST_SHARD_INDEX", saved_index_);
  }
  void TearDown() override {
    Restore("GTEST_TOTAL_SHARDS", saved_total_);
    Restore("GTEST_SHARD_INDEX", saved_index_);
  }
  static void Set(const char* total, const char* index) {
    total ? ::setenv("GTEST_TOTAL_SHARDS", total, 1) : ::unsetenv("GTEST_TOTAL_SHARDS");
    index ? ::setenv("GTEST_SHARD_INDEX", index, 1) : ::unsetenv("GTEST_SHARD_INDEX");
  }

 private:
  static void Save(const char* name, std::optional<std::string>& slot) {
    if (const char* v = std::getenv(name)) slot = v;
  }
  static void Restore(const char* name, const std::optional<std::string>& slot) {
    slot ? ::setenv(name, slot->c_str(), 1) : ::unsetenv(name);
  }
  std::optional<std::string> saved_total_, saved_index_;
};

TEST_F(ShardEnvironmentTest, NeitherVariableIsNoShard) {
  Set(nullptr, nullptr);
  EXPECT_EQ(ShardFromEnvironment(), std::nullopt);
}

TEST_F(ShardEnvironmentTest, BothVariablesGiveTheShard) {
  Set("3", "2");
  EXPECT_THAT(ShardFromEnvironment(), Optional(Shard{2, 3}));
  Set("1", "0");
  EXPECT_THAT(ShardFromEnvironment(), Optional(Shard{0, 1}));
}

TEST_F(ShardEnvironmentTest, OnlyOneVariableIsAnError) {
  Set(nullptr, "1");
  EXPECT_THAT(ErrorOf([] { ShardFromEnvironment(); }),
              HasSubstr("GTEST_SHARD_INDEX is \"1\" but GTEST_TOTAL_SHARDS is not set"));
  Set("4", nullptr);
  EXPECT_THAT(ErrorOf([] { ShardFromEnvironment(); }),
              HasSubstr("GTEST_TOTAL_SHARDS is \"4\" but GTEST_SHARD_INDEX is not set"));
}

TEST_F(ShardEnvironmentTest, MalformedValuesNameTheVariableAndValue) {
  for (const char* total : {"x", "0", "-2", "3 ", "", "1.5"}) {
    Set(total, "0");
    EXPECT_THAT(ErrorOf([] { ShardFromEnvironment(); }),
                HasSubstr("GTEST_TOTAL_SHARDS is \"" + std::string(total) +
                          "\", expected a decimal integer >= 1"));
  }
  for (const char* index : {"one", "-1", "+1", "3", "7"}) {
    Set("3", index);
    EXPECT_THAT(ErrorOf([] { ShardFromEnvironment(); }),
                HasSubstr("GTEST_SHARD_INDEX is \"" + std::string(index) +
                          "\", expected a decimal integer in [0, 3)"));
  }
}

TEST(ShardedPathTest, InsertsTheShardBeforeTheExtension) {
  EXPECT_EQ(ShardedPath("results.json", Shard{0, 3}), "results.shard-1-of-3.json");
  EXPECT_EQ(ShardedPath("out/run.1/results.json", Shard{2, 3}),
            "out/run.1/results.shard-3-of-3.json");
  EXPECT_EQ(ShardedPath("out/results", Shard{1, 2}), "out/results.shard-2-of-2");
  EXPECT_EQ(ShardedPath("out/results.json", std::nullopt), "out/results.json");
}

CaseResult Case(int64_t i) {
  CaseResult c;
  c.case_name = "case_" + std::to_string(i);
  c.input = i % 4 == 0 ? "long_sequence" : "normal";
  c.name = c.case_name + "/" + c.input;
  c.component = "mlp";
  c.layer = i;
  c.order = i / 2;  // pairs share an order: the name breaks the tie
  c.outcome = Outcome::kRatio;
  c.r_ratio = 1.0 + static_cast<double>(i) / 7.0;
  c.band = BandOf(c.r_ratio);
  c.passed = BandPasses(*c.band);
  c.seconds = 0.1 * static_cast<double>(i);
  c.worst = {.flat = i, .index = {i}, .ref_fp32 = 0.3, .ref_bf16 = 0.30078125, .target = 0.31};
  return c;
}

SuiteResults Header() {
  SuiteResults h;
  h.suite = "llama_components";
  h.model = "tiny-llama";
  h.device = "tp2";
  h.faults = {"rotary_interleaved"};
  h.tau = 1.2;
  h.complete = true;
  return h;
}

// Every case of an n-case suite, as the suite lists them for its shards.
std::vector<std::string> SuiteCases(int64_t n) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < n; ++i) names.push_back(Case(i).name);
  return names;
}

SuiteResults Unsharded(int64_t n) {
  SuiteResults all = Header();
  all.suite_cases = SuiteCases(n);
  for (int64_t i = 0; i < n; ++i) all.cases.push_back(Case(i));
  return all;
}

// Shard k of 3 holds the cases with i % 3 == k, in run order.
std::vector<SuiteResults> Split(int64_t n) {
  std::vector<SuiteResults> shards(3, Header());
  for (int64_t k = 0; k < 3; ++k) shards[k].shard = Shard{k, 3};
  for (int64_t k = 0; k < 3; ++k) shards[k].suite_cases = SuiteCases(n);
  for (int64_t i = 0; i < n; ++i) shards[i % 3].cases.push_back(Case(i));
  return shards;
}

TEST(MergeShardsTest, ThreeShardsMergeIntoTheUnshardedResults) {
  std::vector<SuiteResults> shards = Split(11);
  std::swap(shards[0], shards[2]);  // input order does not matter
  const SuiteResults merged = MergeShards(shards);
  EXPECT_EQ(merged.cases.size(), 11u) << "nothing lost";
  EXPECT_FALSE(merged.shard.has_value());
  EXPECT_TRUE(merged.complete);
  EXPECT_EQ(ToJson(merged).dump(2), ToJson(Unsharded(11)).dump(2));
}

struct MergeError {
  std::string what;
  std::function<void(std::vector<SuiteResults>&)> edit;
  std::string message;
};

class MergeErrorTest : public ::testing::TestWithParam<MergeError> {};

TEST_P(MergeErrorTest, NamesTheShardAndTheField) {
  std::vector<SuiteResults> shards = Split(9);
  GetParam().edit(shards);
  EXPECT_THAT(ErrorOf([&] { MergeShards(shards); }),
              HasSubstr("MergeShards: " + GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MergeErrorTest,
    ::testing::Values(
        MergeError{"suite", [](auto& s) { s[1].suite = "other"; },
                   "input 1 (shard 1 of 3) has suite \"other\", input 0 (shard 0 of 3) has "
                   "\"llama_components\""},
        MergeError{"model", [](auto& s) { s[2].model = "big"; },
                   "input 2 (shard 2 of 3) has "
                   "model \"big\""},
        MergeError{"device", [](auto& s) { s[1].device = "tp8"; },
                   "input 1 (shard 1 of 3) has device \"tp8\", input 0 (shard 0 of 3) has "
                   "\"tp2\""},
        MergeError{"faults", [](auto& s) { s[2].faults.clear(); },
                   "input 2 (shard 2 of 3) has faults [], input 0 (shard 0 of 3) has "
                   "[\"rotary_interleaved\"]"},
        MergeError{"tau", [](auto& s) { s[1].tau = 1.5; },
                   "input 1 (shard 1 of 3) has tau 1.5, input 0 (shard 0 of 3) has 1.2"},
        MergeError{"schema", [](auto& s) { s[1].schema_version = 2; },
                   "input 1 (shard 1 of 3) has schema_version 2"},
        MergeError{"total",
                   [](auto& s) {
                     s[2].shard = Shard{2, 4};
                   },
                   "input 2 (shard 2 of 4) has total 4, input 0 (shard 0 of 3) has 3"},
        MergeError{"incomplete", [](auto& s) { s[1].complete = false; },
                   "input 1 (shard 1 of 3) is not complete"},
        MergeError{"no_shard", [](auto& s) { s[0].shard.reset(); },
                   "input 0 has no shard: it is not a shard file"},
        MergeError{"missing_index", [](auto& s) { s.erase(s.begin() + 1); },
                   "shard index 1 of 3 is missing"},
        MergeError{"duplicate_index",
                   [](auto& s) {
                     s[2].shard = Shard{0, 3};
                   },
                   "shard index 0 appears twice: input 0 and input 2"},
        MergeError{"duplicate_case", [](auto& s) { s[2].cases.push_back(Case(4)); },
                   "case \"case_4/long_sequence\" appears in input 1 (shard 1 of 3) and in "
                   "input 2 (shard 2 of 3)"},
        MergeError{"empty", [](auto& s) { s.clear(); }, "no shards to merge"},
        // A shard run with --gtest_filter finished "complete" one case short.
        MergeError{"filtered_shard", [](auto& s) { s[1].cases.erase(s[1].cases.begin()); },
                   "1 of the suite's 9 cases are in no shard, first \"case_1/normal\" (was a "
                   "shard run with --gtest_filter"},
        MergeError{"no_case_list", [](auto& s) { s[2].suite_cases.reset(); },
                   "input 2 (shard 2 of 3) does not list its suite's cases (suite_cases), so the "
                   "merge cannot prove that no case is missing"},
        MergeError{"other_case_list", [](auto& s) { s[1].suite_cases->pop_back(); },
                   "input 1 (shard 1 of 3) has suite_cases of 8 cases, input 0 (shard 0 of 3) "
                   "has another list of 9"},
        MergeError{"case_not_listed",
                   [](auto& s) {
                     for (auto& shard : s) shard.suite_cases->pop_back();
                   },
                   "case \"case_8/long_sequence\" of input 2 (shard 2 of 3) is not one of the "
                   "suite's cases"}),
    [](const ::testing::TestParamInfo<MergeError>& info) { return info.param.what; });

TEST(MergeShardFilesTest, MergesWrittenFilesAndNamesTheBadOne) {
  const std::string dir = testing_support::TestDir() + "/files";
  std::filesystem::remove_all(dir);
  std::vector<std::string> paths;
  for (SuiteResults& shard : Split(7)) {
    const std::string path = ShardedPath(dir + "/results.json", shard.shard);
    std::vector<CaseResult> cases = std::move(shard.cases);
    shard.cases.clear();
    ResultsWriter writer(path, shard);
    for (const CaseResult& c : cases) writer.Append(c);
    writer.Finish();
    paths.push_back(path);
  }
  EXPECT_EQ(paths[1], dir + "/results.shard-2-of-3.json");
  EXPECT_EQ(ToJson(MergeShardFiles(paths)), ToJson(Unsharded(7)));

  SuiteResults other = LoadSuiteResults(paths[2]);
  other.device = "tp4";
  ResultsWriter(paths[2], other).Finish();
  EXPECT_THAT(ErrorOf([&] { MergeShardFiles(paths); }),
              HasSubstr(paths[2] + " (shard 2 of 3) has device \"tp4\", " + paths[0] +
                        " (shard 0 of 3) has \"tp2\""));
  const std::string absent = dir + "/absent.json";
  EXPECT_THAT(ErrorOf([&] {
                MergeShardFiles({paths[0], absent});
              }),
              HasSubstr(absent + ": cannot open"));
}

}  // namespace
}  // namespace equiv
