// Seeded prompts and the prompts file: strict errors naming the file, index and value.
#include "libequiv/e2e/prompts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/libequiv/e2e/e2e_support.h"
#include "tests/support/error_of.h"
#include "tests/support/test_files.h"

namespace equiv {
namespace {

using ::testing::HasSubstr;
using testing_support::ErrorOf;

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = testing_support::TestDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(SeededPromptsTest, IsAPureFunctionOfItsArguments) {
  const std::vector<Prompt> a = SeededPrompts(4, 6, 256, 3);
  ASSERT_EQ(a.size(), 4u);
  for (const Prompt& p : a) {
    ASSERT_EQ(p.size(), 6u);
    for (int64_t id : p) EXPECT_TRUE(id >= 0 && id < 256);
  }
  EXPECT_EQ(a, SeededPrompts(4, 6, 256, 3));
  EXPECT_NE(a, SeededPrompts(4, 6, 256, 4));
  EXPECT_NE(a[0], a[1]);
  EXPECT_EQ(ErrorOf([] { SeededPrompts(1, 0, 256, 1); }),
            "SeededPrompts: count 1, length 0, vocab 256: expected count >= 0, length >= 1, "
            "vocab >= 1");
}

TEST(LoadPromptsTest, ReadsAndRoundTrips) {
  const std::string path = WriteFile("equiv_prompts_ok.json", R"({"prompts": [[1, 2, 3], [7]]})");
  const std::vector<Prompt> p = LoadPrompts(path);
  EXPECT_EQ(p, (std::vector<Prompt>{{1, 2, 3}, {7}}));
  EXPECT_EQ(PromptsFromJson(PromptsToJson(p), "x"), p);
}

TEST(LoadPromptsTest, NamesFileIndexAndValue) {
  auto error = [](const std::string& text) {
    const std::string path = WriteFile("equiv_prompts_bad.json", text);
    std::string e = ErrorOf([&] { LoadPrompts(path); });
    const std::size_t at = e.find("equiv_prompts_bad.json: ");
    return at == std::string::npos ? e : e.substr(at + 24);
  };
  EXPECT_EQ(error(R"({"prompts": [[1, 2], [3, -4]]})"),
            "prompts[1][1] is -4, expected a token id >= 0");
  EXPECT_EQ(error(R"({"prompts": [[1, 2.5]]})"), "prompts[0][1] is 2.5, expected an integer");
  EXPECT_EQ(error(R"({"prompts": [[1, "a"]]})"), "prompts[0][1] is a string, expected an integer");
  EXPECT_EQ(error(R"({"prompts": [[]]})"), "prompts[0] is empty, expected at least one token id");
  EXPECT_EQ(error(R"({"prompts": [3]})"), "prompts[0] is a number, expected an array of token ids");
  EXPECT_EQ(error(R"({"prompts": {}})"), "prompts is an object, expected an array");
  EXPECT_EQ(error(R"({"prompt": []})"), "prompt is not a field of the document");
  EXPECT_EQ(error(R"({})"), "prompts is missing");
  EXPECT_EQ(error(R"([1])"), "the document is an array, expected an object");
  EXPECT_THAT(error(R"({"prompts": [[1,)"), HasSubstr("malformed JSON at byte "));
  EXPECT_THAT(ErrorOf([] { LoadPrompts("/nonexistent/p.json"); }),
              HasSubstr("/nonexistent/p.json: cannot open"));
}

TEST(CheckPromptsTest, ChecksAgainstTheConfig) {
  const ModelConfig& c = testing_support::Tiny("tiny-llama").config;
  EXPECT_EQ(ErrorOf([&] {
              CheckPrompts({{1, 2}, {0, 255, 256}}, c, "p.json");
            }),
            "p.json: prompts[1][2] is 256, outside the vocabulary [0, 256)");
  EXPECT_EQ(ErrorOf([&] { CheckPrompts({{0, 255}}, c, "p.json", 254); }), "no error");
  EXPECT_EQ(ErrorOf([&] {
              CheckPrompts({{0, 255}}, c, "p.json", 255);
            }),
            "p.json: prompts[0] has 2 ids; with 255 new tokens that is 257 positions, beyond "
            "max_position_embeddings 256");
}

}  // namespace
}  // namespace equiv
