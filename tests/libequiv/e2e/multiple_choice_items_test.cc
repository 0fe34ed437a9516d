// Multiple-choice items: the strict JSONL reader names file, line, field and value; the
// reference-built test set is a pure function of its arguments and matches the checked-in file.
#include "libequiv/e2e/multiple_choice_items.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "libequiv/e2e/greedy.h"
#include "libequiv/families/registry.h"
#include "tests/libequiv/e2e/e2e_support.h"
#include "tests/support/error_of.h"
#include "tests/support/test_files.h"

namespace equiv {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing_support::ErrorOf;
using testing_support::Tiny;

// The checked-in test set and the arguments that rebuild it.
constexpr char kTinyFile[] = EQUIV_TEST_DATA_DIR "/e2e/multiple_choice_tiny.jsonl";
constexpr int64_t kTinyCount = 100;
constexpr uint64_t kTinySeed = 1;

std::string ParseError(const std::string& text) {
  return ErrorOf([&] { ParseMultipleChoice(text, "mc.jsonl"); });
}

TEST(ParseMultipleChoiceTest, ReadsItemsAndTheirLines) {
  const MultipleChoiceSet set = ParseMultipleChoice(
      "{\"prompt\": [1, 2], \"choices\": [[3], [4, 5]], \"answer\": 1}\n"
      "\n"
      "{\"answer\": 0, \"choices\": [[6], [7], [8]], \"prompt\": [9]}\r\n",
      "mc.jsonl");
  EXPECT_EQ(set.origin, "mc.jsonl");
  ASSERT_EQ(set.items.size(), 2u);
  EXPECT_EQ(set.items[0].prompt, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(set.items[0].choices, (std::vector<std::vector<int64_t>>{{3}, {4, 5}}));
  EXPECT_EQ(set.items[0].answer, 1);
  EXPECT_EQ(set.items[0].line, 1);
  EXPECT_EQ(set.items[1].line, 3);  // the blank line counts
  EXPECT_EQ(set.items[1].choices.size(), 3u);
  const MultipleChoiceSet back = ParseMultipleChoice(MultipleChoiceToJsonl(set), "again");
  EXPECT_EQ(MultipleChoiceToJsonl(back), MultipleChoiceToJsonl(set));
  EXPECT_EQ(MultipleChoiceToJsonl(set).substr(0, 50),
            "{\"prompt\":[1,2],\"choices\":[[3],[4,5]],\"answer\":1}\n");
}

TEST(ParseMultipleChoiceTest, NamesLineFieldAndValue) {
  const std::string ok = R"({"prompt": [1], "choices": [[2], [3]], "answer": 0})";
  EXPECT_EQ(ParseError(ok + "\n" + R"({"prompt": [1], "choices": [[2], [3]], "answer": 2})"),
            "mc.jsonl: line 2: answer is 2, expected a choice index in [0, 2)");
  EXPECT_EQ(ParseError(R"({"prompt": [1], "choices": [[2], [3]], "answer": -1})"),
            "mc.jsonl: line 1: answer is -1, expected a choice index in [0, 2)");
  EXPECT_EQ(ParseError(R"({"prompt": [1], "choices": [[2]], "answer": 0})"),
            "mc.jsonl: line 1: choices is 1 choice, expected at least 2");
  EXPECT_EQ(ParseError(R"({"prompt": [1], "choices": [], "answer": 0})"),
            "mc.jsonl: line 1: choices is 0 choices, expected at least 2");
  EXPECT_EQ(ParseError(R"({"prompt": [1], "choices": [[2], []], "answer": 0})"),
            "mc.jsonl: line 1: choices[1] is empty, expected at least one token id");
  EXPECT_EQ(ParseError(R"({"prompt": [], "choices": [[2], [3]], "answer": 0})"),
            "mc.jsonl: line 1: prompt is empty, expected at least one token id");
  EXPECT_EQ(ParseError(R"({"prompt": [1, -7], "choices": [[2], [3]], "answer": 0})"),
            "mc.jsonl: line 1: prompt[1] is -7, expected a token id >= 0");
  EXPECT_EQ(ParseError(R"({"prompt": [1], "choices": [[2], [3, 2.5]], "answer": 0})"),
            "mc.jsonl: line 1: choices[1][1] is 2.5, expected an integer");
  EXPECT_EQ(ParseError(R"({"prompt": [1], "choices": [[2], 3], "answer": 0})"),
            "mc.jsonl: line 1: choices[1] is a number, expected an array of token ids");
  EXPECT_EQ(ParseError(R"({"prompt": [1], "choices": [[2], [3]], "answer": "0"})"),
            "mc.jsonl: line 1: answer is a string, expected an integer");
  EXPECT_EQ(ParseError(R"({"prompt": [1], "choices": [[2], [3]]})"),
            "mc.jsonl: line 1: answer is missing");
  EXPECT_EQ(ParseError(R"({"prompt": [1], "choices": [[2], [3]], "answer": 0, "id": 4})"),
            "mc.jsonl: line 1: id is not a field of the document");
  EXPECT_EQ(ParseError("[1, 2]"), "mc.jsonl: line 1: the document is an array, expected an object");
  EXPECT_THAT(ParseError(ok + "\n\n" + R"({"prompt": [1], "choices": [[2], )"),
              StartsWith("mc.jsonl: line 3: malformed JSON at byte 33: "));
  EXPECT_EQ(ParseError(""),
            "mc.jsonl: no items (the file is empty), expected one JSON object per line");
  EXPECT_EQ(ParseError("\n  \n"),
            "mc.jsonl: no items (every line is blank), expected one JSON object per line");
}

TEST(LoadMultipleChoiceTest, NamesTheFile) {
  const std::string path = testing_support::TestDir() + "/equiv_mc_bad.jsonl";
  std::ofstream(path) << R"({"prompt": [1], "choices": [[2], [3]], "answer": 5})"
                      << "\n";
  EXPECT_EQ(ErrorOf([&] { LoadMultipleChoice(path); }),
            path + ": line 1: answer is 5, expected a choice index in [0, 2)");
  EXPECT_THAT(ErrorOf([] { LoadMultipleChoice("/nonexistent/mc.jsonl"); }),
              HasSubstr("/nonexistent/mc.jsonl: cannot open"));
}

TEST(CheckMultipleChoiceTest, ChecksAgainstTheConfig) {
  const ModelConfig& c = Tiny("tiny-llama").config;  // vocab 256, 256 positions
  const MultipleChoiceSet from_file = ParseMultipleChoice(
      "{\"prompt\": [1], \"choices\": [[2], [3]], \"answer\": 0}\n"
      "{\"prompt\": [1], \"choices\": [[2], [3, 256]], \"answer\": 0}\n",
      "mc.jsonl");
  EXPECT_EQ(ErrorOf([&] { CheckMultipleChoice(from_file, c); }),
            "mc.jsonl: line 2: choices[1][1] is 256, outside the vocabulary [0, 256)");
  MultipleChoiceSet built{
      .origin = "built",
      .items = {{.prompt = std::vector<int64_t>(200, 1), .choices = {{1}, {2}}, .answer = 0}}};
  EXPECT_EQ(ErrorOf([&] { CheckMultipleChoice(built, c); }), "no error");
  built.items[0].choices[1] = std::vector<int64_t>(58, 2);  // 200 + 58 - 1 = 257 positions
  EXPECT_EQ(ErrorOf([&] { CheckMultipleChoice(built, c); }),
            "built: items[0]: prompt (200 ids) + choices[1] (58 ids) needs 257 positions, beyond "
            "max_position_embeddings 256");
  built.items[0].choices = {{1}, {}};
  EXPECT_EQ(ErrorOf([&] { CheckMultipleChoice(built, c); }),
            "built: items[0]: choices[1] is empty, expected at least one token id");
  built.items[0].choices = {{1}, {2}};
  built.items[0].answer = 2;
  EXPECT_EQ(ErrorOf([&] { CheckMultipleChoice(built, c); }),
            "built: items[0]: answer is 2, expected a choice index in [0, 2)");
  built.items[0].answer = 0;
  built.items[0].prompt = {-1};
  EXPECT_EQ(ErrorOf([&] { CheckMultipleChoice(built, c); }),
            "built: items[0]: prompt[0] is -1, outside the vocabulary [0, 256)");
  EXPECT_EQ(ErrorOf([&] { CheckMultipleChoice({.origin = "none", .items = {}}, c); }),
            "none: no items");
}

TEST(GreedyMultipleChoiceTest, AnswerIsTheReferenceGreedyContinuation) {
  const auto& m = Tiny("tiny-llama");
  const MultipleChoiceSet set =
      GreedyMultipleChoice(m.config, m.weights, 12, 5, {.prompt_length = 6, .choice_length = 3});
  EXPECT_EQ(set.origin, "GreedyMultipleChoice(seed 5)");
  ASSERT_EQ(set.items.size(), 12u);
  const std::unique_ptr<Reference> fp32 =
      ArchitectureOf(m.config).MakeReference(m.config, m.weights, nn::Precision::kFp32);
  std::set<int64_t> answers;
  for (const MultipleChoiceItem& item : set.items) {
    ASSERT_EQ(item.prompt.size(), 6u);
    ASSERT_EQ(item.choices.size(), 4u);
    EXPECT_EQ(item.choices[item.answer], ReferenceGreedy(*fp32, item.prompt, 3));
    const std::set<std::vector<int64_t>> distinct(item.choices.begin(), item.choices.end());
    EXPECT_EQ(distinct.size(), 4u);
    for (const auto& choice : item.choices) EXPECT_EQ(choice.size(), 3u);
    answers.insert(item.answer);
  }
  EXPECT_GT(answers.size(), 1u);  // the answer's index is drawn, not fixed
  EXPECT_EQ(MultipleChoiceToJsonl(set),
            MultipleChoiceToJsonl(GreedyMultipleChoice(m.config, m.weights, 12, 5,
                                                       {.prompt_length = 6, .choice_length = 3})));
  EXPECT_NE(MultipleChoiceToJsonl(set),
            MultipleChoiceToJsonl(GreedyMultipleChoice(m.config, m.weights, 12, 6,
                                                       {.prompt_length = 6, .choice_length = 3})));
  EXPECT_EQ(ErrorOf([&] { GreedyMultipleChoice(m.config, m.weights, 1, 5, {.choices = 1}); }),
            "GreedyMultipleChoice(seed 5): count 1, prompt_length 8, choice_length 1, choices 1: "
            "expected count, prompt_length, choice_length >= 1 and 2 <= choices <= vocab 256");
}

// The checked-in file is what GreedyMultipleChoice builds; on a mismatch (the reference's
// numerics changed) the test writes the new file and says how to take it.
TEST(GreedyMultipleChoiceTest, TinyFileIsReproducible) {
  const auto& m = Tiny("tiny-llama");
  const std::string expected =
      MultipleChoiceToJsonl(GreedyMultipleChoice(m.config, m.weights, kTinyCount, kTinySeed));
  std::ifstream in(kTinyFile, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str() != expected) {
    const std::string fresh = testing_support::TestDir() + "/multiple_choice_tiny.jsonl";
    std::ofstream(fresh, std::ios::binary) << expected;
    ADD_FAILURE() << kTinyFile << " differs from GreedyMultipleChoice(tiny-llama, " << kTinyCount
                  << ", seed " << kTinySeed << "); to take the new one: cp " << fresh << " "
                  << kTinyFile;
  }
  const MultipleChoiceSet set = LoadMultipleChoice(kTinyFile);
  EXPECT_EQ(set.items.size(), 100u);
  EXPECT_EQ(set.items[99].line, 100);
  EXPECT_EQ(ErrorOf([&] { CheckMultipleChoice(set, m.config); }), "no error");
}

}  // namespace
}  // namespace equiv
