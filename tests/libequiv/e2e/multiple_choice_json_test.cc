// The JSON form of a multiple-choice result: a round trip keeps every field, the reader names
// the JSON path of what it refuses and recomputes the verdict to check it.
#include "libequiv/e2e/multiple_choice_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "tests/libequiv/e2e/e2e_support.h"
#include "tests/support/error_of.h"
#include "tests/support/test_files.h"

namespace equiv {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing_support::ErrorOf;

const MultipleChoiceResult& Failing() {
  static const MultipleChoiceResult r = [] {
    const auto& m = testing_support::Tiny("tiny-llama");
    MultipleChoiceSet set = GreedyMultipleChoice(m.config, m.weights, 20, 3);
    set.items[0].choices[1] = {7, 8, 9};  // a choice of its own length
    MultipleChoiceResult r = RunMultipleChoice(
        m.config, m.weights, BuiltinPortOn({.tp_degree = 2}, {"qkv_concat_order"}), set);
    r.model = "tiny-llama";
    return r;
  }();
  return r;
}

std::string ErrorFor(const json& j) {
  return ErrorOf([&] { MultipleChoiceResultFromJson(j, "mc.json"); });
}

TEST(MultipleChoiceJsonTest, RoundTripsEveryField) {
  const MultipleChoiceResult& r = Failing();
  ASSERT_FALSE(r.passed);
  const json j = ToJson(r);
  for (const char* key : {"schema", "schema_version", "model", "items", "device", "faults",
                          "decide_by", "tolerance_points", "passed", "message", "accuracy",
                          "reference_token_forwards", "port_token_forwards", "results"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["schema"], "equiv.multiple_choice");
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["items"], "GreedyMultipleChoice(seed 3)");
  EXPECT_EQ(j["decide_by"], "sum");
  EXPECT_EQ(j["accuracy"]["sum"]["items"], 20);
  EXPECT_EQ(j["results"][0]["choice_lengths"], json({1, 3, 1, 1}));
  const MultipleChoiceResult back = MultipleChoiceResultFromJson(json::parse(j.dump()), "mc.json");
  EXPECT_EQ(ToJson(back), j);  // doubles are written with 17 digits: exact
  EXPECT_EQ(back.message, r.message);
  EXPECT_EQ(back.results[0].port_loglik, r.results[0].port_loglik);
  EXPECT_EQ(back.faults, std::vector<std::string>{"qkv_concat_order"});
  EXPECT_EQ(back.port_token_forwards, r.port_token_forwards);
}

TEST(MultipleChoiceJsonTest, NonFiniteLogLikelihoodIsNull) {
  MultipleChoiceResult r = Failing();
  r.results[2].port_loglik[1] = std::nan("");
  JudgeMultipleChoice(r);
  const json j = ToJson(r);
  EXPECT_TRUE(j["results"][2]["port_loglik"][1].is_null());
  EXPECT_TRUE(std::isnan(MultipleChoiceResultFromJson(j, "mc.json").results[2].port_loglik[1]));
}

TEST(MultipleChoiceJsonTest, RefusesWhatItCannotTrust) {
  const json good = ToJson(Failing());
  json j = good;
  j["results"][2]["port_loglik"][1] = "x";
  EXPECT_EQ(ErrorFor(j),
            "mc.json: results[2].port_loglik[1] is a string, expected a number or null");
  j = good;
  j["extra"] = 1;
  EXPECT_EQ(ErrorFor(j), "mc.json: extra is not a field of the document");
  j = good;
  j["accuracy"]["sum"].erase("agree");
  EXPECT_EQ(ErrorFor(j), "mc.json: accuracy.sum.agree is missing");
  j = good;
  j["decide_by"] = "acc_norm";
  EXPECT_EQ(ErrorFor(j), "mc.json: decide_by is \"acc_norm\", expected \"sum\" or \"mean\"");
  j = good;
  j["schema_version"] = 2;
  EXPECT_EQ(ErrorFor(j), "mc.json: schema_version is 2, this library reads version 1");
  j = good;
  j["results"][1]["reference_loglik"].push_back(-1.0);
  EXPECT_EQ(ErrorFor(j),
            "mc.json: results[1].reference_loglik is 5 entries, expected 4, one per "
            "choice");
  j = good;
  j["passed"] = true;
  EXPECT_THAT(ErrorFor(j), HasSubstr("mc.json: passed is true, but the results give false ("
                                     "regression: reference accuracy "));
  j = good;
  j["results"][0]["port_choice_sum"] = (j["results"][0]["port_choice_sum"].get<int64_t>() + 1) % 4;
  EXPECT_THAT(ErrorFor(j), HasSubstr("mc.json: results[0].port_choice_sum is "));
  j = good;
  j["accuracy"]["mean"]["port_correct"] = 0;
  EXPECT_THAT(ErrorFor(j), HasSubstr("mc.json: accuracy.mean does not match the results"));
  j = good;
  j["message"] = "all good";
  EXPECT_THAT(ErrorFor(j), HasSubstr("mc.json: message is \"all good\", but the results give "));
  const std::string path = testing_support::TestDir() + "/equiv_mc.json";
  std::ofstream(path) << good.dump(2);
  EXPECT_EQ(LoadMultipleChoiceResult(path).message, Failing().message);
  EXPECT_THAT(ErrorOf([] { LoadMultipleChoiceResult("/nonexistent/mc.json"); }),
              HasSubstr("/nonexistent/mc.json: cannot open"));
}

}  // namespace
}  // namespace equiv
