#include "cli/report_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "libequiv/analysis/localization.h"
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

std::string Read(const std::string& path) { return testing_support::ReadText(path); }

SuiteResults Results() {
  SuiteResults r;
  r.suite = "cli_suite";
  r.model = "tiny-llama";
  r.device = "tp1";
  r.faults = {"qkv_concat_order"};
  r.complete = true;
  for (int i = 0; i < 3; ++i) {
    CaseResult c;
    c.name = "case_" + std::to_string(i) + "/normal";
    c.case_name = "case_" + std::to_string(i);
    c.input = "normal";
    c.component = i == 1 ? "qkv_proj" : "mlp";
    c.order = i;
    c.outcome = Outcome::kRatio;
    c.r_ratio = i == 1 ? 50 : 1;
    c.band = i == 1 ? Band::kMissingAlgorithm : Band::kWithinTolerance;
    c.passed = i != 1;
    c.source_paths = {"model.layers.0.self_attn"};
    c.target_paths = {"layers.0.self_attn.qkv_proj"};
    r.cases.push_back(c);
  }
  return r;
}

struct ReportRun {
  int code;
  std::string out, err;
};

ReportRun Report(const ReportArgs& args) {
  std::ostringstream out, err;
  const int code = RunReport(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(ReportCommandTest, WritesThePageAndSaysWhere) {
  const std::string results = Write("results.json", ToJson(Results()).dump());
  const std::string html = Dir() + "/report.html";
  const ReportRun run = Report({.results = results, .output = html});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "report: " + html + " (3 cases, 1 failed)\n");
  EXPECT_THAT(run.err, IsEmpty());
  const std::string page = Read(html);
  EXPECT_THAT(page, HasSubstr("<h1>cli_suite</h1>"));
  EXPECT_THAT(page, Not(HasSubstr("id=\"localization\"")));
  EXPECT_FALSE(std::filesystem::exists(html + ".tmp." + std::to_string(::getpid())));
}

TEST(ReportCommandTest, LocalizesOrReadsALocalization) {
  const std::string results = Write("results.json", ToJson(Results()).dump());
  const std::string html = Dir() + "/localized.html";
  ReportRun run = Report({.results = results, .localize = true, .output = html});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("primary suspect case_1/normal"));
  EXPECT_THAT(Read(html), HasSubstr("id=\"primary-suspect\""));

  const std::string loc = Write("loc.json", ToJson(Localize(Results().cases)).dump());
  const std::string html2 = Dir() + "/from_file.html";
  run = Report({.results = results, .localization = loc, .output = html2});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(Read(html2), Read(html));
}

TEST(ReportCommandTest, PlotsATeacherForcedResult) {
  const std::string results = Write("results.json", ToJson(Results()).dump());
  const std::string tf =
      Write("tf.json", R"({"prompts": [{"positions": [{"position": 4, "r_ratio": 1.1, "kl": 0.001},
                                               {"position": 5, "r_ratio": 1.3, "kl": 0.002}]}]})");
  const std::string html = Dir() + "/tf.html";
  const ReportRun run = Report({.results = results, .teacher_forced = tf, .output = html});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(Read(html), HasSubstr("id=\"tf-kl\""));
}

TEST(ReportCommandTest, ErrorsExitTwoNamingTheFile) {
  const std::string results = Write("results.json", ToJson(Results()).dump());
  const std::string html = Dir() + "/never.html";
  ReportRun run = Report({.results = Dir() + "/missing.json", .output = html});
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr("equiv report: " + Dir() +
                                 "/missing.json: cannot open: No such file or directory"));
  EXPECT_FALSE(std::filesystem::exists(html));

  run = Report({.results = Write("bad.json", "{\"schema\": 1}"), .output = html});
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr("bad.json: schema is a number, expected a string"));

  run = Report({.results = results, .localization = Write("loc.json", "[1, "), .output = html});
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr("loc.json: malformed JSON at byte 4"));

  run = Report({.results = results, .teacher_forced = Write("tf.json", "[]"), .output = html});
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err,
              HasSubstr("tf.json: the document is an array, expected an object with \"prompts\""));

  run = Report({.results = results, .localization = "x.json", .localize = true, .output = html});
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr("--localize and --localization x.json exclude each other"));

  run = Report({.results = results, .output = Dir() + "/no/such/dir/report.html"});
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr(Dir() + "/no/such/dir/report.html: cannot write the report "
                                         "(creating "));
  EXPECT_FALSE(std::filesystem::exists(html));
}

}  // namespace
}  // namespace equiv::cli
