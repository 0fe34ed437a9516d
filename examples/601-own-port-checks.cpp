// The team's own port of 600-own-port.cpp through the stages a generated suite does not: the
// teacher-forced comparison (every position's logits, through its KV cache), the suite run
// with localization and the HTML report, and its buggy variant (rotary on interleaved pairs)
// caught and localized to the attention of layer 0.
//
// Run: build/release/examples/601-own-port-checks (writes 601-team-port-report.html)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <string>

#include "fixtures/teacher_forced_test.h"
#include "generators/component_mapping.h"
#include "libequiv/analysis/localization.h"
#include "libequiv/families/registry.h"
#include "libequiv/report/html_report.h"
#include "libequiv/suite/suite_runner.h"

#ifndef EQUIV_EXAMPLES_DATA
#define EQUIV_EXAMPLES_DATA "examples/data"
#endif

namespace {

const equiv::ModelConfig& Config() {
  static const equiv::ModelConfig config =
      equiv::LoadModelConfig(EQUIV_EXAMPLES_DATA "/tiny-llama.json");
  return config;
}

const equiv::StateDict& Weights() {
  static const equiv::StateDict weights = equiv::InitStateDict(Config(), 1);
  return weights;
}

// The generated suite over a registered port, as equiv_add_component_suite runs it.
std::vector<equiv::CaseResult> RunTeamSuite(const std::string& port) {
  equiv::SuiteSpec spec;
  spec.name = "team_llama_suite";
  spec.model = "tiny-llama";
  spec.config = Config();
  spec.port = {equiv::PortByName(port), {.tp_degree = 2}, {}};
  return equiv::RunSuite(
      spec, Weights(),
      equiv::LoadComponentMapping(EQUIV_EXAMPLES_DATA "/600-team-port-mapping.json"));
}

class TeamPortEndToEnd : public equiv::TeacherForcedTest {};

TEST_F(TeamPortEndToEnd, TeacherForcedLogitsMatchTheReference) {
  equiv::TeacherForcedRun run;
  run.model = "tiny-llama";
  run.config = &Config();
  run.weights = &Weights();
  run.port = equiv::PortByName("team_llama");
  run.device.tp_degree = 2;
  run.prompts = equiv::SeededPrompts(3, 16, Config().vocab_size, 5);
  const equiv::TeacherForcedResult r = ExpectTeacherForcedEquivalent(run);
  std::cout << r.device << ": R p95 " << r.r_ratio.p95 << ", top-1 " << r.top1 << "\n";
}

TEST(TeamPort, SuitePassesAndTheReportRenders) {
  const std::vector<equiv::CaseResult> cases = RunTeamSuite("team_llama");
  EXPECT_EQ(cases.size(), 24u);  // 3 model-level and 5 per-layer entries x 2 layers, x inputs
  for (const equiv::CaseResult& c : cases) EXPECT_TRUE(c.passed) << c.name << " R = " << c.r_ratio;
  equiv::SuiteResults results;
  results.suite = "team_llama_suite";
  results.model = "tiny-llama";
  results.device = "team_llama/tp2";
  results.cases = cases;
  const std::string html = equiv::RenderHtmlReport(
      {.results = results, .localization = equiv::Localize(cases)});
  std::ofstream("601-team-port-report.html") << html;
  EXPECT_THAT(html, ::testing::HasSubstr("team_llama/tp2"));
}

TEST(TeamPort, TheMetaRopeBugIsCaughtAndLocalized) {
  const equiv::Localization loc = equiv::Localize(RunTeamSuite("team_llama_meta_rope"));
  std::cout << loc.summary << "\n";
  EXPECT_FALSE(loc.clean);
  ASSERT_TRUE(loc.primary.has_value());
  EXPECT_EQ(loc.primary->component, "attention");
  EXPECT_EQ(loc.primary->layer, 0);
  EXPECT_THAT(loc.primary->source_paths, ::testing::ElementsAre("model.layers.0.self_attn"));
  EXPECT_THAT(loc.primary->target_paths, ::testing::ElementsAre("blocks.0.attn"));
}

}  // namespace
