#include "libequiv/e2e/teacher_forced_dump.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "libequiv/e2e/logit_metrics.h"
#include "libequiv/e2e/teacher_forced_json.h"
#include "libequiv/e2e/teacher_forced_judge.h"
#include "tests/support/error_of.h"
#include "tests/support/logits_dump.h"

namespace equiv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_support::ErrorOf;
using testing_support::LogitsDump;

// What the built-in run computes from the same three matrices per prompt.
TeacherForcedResult BuiltIn(const LogitsDump& dump, std::size_t prompts,
                            const TeacherForcedCriteria& criteria) {
  TeacherForcedResult r;
  r.criteria = criteria;
  for (std::size_t k = 0; k < prompts; ++k) {
    const auto& m = dump.Logits(k);
    PromptResult p;
    p.positions = ComparePositions(m[0], m[1], m[2]);
    SummarizePrompt(p);
    r.prompts.push_back(std::move(p));
  }
  SummarizePooled(r, criteria.theta);
  r.failures = JudgeTeacherForced(r, criteria);
  return r;
}

TEST(TeacherForcedDumpTest, JudgesExactlyAsTheBuiltInRunInAnyBlockSize) {
  LogitsDump dump;
  dump.AddPrompt(7, 40).AddPrompt(5, 40, 1.2).AddPrompt(9, 40, 3.0);
  TeacherForcedResult expected = BuiltIn(dump, 3, {});
  expected.model = "dump";  // the file's stem: FromBytes' source "dump.safetensors"
  expected.device = "dump";
  for (const int64_t block : {int64_t{1}, int64_t{40}, int64_t{120}, kTeacherForcedBlockElements}) {
    const TeacherForcedDumpRun run = JudgeTeacherForcedDump(dump.File(), {}, block);
    EXPECT_EQ(ToJson(run.result), ToJson(expected)) << "block of " << block << " elements";
    EXPECT_EQ(run.vocab, 40);
    EXPECT_EQ(run.positions, 21);
    EXPECT_TRUE(run.warnings.empty());
  }
  const TeacherForcedDumpRun run = JudgeTeacherForcedDump(dump.File());
  EXPECT_NEAR(run.result.prompts[2].r_ratio.p95, 3.0, 1e-5);
  ASSERT_FALSE(run.result.passed());
  EXPECT_EQ(run.result.failures[0].condition, "r_ratio_p95");
}

TEST(TeacherForcedDumpTest, IdsMetadataAndABatchOfOne) {
  LogitsDump dump;
  dump.AddPrompt(4, 16, 1.0, {3, 1, 4, 1, 5}).AddPrompt(3, 16, 1.0, {9, 2, 6});
  for (const char* kind : {".ref_fp32", ".ref_bf16", ".target"}) {
    dump.Reshape(std::string("prompt_0") + kind, {1, 4, 16});
  }
  dump.Meta("model", "my-llama").Meta("device", "trn1-tp8").Meta("new_tokens", "2");
  dump.Meta("prompt_0.prompt_length", "3").Meta("producer", "anything else is ignored");
  const TeacherForcedResult r = JudgeTeacherForcedDump(dump.File()).result;
  EXPECT_EQ(r.model, "my-llama");
  EXPECT_EQ(r.device, "trn1-tp8");
  EXPECT_EQ(r.new_tokens, 2);
  EXPECT_THAT(r.prompts[0].teacher, ElementsAre(3, 1, 4, 1, 5));  // positions + 1 ids
  EXPECT_THAT(r.prompts[0].prompt, ElementsAre(3, 1, 4));
  EXPECT_THAT(r.prompts[1].teacher, ElementsAre(9, 2, 6));  // one id per position
  EXPECT_TRUE(r.prompts[1].prompt.empty());                 // no prompt_length: unknown
  EXPECT_EQ(r.prompts[0].positions.size(), 4u);
  EXPECT_TRUE(r.passed());
  // The strict reader takes what ToJson wrote.
  EXPECT_EQ(ToJson(TeacherForcedResultFromJson(ToJson(r), "tf.json")), ToJson(r));
}

TEST(TeacherForcedDumpTest, NonFiniteTargetLogitsAreJudgedAndNamed) {
  LogitsDump dump;
  dump.AddPrompt(4, 8, 2.0).SetFloat("prompt_0.target", 19, NAN);
  const TeacherForcedDumpRun run = JudgeTeacherForcedDump(dump.File());
  EXPECT_THAT(run.warnings, ElementsAre("prompt_0.target: 1 of 32 logits are NaN or infinite, "
                                        "the first at [2, 3] (nan)"));
  EXPECT_TRUE(std::isnan(run.result.r_ratio.p95));
  EXPECT_THAT(run.result.failures[0].message, HasSubstr("r_ratio_p95: R p95 = nan >= tau = 1.35"));
}

std::string Judged(const LogitsDump& dump) {
  return ErrorOf([&] { JudgeTeacherForcedDump(dump.File()); });
}

TEST(TeacherForcedDumpTest, MalformedDumpsNameTheTensor) {
  LogitsDump two;
  two.AddPrompt(5, 16).AddPrompt(5, 16);
  EXPECT_EQ(Judged(LogitsDump(two).Remove("prompt_1.ref_bf16")),
            "dump.safetensors: prompt_1.ref_bf16 missing: each prompt needs ref_fp32, ref_bf16 "
            "and target (the dump has prompt_1.ref_fp32, prompt_1.target)");
  EXPECT_EQ(Judged(LogitsDump(two)
                       .Remove("prompt_0.ref_fp32")
                       .Remove("prompt_0.ref_bf16")
                       .Remove("prompt_0.target")),
            "dump.safetensors: prompt_0 is missing: the dump has prompt_1 (prompts are numbered "
            "from 0 without gaps)");
  EXPECT_EQ(Judged(LogitsDump(two).Ids("logits", {1})),
            "dump.safetensors: tensor \"logits\" is not a teacher-forced tensor: expected "
            "prompt_K.ref_fp32, prompt_K.ref_bf16, prompt_K.target and optionally prompt_K.ids, "
            "for K = 0, 1, ...");
  EXPECT_THAT(Judged(LogitsDump(two).Ids("layers.0.mlp.target", {1})),
              HasSubstr("(component triples NAME.ref_fp32, ... are equiv compare's)"));
  EXPECT_THAT(Judged(LogitsDump(two).Ids("prompt_01.ids", {1})),
              HasSubstr("tensor \"prompt_01.ids\" is not a teacher-forced tensor"));
  EXPECT_THAT(Judged(LogitsDump(two).Ids("prompt_0.idz", {1})),
              HasSubstr("tensor \"prompt_0.idz\" is not a teacher-forced tensor"));
  EXPECT_EQ(Judged(LogitsDump()),
            "dump.safetensors: no prompts in this dump: expected "
            "prompt_K.ref_fp32, prompt_K.ref_bf16, prompt_K.target and "
            "optionally prompt_K.ids, for K = 0, 1, ...");
}

TEST(TeacherForcedDumpTest, WrongShapesAndVocabulariesNameTheTensor) {
  LogitsDump one;
  one.AddPrompt(6, 16);
  EXPECT_EQ(Judged(LogitsDump(one).Reshape("prompt_0.target", {2, 3, 16})),
            "dump.safetensors: tensor \"prompt_0.target\" has shape [2, 3, 16]: logits must be "
            "[positions, vocab] or [1, positions, vocab]");
  EXPECT_EQ(Judged(LogitsDump(one).Reshape("prompt_0.ref_bf16", {96})),
            "dump.safetensors: tensor \"prompt_0.ref_bf16\" has shape [96]: logits must be "
            "[positions, vocab] or [1, positions, vocab]");
  EXPECT_EQ(Judged(LogitsDump(one).Reshape("prompt_0.target", {12, 8})),
            "dump.safetensors: tensor \"prompt_0.target\" is [12, 8] but \"prompt_0.ref_fp32\" "
            "is [6, 16]: the three logits of a prompt must have the same [positions, vocab]");
  EXPECT_EQ(Judged(LogitsDump(one).Put("prompt_0.target", ElementType::kF32, {0, 16}, {})),
            "dump.safetensors: tensor \"prompt_0.target\" has shape [0, 16]: no logits (a prompt "
            "needs at least one position and a vocabulary)");
  EXPECT_EQ(Judged(LogitsDump(one).Put("prompt_0.target", ElementType::kI32, {6, 16},
                                       std::vector<uint8_t>(384))),
            "dump.safetensors: tensor \"prompt_0.target\" has dtype I32: logits must be F32, "
            "F16, BF16 or F64");
  LogitsDump vocabs;
  vocabs.AddPrompt(4, 16).AddPrompt(4, 17);
  EXPECT_EQ(Judged(vocabs),
            "dump.safetensors: tensor \"prompt_1.ref_fp32\" has a vocabulary of "
            "17 but \"prompt_0.ref_fp32\" has 16: every prompt's logits share one "
            "vocabulary");
}

TEST(TeacherForcedDumpTest, NonFiniteReferenceLogitsAreAnError) {
  LogitsDump dump;
  dump.AddPrompt(4, 8).SetFloat("prompt_0.ref_fp32", 11, NAN);
  EXPECT_EQ(Judged(dump),
            "dump.safetensors: tensor \"prompt_0.ref_fp32\": logit [1, 3] is nan: "
            "reference logits must be finite to judge the port (check the "
            "reference run)");
  LogitsDump inf;
  inf.AddPrompt(4, 8).SetFloat("prompt_0.ref_fp32", 0, -INFINITY);
  EXPECT_THAT(Judged(inf), HasSubstr("tensor \"prompt_0.ref_fp32\": logit [0, 0] is -inf"));
}

TEST(TeacherForcedDumpTest, BadIdsAndMetadataNameTheirKey) {
  LogitsDump one;
  one.AddPrompt(3, 16, 1.0, {1, 2, 3});
  EXPECT_EQ(Judged(LogitsDump(one).Ids("prompt_0.ids", {1, 2, 99})),
            "dump.safetensors: tensor \"prompt_0.ids\": ids[2] is 99, outside the vocabulary "
            "[0, 16)");
  EXPECT_THAT(Judged(LogitsDump(one).Ids("prompt_0.ids", {-1, 2, 3})),
              HasSubstr("ids[0] is -1, outside the vocabulary [0, 16)"));
  EXPECT_EQ(Judged(LogitsDump(one).Ids("prompt_0.ids", {1, 2, 3, 4, 5})),
            "dump.safetensors: tensor \"prompt_0.ids\" has shape [5]: the teacher ids must be [3] "
            "or [4] (one per position, or with the last token too; a leading batch of 1 is "
            "allowed)");
  EXPECT_EQ(
      Judged(LogitsDump(one).Put("prompt_0.ids", ElementType::kF32, {3}, std::vector<uint8_t>(12))),
      "dump.safetensors: tensor \"prompt_0.ids\" has dtype F32: ids must be I64 or I32");
  EXPECT_EQ(Judged(LogitsDump(one).Meta("new_tokens", "-3")),
            "dump.safetensors: metadata \"new_tokens\" is \"-3\", expected a non-negative decimal "
            "integer");
  EXPECT_EQ(Judged(LogitsDump(one).Meta("prompt_0.prompt_length", "4")),
            "dump.safetensors: metadata \"prompt_0.prompt_length\" is 4, outside [1, 3] (the "
            "length of prompt_0.ids)");
  EXPECT_EQ(Judged(LogitsDump(one).Meta("prompt_1.prompt_length", "1")),
            "dump.safetensors: metadata \"prompt_1.prompt_length\" names no prompt of this dump "
            "(it has prompt_0 .. prompt_0)");
  EXPECT_EQ(Judged(LogitsDump(one).Remove("prompt_0.ids").Meta("prompt_0.prompt_length", "2")),
            "dump.safetensors: metadata \"prompt_0.prompt_length\" needs the tensor prompt_0.ids "
            "(a prompt length is a count of teacher ids)");
}

}  // namespace
}  // namespace equiv
