#include "libequiv/io/json_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/error_of.h"
#include "tests/support/test_files.h"

namespace equiv {
namespace {

using ::equiv::testing_support::ErrorOf;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::StartsWith;

std::string ParseError(const std::string& text, JsonReadOptions options = {}) {
  return ErrorOf([&] { ParseJson(text, "f.json", options); });
}

TEST(JsonReaderTest, ParsesWhatNlohmannParses) {
  const std::string text =
      R"({"a": [1, -2, 3.5, true, null, "x\u00e9"], "b": {"c": {}}, "d": [], "e": 18446744073709551615})";
  EXPECT_EQ(ParseJson(text, "f.json"), nlohmann::json::parse(text));
  EXPECT_EQ(ParseJson("  7 ", "f.json"), 7);
  EXPECT_EQ(ParseJson("[[[]]]", "f.json"), nlohmann::json::parse("[[[]]]"));
}

// Each duplicate key anywhere: refused with the container's path and the key's byte offset
// (nlohmann alone keeps the last value silently).
TEST(JsonReaderTest, DuplicateKeysAreRefusedWithPathAndOffset) {
  EXPECT_EQ(ParseError(R"({"a": 1, "a": 2})"),
            "f.json: the top level has the key \"a\" twice (at byte 9)");
  EXPECT_EQ(ParseError(R"({"m": [{"s": 1}, {"t": 1, "s": 2,  "s": 3}]})"),
            "f.json: m[1] has the key \"s\" twice (at byte 35)");
  EXPECT_EQ(ParseError(R"({"x y": {"k": 1.5e3, "k": 0}})"),
            "f.json: [\"x y\"] has the key \"k\" twice (at byte 21)");
  EXPECT_EQ(ParseError("{\"a\":{\"b\":{\"c\":[0,{\"d\":1,\n\"d\":1}]}}}"),
            "f.json: a.b.c[1] has the key \"d\" twice (at byte 26)");
  // Keys that differ only after an escape are different keys.
  EXPECT_EQ(ParseJson(R"({"a": 1, "\u0061b": 2})", "f.json").size(), 2u);
}

TEST(JsonReaderTest, SyntaxErrorsNameTheByteAndThePath) {
  EXPECT_THAT(ParseError(R"({"cases": [{"r": tru}]})"),
              AllOf(StartsWith("f.json: malformed JSON at byte 20: parse error"),
                    HasSubstr("(in cases[0].r)")));
  EXPECT_THAT(ParseError(""), StartsWith("f.json: malformed JSON at byte 0: "));
  EXPECT_THAT(ParseError("{} x"), StartsWith("f.json: malformed JSON at byte 3: "));
  EXPECT_THAT(ParseError("{\"a\": 1e400}"),
              StartsWith("f.json: malformed JSON at byte 10: number overflow parsing '1e400'"));
  // Invalid UTF-8 in the input never reaches the message.
  const std::string message = ParseError("{\"\xFF\": 1}");
  EXPECT_THAT(message, StartsWith("f.json: malformed JSON at byte 2: "));
  EXPECT_NO_THROW(static_cast<void>(nlohmann::json(message).dump()));
  // A NUL byte is refused, not taken for the end of the input (nlohmann ignores what follows).
  EXPECT_EQ(ParseError(std::string("{\"a\": 1}\0{", 10)),
            "f.json: malformed JSON at byte 8: a NUL byte, which JSON does not allow");
}

TEST(JsonReaderTest, DepthAndSizeAreCapped) {
  EXPECT_EQ(
      ParseError(std::string(100000, '[')),
      "f.json: JSON nested deeper than 64 levels at byte 64 (in " +
          [] {
            std::string path;
            for (int i = 0; i < 64; ++i) path += "[0]";
            return path;
          }() +
          ")");
  EXPECT_THAT(ParseError(R"({"a": {"b": [1]}})", {.max_depth = 2}),
              StartsWith("f.json: JSON nested deeper than 2 levels at byte 12 (in a.b)"));
  EXPECT_EQ(ParseError("[1, 2, 3]", {.max_bytes = 8}),
            "f.json: 9 bytes of JSON, more than the limit of 8");
  EXPECT_EQ(ParseJson("[1, 2, 3]", "f.json", {.max_bytes = 9}).size(), 3u);
}

TEST(JsonReaderTest, ReadJsonFileCapsTheFileAndNamesIt) {
  const std::string path = testing_support::TestDir() + "/big.json";
  std::ofstream(path) << "[" << std::string(100, ' ') << "]";
  EXPECT_EQ(ErrorOf([&] { ReadJsonFile(path, {.max_bytes = 50}); }),
            path + ": is 102 bytes, more than the limit of 50 bytes");
  EXPECT_EQ(ReadJsonFile(path).size(), 0u);
  std::filesystem::remove(path);
}

TEST(JsonReaderTest, PathOffsetsFindMembersAndElements) {
  const std::string text =
      R"({"schema": "x", "cases": [ {"name": "a"}, {"name": "b", "r": 1.5} ], "t": [7, 8]})";
  EXPECT_THAT(JsonPathOffset(text, "schema"), Optional(1u));
  EXPECT_THAT(JsonPathOffset(text, "cases"), Optional(16u));
  EXPECT_THAT(JsonPathOffset(text, "cases[0]"), Optional(27u));
  EXPECT_THAT(JsonPathOffset(text, "cases[1].r"), Optional(56u));
  EXPECT_THAT(JsonPathOffset(text, "t[1]"), Optional(78u));
  EXPECT_EQ(JsonPathOffset(text, "cases[2]"), std::nullopt);
  EXPECT_EQ(JsonPathOffset(text, "nothing"), std::nullopt);
  EXPECT_EQ(JsonPathOffset(text, "is a string"), std::nullopt);
  EXPECT_EQ(JsonPathOffset("[1, 2]", "[1]"), std::optional<std::size_t>(4));
}

TEST(JsonReaderTest, FieldErrorsOfReadersGetTheByteOffset) {
  const std::string text = R"({"a": 1, "b": {"c": "x"}})";
  const auto read = [](const nlohmann::json& doc, std::string_view origin) -> int {
    if (!doc["b"]["c"].is_number()) {
      throw Error(std::string(origin) + ": b.c is a string, expected a number");
    }
    return 0;
  };
  EXPECT_EQ(ErrorOf([&] { ParseJsonWith(text, "f.json", read); }),
            "f.json: b.c is a string, expected a number (at byte 15)");
  // Messages that name no path stay as they are.
  const auto other = [](const nlohmann::json&, std::string_view) -> int {
    throw Error("f.json: something else");
  };
  EXPECT_EQ(ErrorOf([&] { ParseJsonWith(text, "f.json", other); }), "f.json: something else");
}

TEST(JsonReaderTest, MemberPathsQuoteKeysThatAreNoIdentifiers) {
  EXPECT_EQ(JsonMemberPath("", "a"), "a");
  EXPECT_EQ(JsonMemberPath("a", "b_1"), "a.b_1");
  EXPECT_EQ(JsonMemberPath("a", "x.y"), "a[\"x.y\"]");
  EXPECT_EQ(JsonMemberPath("", "1st"), "[\"1st\"]");
}

}  // namespace
}  // namespace equiv
