// `equiv report --format markdown`: the short summary for a CI job summary or a merge-request
// comment (libequiv/report/markdown_summary.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "cli/exit_codes.h"
#include "cli/report_command.h"
#include "libequiv/analysis/localization.h"
#include "libequiv/report/markdown_summary.h"
#include "libequiv/results/suite_results.h"
#include "tests/support/test_files.h"

namespace equiv::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string Dir() { return testing_support::TestDir(); }

std::string Write(const std::string& name, const std::string& text) {
  return testing_support::WriteText(Dir() + "/" + name, text);
}

CaseResult Case(int order, std::string component, double r, Band band, bool passed) {
  CaseResult c;
  c.case_name = "layers_0_" + component;
  c.name = c.case_name + "/normal";
  c.input = "normal";
  c.component = component;
  c.layer = 0;
  c.order = order;
  c.outcome = Outcome::kRatio;
  c.r_ratio = r;
  c.band = band;
  c.passed = passed;
  c.source_paths = {"model.layers.0." + component};
  c.target_paths = {"layers.0." + component};
  return c;
}

// Clean: every case passes, one flagged over-precision (which localization ranks as a suspect).
SuiteResults Clean() {
  SuiteResults r;
  r.suite = "dump_suite";
  r.model = "tiny-llama";
  r.device = "trn1-tp8";
  r.complete = true;
  r.cases = {Case(0, "input_layernorm", 1.01, Band::kWithinTolerance, true),
             Case(1, "attention", 0.93, Band::kOverPrecision, true),
             Case(2, "mlp", 1.1, Band::kWithinTolerance, true)};
  return r;
}

SuiteResults Failing() {
  SuiteResults r = Clean();
  r.faults = {"rope_interleaved"};
  r.cases[1] = Case(1, "attention", 55.03, Band::kMissingAlgorithm, false);
  r.cases[2] = Case(2, "mlp", 4.2, Band::kLikelyBug, false);
  return r;
}

struct ReportRun {
  int code;
  std::string out, err;
};

ReportRun Markdown(const SuiteResults& results, ReportArgs args = {}) {
  args.results = Write("results.json", ToJson(results).dump());
  args.format = "markdown";
  std::ostringstream out, err;
  const int code = RunReport(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(ReportMarkdownTest, AFailingRunNamesTheFailuresAndThePrimarySuspect) {
  const ReportRun run = Markdown(Failing());
  EXPECT_EQ(run.code, kExitPassed) << run.err;
  EXPECT_THAT(run.err, IsEmpty());
  EXPECT_EQ(run.out,
            "## equiv: FAIL\n\n"
            "`dump_suite`: 1 of 3 cases passed, 2 failed, 0 flagged over-precision; model "
            "`tiny-llama`, device `trn1-tp8`, injected faults `rope_interleaved`\n\n"
            "**Primary suspect:** `layers_0_attention/normal` (attention, layer 0), R 55.03, "
            "step, missing_algorithm: " +
                Localize(Failing().cases).primary->description +
                ". Paths `model.layers.0.attention` → `layers.0.attention`\n\n"
                "### Failing components (2)\n\n"
                "| case | component | layer | R | band or outcome | source paths |\n"
                "| --- | --- | --- | --- | --- | --- |\n"
                "| `layers_0_attention/normal` | attention | 0 | 55.03 | missing_algorithm | "
                "`model.layers.0.attention` |\n"
                "| `layers_0_mlp/normal` | mlp | 0 | 4.2 | likely_bug | `model.layers.0.mlp` |\n");
}

TEST(ReportMarkdownTest, APassingRunNamesNoPrimarySuspect) {
  ASSERT_TRUE(Localize(Clean().cases).primary);  // the over-precision flag
  const ReportRun run = Markdown(Clean());
  EXPECT_EQ(run.code, kExitPassed) << run.err;
  EXPECT_EQ(run.out,
            "## equiv: PASS\n\n"
            "`dump_suite`: 3 of 3 cases passed, 0 failed, 1 flagged over-precision; model "
            "`tiny-llama`, device `trn1-tp8`\n\n"
            "No component failed.\n");
  EXPECT_THAT(run.out, Not(HasSubstr("suspect")));
  EXPECT_THAT(run.out, Not(HasSubstr("faults")));  // none injected: nothing to say
}

TEST(ReportMarkdownTest, ADumpRunSaysWhereItsTargetsCameFrom) {
  SuiteResults r = Failing();
  r.faults.clear();
  r.device = "dumps";
  r.dumps = "dumps/rope";
  const ReportRun run = Markdown(r);
  EXPECT_EQ(run.code, kExitPassed) << run.err;
  EXPECT_THAT(run.out, HasSubstr("model `tiny-llama`, targets dumped by the port, read from "
                                 "`dumps/rope`\n"));
  EXPECT_THAT(run.out, Not(HasSubstr("device")));
  EXPECT_THAT(run.out, Not(HasSubstr("clean")));
  EXPECT_THAT(run.out, HasSubstr("**Primary suspect:** `layers_0_attention/normal`"));
}

TEST(ReportMarkdownTest, IncompleteAndLongRuns) {
  SuiteResults r = Clean();
  r.complete = false;
  EXPECT_THAT(Markdown(r).out, HasSubstr("## equiv: INCOMPLETE\n"));
  EXPECT_THAT(Markdown(r).out, HasSubstr("; **the suite did not finish**\n"));
  for (int i = 0; i < 25; ++i) {
    CaseResult c = Case(3 + i, "mlp", 9, Band::kLikelyBug, false);
    c.name = "layers_" + std::to_string(i + 1) + "_mlp/normal";
    r.cases.push_back(c);
  }
  const std::string out = Markdown(r).out;
  EXPECT_THAT(out, HasSubstr("### Failing components (25)\n"));
  EXPECT_THAT(out, HasSubstr("| `layers_20_mlp/normal` |"));
  EXPECT_THAT(out, Not(HasSubstr("| `layers_21_mlp/normal` |")));
  EXPECT_THAT(out, HasSubstr("\nand 5 more failing cases: see the HTML report (`equiv report`)\n"));
}

TEST(ReportMarkdownTest, TheTeacherForcedVerdictIsPartOfTheSummary) {
  const std::string tf =
      Write("tf.json", R"({"passed": false, "r_ratio": {"p95": 52.82}, "cosine": {"p5": 0.7},
                          "kl": {"p95": 0.28}, "top1": 0.49, "failures": [{"message":
                          "kl_p95: KL(P_fp32 || P_target) p95 = 0.28 > delta = 2e-04"}]})");
  const ReportRun run = Markdown(Clean(), {.teacher_forced = tf});
  EXPECT_THAT(run.out, HasSubstr("## equiv: FAIL\n"));  // the components passed, end to end not
  EXPECT_THAT(run.out, HasSubstr("No component failed.\n\n### Teacher-forced: FAIL\n\nR p95 52.82, "
                                 "cosine p5 0.7, KL p95 0.28, top-1 agreement 0.49\n\n"
                                 "- `kl_p95: KL(P_fp32 || P_target) p95 = 0.28 > delta = "
                                 "2e-04`\n"));
  const std::string passed = Write("tf_passed.json", R"({"failures": []})");
  EXPECT_THAT(Markdown(Clean(), {.teacher_forced = passed}).out,
              HasSubstr("## equiv: PASS\n\n`dump_suite`"));
}

TEST(ReportMarkdownTest, WritesTheFileWithOOrStandardOutput) {
  const std::string md = Dir() + "/summary.md";
  const ReportRun run = Markdown(Failing(), {.output = md});
  EXPECT_EQ(run.code, kExitPassed) << run.err;
  EXPECT_THAT(run.out, HasSubstr("report: " + md + " (3 cases, 2 failed"));
  EXPECT_EQ(testing_support::ReadText(md), Markdown(Failing()).out);
  const ReportRun clean = Markdown(Clean(), {.output = md});
  EXPECT_EQ(clean.out, "report: " + md + " (3 cases, 0 failed)\n");  // no suspect when it passed

  std::ostringstream out, err;
  EXPECT_EQ(
      RunReport({.results = Write("r.json", ToJson(Clean()).dump()), .format = "pdf"}, out, err),
      kExitError);
  EXPECT_EQ(err.str(), "equiv report: report: --format pdf is neither html nor markdown\n");
}

TEST(ReportMarkdownTest, NamesFromTheResultsCannotBreakTheMarkdown) {
  SuiteResults r = Failing();
  r.suite = "a`b";
  r.cases[1].name = "bad|name\nwith `ticks`";
  const std::string out = Markdown(r).out;
  EXPECT_THAT(out, HasSubstr("``a`b``: 1 of 3"));
  EXPECT_THAT(out, HasSubstr("| `` bad\\|name with `ticks` `` | attention |"));
  EXPECT_EQ(MarkdownCode("x|y"), "`x|y`");
  EXPECT_EQ(MarkdownCode("x|y", /*in_table=*/true), "`x\\|y`");
  EXPECT_EQ(MarkdownCode("``"), "``` `` ```");
  EXPECT_EQ(MarkdownCode(""), "` `");
  EXPECT_EQ(MarkdownCode("tab\there"), "`tab here`");
}

}  // namespace
}  // namespace equiv::cli
