// The greedy smoke test: a clean port matches, a broken one diverges early.
#include "libequiv/e2e/smoke_test.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>

#include "libequiv/io/number_format.h"
#include "tests/libequiv/e2e/e2e_support.h"
#include "tests/support/error_of.h"

namespace equiv {
namespace {

using nlohmann::json;
using testing_support::ErrorOf;
using testing_support::Tiny;

std::vector<Prompt> Prompts() { return SeededPrompts(3, 8, 256, 7); }

TEST(SmokeTest, CleanPortMatches) {
  const auto& m = Tiny("tiny-llama");
  const SmokeTestResult r =
      RunSmokeTest(m.config, m.weights, BuiltinPortOn({.tp_degree = 2}), Prompts(), 8);
  std::cout << "[ MEASURED ] clean tp2 match rate " << FormatFull(r.match_rate) << "\n";
  ASSERT_EQ(r.prompts.size(), 3u);
  EXPECT_EQ(r.threshold, 0.3);
  EXPECT_TRUE(r.passed);
  EXPECT_GE(r.match_rate, 0.9);
  for (const SmokePrompt& p : r.prompts) {
    EXPECT_EQ(p.reference.size(), 8u);
    EXPECT_EQ(p.port.size(), 8u);
  }
}

TEST(SmokeTest, BrokenPortDiverges) {
  const auto& m = Tiny("tiny-llama");
  const SmokeTestResult r = RunSmokeTest(
      m.config, m.weights, BuiltinPortOn({}, {"attention_scale_missing"}), Prompts(), 8);
  std::cout << "[ MEASURED ] attention_scale_missing match rate " << FormatFull(r.match_rate)
            << "\n";
  EXPECT_FALSE(r.passed);
  EXPECT_LT(r.match_rate, 0.3);
  for (const SmokePrompt& p : r.prompts) {
    ASSERT_TRUE(p.first_divergence.has_value());
    EXPECT_EQ(p.reference[*p.first_divergence] == p.port[*p.first_divergence], false);
  }
  // The threshold is the caller's: at 0 anything is alive.
  EXPECT_TRUE(RunSmokeTest(m.config, m.weights, BuiltinPortOn({}, {"attention_scale_missing"}),
                           Prompts(), 8, 0.0)
                  .passed);
}

TEST(SmokeTest, JsonRoundTripsAndIsChecked) {
  SmokeTestResult r;
  r.model = "m";
  r.device = "tp1";
  r.new_tokens = 4;
  r.prompts = {{.prompt = {1}, .reference = {1, 2, 3, 4}, .port = {1, 2, 9, 4}},
               {.prompt = {2}, .reference = {5, 6, 7, 8}, .port = {5, 6, 7, 8}}};
  const json j0 = ToJson(r);
  // Rates come from the tokens: a reader recomputes them.
  json j = j0;
  j["prompts"][0]["match_rate"] = 0.75;
  j["prompts"][0]["first_divergence"] = 2;
  j["prompts"][1]["match_rate"] = 1.0;
  j["match_rate"] = 0.875;
  j["passed"] = true;
  const SmokeTestResult back = SmokeTestResultFromJson(j, "s.json");
  EXPECT_EQ(back.prompts[0].first_divergence, 2);
  EXPECT_FALSE(back.prompts[1].first_divergence.has_value());
  EXPECT_EQ(back.match_rate, 0.875);
  EXPECT_TRUE(back.passed);
  EXPECT_EQ(ToJson(back), j);
  EXPECT_TRUE(ToJson(back)["prompts"][1]["first_divergence"].is_null());
  json bad = j;
  bad["prompts"][0]["first_divergence"] = 1;
  EXPECT_EQ(ErrorOf([&] { SmokeTestResultFromJson(bad, "s.json"); }),
            "s.json: prompts[0].first_divergence is 1, expected 2 as its tokens give");
  bad = j;
  bad["passed"] = false;
  EXPECT_EQ(ErrorOf([&] { SmokeTestResultFromJson(bad, "s.json"); }),
            "s.json: passed is false, expected true (match_rate 0.875 against threshold 0.3)");
  bad = j;
  bad["prompts"][1]["port"] = json::array({5});
  EXPECT_EQ(ErrorOf([&] { SmokeTestResultFromJson(bad, "s.json"); }),
            "s.json: prompts[1].port is 1 tokens, expected 4 as in reference");
}

TEST(SmokeTest, RejectsBadArguments) {
  const auto& m = Tiny("tiny-llama");
  EXPECT_EQ(ErrorOf([&] { RunSmokeTest(m.config, m.weights, BuiltinPortOn(), Prompts(), 0); }),
            "RunSmokeTest: new_tokens is 0, expected >= 1");
  EXPECT_EQ(ErrorOf([&] { RunSmokeTest(m.config, m.weights, BuiltinPortOn(), {{300}}, 2); }),
            "prompts: prompts[0][0] is 300, outside the vocabulary [0, 256)");
}

}  // namespace
}  // namespace equiv
