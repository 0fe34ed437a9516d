#include "cli/teacher_forced_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/report_command.h"
#include "libequiv/e2e/teacher_forced_json.h"
#include "tests/support/logits_dump.h"
#include "tests/support/test_files.h"

namespace equiv::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing_support::LogitsDump;

std::string Dir() { return testing_support::TestDir(); }

struct CommandRun {
  int code;
  std::string out, err;
};

CommandRun TeacherForced(TeacherForcedArgs args) {
  std::ostringstream out, err;
  const int code = RunTeacherForcedCommand(args, out, err);
  return {code, out.str(), err.str()};
}

// Three prompts of a faithful port (target = ref_bf16: R = 1), model and device named.
std::string CleanDump() {
  LogitsDump dump;
  dump.AddPrompt(6, 32, 1.0, {1, 2, 3, 4, 5, 6, 7}).AddPrompt(4, 32).AddPrompt(5, 32);
  dump.Meta("model", "tiny-llama-py").Meta("device", "trn1-tp8").Meta("new_tokens", "3");
  dump.Meta("prompt_0.prompt_length", "4");
  return dump.Write(Dir() + "/clean.safetensors");
}

// The same with the port's error twice the precision error (R = 2).
std::string BuggyDump() {
  LogitsDump dump;
  dump.AddPrompt(6, 32, 2.0).AddPrompt(4, 32, 2.0);
  return dump.Write(Dir() + "/buggy.safetensors");
}

TEST(TeacherForcedCommandTest, AFaithfulPortPasses) {
  const std::string dump = CleanDump();
  const CommandRun run = TeacherForced({.dump = dump});
  EXPECT_EQ(run.code, kExitPassed) << run.out << run.err;
  EXPECT_THAT(run.err, IsEmpty());
  EXPECT_THAT(run.out, HasSubstr("teacher-forced: " + dump +
                                 " (model tiny-llama-py, device trn1-tp8, 3 prompts, 15 "
                                 "positions, vocab 32)\n"
                                 "prompt  positions  R p95"));
  EXPECT_THAT(run.out, HasSubstr("\n0       6          1      "));
  EXPECT_THAT(run.out, HasSubstr("\nall     15         1      "));
  EXPECT_THAT(run.out, HasSubstr("criteria: R p95 < tau 1.35, cosine p5 >= theta 0.95, KL p95 "
                                 "<= delta 2e-04, top-1 > 0.5, low-cosine fraction <= rho 0.05"));
  EXPECT_THAT(run.out, HasSubstr("PASS: every criterion holds\n"));
}

TEST(TeacherForcedCommandTest, JsonIsTheBuiltInRunsSchema) {
  const CommandRun run = TeacherForced({.dump = CleanDump(), .json = true});
  EXPECT_EQ(run.code, kExitPassed) << run.err;
  const TeacherForcedResult r =
      TeacherForcedResultFromJson(nlohmann::json::parse(run.out), "stdout");  // strict
  EXPECT_EQ(r.model, "tiny-llama-py");
  EXPECT_EQ(r.device, "trn1-tp8");
  EXPECT_EQ(r.new_tokens, 3);
  ASSERT_EQ(r.prompts.size(), 3u);
  EXPECT_EQ(r.prompts[0].teacher, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(r.prompts[0].prompt, (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(r.prompts[1].positions.size(), 4u);
  EXPECT_EQ(r.r_ratio.p95, 1.0);
  EXPECT_TRUE(r.passed());
  EXPECT_EQ(nlohmann::json::parse(run.out)["schema"], "equiv.teacher_forced");
}

TEST(TeacherForcedCommandTest, ABuggyPortFailsNamingEachCriterion) {
  const CommandRun run = TeacherForced({.dump = BuggyDump()});
  EXPECT_EQ(run.code, kExitFailed) << run.err;
  EXPECT_THAT(run.out, HasSubstr("\nFAIL: 2 of 5 criteria failed\n"
                                 "  r_ratio_p95: R p95 = 2 >= tau = 1.35 (worst: prompt 0, "
                                 "position 0, R = 2)\n"
                                 "  kl_p95: KL(P_fp32 || P_target) p95 = "));
}

TEST(TeacherForcedCommandTest, CriteriaFromAThresholdsFileAndOptions) {
  const std::string thresholds = Dir() + "/thresholds.json";
  testing_support::WriteText(thresholds,
                             R"({"tau": 1.2, "teacher_forced": {"tau": 2.5, "delta": 0.5}})");
  CommandRun run = TeacherForced({.dump = BuggyDump(), .thresholds = thresholds, .json = true});
  EXPECT_EQ(run.code, kExitPassed) << run.out << run.err;
  nlohmann::json criteria = nlohmann::json::parse(run.out)["criteria"];
  EXPECT_EQ(criteria["tau"], 2.5);
  EXPECT_EQ(criteria["delta"], 0.5);
  EXPECT_EQ(criteria["theta"], 0.95);

  run = TeacherForced({.dump = BuggyDump(), .thresholds = thresholds, .tau = 1.5, .json = true});
  EXPECT_EQ(run.code, kExitFailed);  // the option wins over the file
  criteria = nlohmann::json::parse(run.out)["criteria"];
  EXPECT_EQ(criteria["tau"], 1.5);
  EXPECT_EQ(criteria["delta"], 0.5);

  run = TeacherForced({.dump = BuggyDump(), .theta = 0.5, .delta = 1, .min_top1 = 0, .rho = 1});
  EXPECT_THAT(run.out, HasSubstr("criteria: R p95 < tau 1.35, cosine p5 >= theta 0.5, KL p95 "
                                 "<= delta 1, top-1 > 0, low-cosine fraction <= rho 1"));
}

TEST(TeacherForcedCommandTest, ARegimesDumpReadsItsRegimesSetOfTheFile) {
  const std::string thresholds = Dir() + "/regimes.json";
  testing_support::WriteText(thresholds, R"({"teacher_forced": {"tau": 1.5},
      "regimes": {"mxfp4-weight": {"teacher_forced": {"tau": 2.5, "delta": 0.5}}}})");
  CommandRun run = TeacherForced(
      {.dump = BuggyDump(), .thresholds = thresholds, .json = true, .regime = "mxfp4-weight"});
  EXPECT_EQ(run.code, kExitPassed) << run.out << run.err;
  const nlohmann::json criteria = nlohmann::json::parse(run.out)["criteria"];
  EXPECT_EQ(criteria["tau"], 2.5);
  EXPECT_EQ(criteria["delta"], 0.5);
  run = TeacherForced({.dump = BuggyDump(), .thresholds = thresholds, .regime = "int8-weight"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_THAT(run.err, HasSubstr("regimes.json has no thresholds for regime int8-weight (it has "
                                 "bf16, mxfp4-weight)"));
  run = TeacherForced({.dump = BuggyDump(), .thresholds = thresholds, .regime = "int9"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_THAT(run.err, HasSubstr("int9"));
}

TEST(TeacherForcedCommandTest, BadCriteriaAreErrors) {
  CommandRun run = TeacherForced({.dump = CleanDump(), .tau = 0.5});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err, "equiv teacher-forced: --tau 0.5 is outside [1, 3]\n");
  run = TeacherForced({.dump = CleanDump(), .delta = -1});
  EXPECT_EQ(run.err, "equiv teacher-forced: --delta -1 is outside [0, inf]\n");
  const std::string thresholds = Dir() + "/bad_thresholds.json";
  testing_support::WriteText(thresholds, R"({"teacher_forced": {"thetta": 0.9}})");
  run = TeacherForced({.dump = CleanDump(), .thresholds = thresholds});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_THAT(run.err, HasSubstr("teacher_forced.thetta is not a criterion"));
}

TEST(TeacherForcedCommandTest, HostileFilesAreErrorsNamingThePath) {
  CommandRun run = TeacherForced({.dump = Dir() + "/none.safetensors"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err, "equiv teacher-forced: cannot open \"" + Dir() +
                         "/none.safetensors\": No such file or directory\n");

  // Every reader checks what it opened (libequiv/io/internal/regular_file.h): never a blocking
  // open.
  const std::string fifo = Dir() + "/fifo.safetensors";
  std::filesystem::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  run = TeacherForced({.dump = fifo});  // nothing writes to it: opening it would block
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err, "equiv teacher-forced: cannot map \"" + fifo +
                         "\": it is a FIFO (named pipe), not a regular file\n");
  run = TeacherForced({.dump = CleanDump(), .thresholds = fifo});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_THAT(run.err, HasSubstr(fifo + ": is a FIFO (named pipe), not a regular file"));

  run = TeacherForced({.dump = Dir()});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_THAT(run.err, HasSubstr(Dir() + "\": Is a directory"));

  const std::string garbage = Dir() + "/garbage.safetensors";
  testing_support::WriteText(garbage, "not a safetensors file at all");
  run = TeacherForced({.dump = garbage});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_THAT(run.err, HasSubstr("garbage.safetensors"));
}

TEST(TeacherForcedCommandTest, MalformedDumpsNameTheTensorAndWriteNothing) {
  LogitsDump dump;
  dump.AddPrompt(5, 16).AddPrompt(5, 17);
  const std::string path = dump.Write(Dir() + "/vocab.safetensors");
  const std::string json = Dir() + "/never.json";
  const CommandRun run = TeacherForced({.dump = path, .json = true, .output = json});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_THAT(run.out, IsEmpty());
  EXPECT_EQ(run.err, "equiv teacher-forced: " + path +
                         ": tensor \"prompt_1.ref_fp32\" has a vocabulary of 17 but "
                         "\"prompt_0.ref_fp32\" has 16: every prompt's logits share one "
                         "vocabulary\n");
  EXPECT_FALSE(std::filesystem::exists(json));
}

TEST(TeacherForcedCommandTest, NanTargetLogitsFailWithAWarning) {
  LogitsDump dump;
  dump.AddPrompt(4, 8, 1.5).SetFloat("prompt_0.target", 9, NAN);
  const CommandRun run = TeacherForced({.dump = dump.Write(Dir() + "/nan.safetensors")});
  EXPECT_EQ(run.code, kExitFailed);
  EXPECT_EQ(run.err,
            "equiv teacher-forced: warning: prompt_0.target: 1 of 32 logits are NaN or "
            "infinite, the first at [1, 1] (nan)\n");
  EXPECT_THAT(run.out, HasSubstr("r_ratio_p95: R p95 = nan >= tau = 1.35"));
}

TEST(TeacherForcedCommandTest, OutputFileIsWhatTheReportPlots) {
  const std::string json = Dir() + "/tf.json";
  CommandRun run = TeacherForced({.dump = BuggyDump(), .output = json});
  EXPECT_EQ(run.code, kExitFailed);
  EXPECT_THAT(run.out, HasSubstr("FAIL: "));             // the table still goes to the output
  EXPECT_FALSE(LoadTeacherForcedResult(json).passed());  // the strict reader
  EXPECT_FALSE(std::filesystem::exists(json + ".tmp." + std::to_string(::getpid())));

  const std::string html = Dir() + "/report.html";
  std::ostringstream out, err;
  ASSERT_EQ(RunReport({.results = std::string(EQUIV_TEST_DATA_DIR) + "/report/results.json",
                       .teacher_forced = json,
                       .output = html},
                      out, err),
            kExitPassed)
      << err.str();
  const std::string page = testing_support::ReadText(html);
  for (const char* id : {"tf-r_ratio", "tf-cosine", "tf-kl"}) {
    EXPECT_THAT(page, HasSubstr(std::string("id=\"") + id + "\"")) << id;
  }

  run = TeacherForced({.dump = BuggyDump(), .output = Dir() + "/no/such/dir/tf.json"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_THAT(run.err, HasSubstr("/no/such/dir/tf.json: cannot write the teacher-forced result"));
}

}  // namespace
}  // namespace equiv::cli
