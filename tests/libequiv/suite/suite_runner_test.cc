#include "libequiv/suite/suite_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "generators/builtin_port_mapping.h"
#include "generators/suite_cases.h"
#include "tests/libequiv/models/port_harness.h"

namespace equiv {
namespace {

using ::equiv::testing::TinyConfig;

SuiteSpec Spec(const std::string& config, device::DeviceConfig device = {}, FaultSet faults = {}) {
  SuiteSpec spec;
  spec.config = TinyConfig(config);
  spec.device = std::move(device);
  spec.faults = faults;
  return spec;
}

std::vector<CaseResult> RunAll(const SuiteSpec& spec) {
  const SuiteRunner runner(spec);
  std::vector<CaseResult> results;
  for (const SuiteItem& item : runner.Items(SuiteCases(BuiltinPortMapping(), spec.config))) {
    results.push_back(runner.Run(item));
  }
  return results;
}

TEST(SuiteRunnerTest, ItemsCoverEveryCaseUnderTheKindsThatApply) {
  const SuiteRunner runner(Spec("tiny-llama"));
  const std::vector<SuiteItem> items =
      runner.Items(SuiteCases(BuiltinPortMapping(), runner.spec().config));
  std::vector<std::string> names;
  for (const SuiteItem& item : items) names.push_back(item.Name());
  EXPECT_THAT(names, ::testing::Contains("layers_0_attention/long_sequence"));
  EXPECT_THAT(names, ::testing::Contains("embedding/normal"));
  EXPECT_THAT(names, ::testing::Not(::testing::Contains("embedding/outlier_channels")));
  EXPECT_THAT(names, ::testing::Not(::testing::Contains("layers_0_mlp/long_sequence")));
}

TEST(SuiteRunnerTest, CleanPortPassesEveryCaseAndRecordsIt) {
  const std::vector<CaseResult> results = RunAll(Spec("tiny-llama", {.tp_degree = 2}));
  for (const CaseResult& r : results) {
    EXPECT_TRUE(r.passed) << r.name << ": " << r.message;
    EXPECT_FALSE(r.source_paths.empty()) << r.name;
    EXPECT_FALSE(r.target_paths.empty()) << r.name;
    EXPECT_GT(r.baseline_error_norm, 0) << r.name;
  }
}

TEST(SuiteRunnerTest, FaultFailsItsComponent) {
  const std::vector<CaseResult> results = RunAll(Spec("tiny-llama", {}, {Fault::kQkvConcatOrder}));
  bool qkv_failed = false;
  for (const CaseResult& r : results) {
    if (r.component == Component::kQkvProj) qkv_failed |= !r.passed;
    if (r.component == Component::kMlp) {
      EXPECT_TRUE(r.passed) << r.name;
    }
  }
  EXPECT_TRUE(qkv_failed);
}

// Same inputs and seeds: the same bits, run after run.
TEST(SuiteRunnerTest, ResultsAreDeterministic) {
  const SuiteSpec spec = Spec("tiny-mistral", {.tp_degree = 4});
  const std::vector<CaseResult> a = RunAll(spec), b = RunAll(spec);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].r_ratio, b[i].r_ratio) << a[i].name;
    EXPECT_EQ(a[i].target_error_norm, b[i].target_error_norm) << a[i].name;
    EXPECT_EQ(a[i].errors, b[i].errors) << a[i].name;
  }
}

TEST(SuiteRunnerTest, RunRecordsTheErrorDistributions) {
  const SuiteRunner runner(Spec("tiny-llama", {}, {Fault::kQkvConcatOrder}));
  for (const SuiteItem& item :
       runner.Items(SuiteCases(BuiltinPortMapping(), runner.spec().config))) {
    if (item.component_case.component != Component::kQkvProj) continue;
    const CaseResult r = runner.Run(item);
    ASSERT_TRUE(r.errors.has_value()) << r.name;
    EXPECT_EQ(r.errors, ErrorDistributionOf(runner.Outputs(item).triple()));
    // A wrong computation: the port's largest errors far above the baseline's.
    EXPECT_GT(r.errors->target_quantiles[64], 10 * r.errors->baseline_quantiles[64]) << r.name;
    return;
  }
  FAIL() << "no qkv_proj case";
}

}  // namespace
}  // namespace equiv
