// The JSON form of a teacher-forced result: a round trip keeps every field, the reader names
// the JSON path of what it refuses.
#include "libequiv/e2e/teacher_forced_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "libequiv/e2e/teacher_forcing.h"
#include "tests/libequiv/e2e/e2e_support.h"
#include "tests/support/error_of.h"
#include "tests/support/test_files.h"

namespace equiv {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing_support::ErrorOf;

const TeacherForcedResult& Failing() {
  static const TeacherForcedResult r = [] {
    const auto& m = testing_support::Tiny("tiny-llama");
    TeacherForcedResult r = RunTeacherForced(
        m.config, m.weights, BuiltinPortOn({.tp_degree = 2}, {"tokengen_rope_off_by_one"}),
        SeededPrompts(2, 6, m.config.vocab_size, 3), 4);
    r.model = "tiny-llama";
    return r;
  }();
  return r;
}

TEST(TeacherForcedJsonTest, RoundTripsEveryField) {
  const TeacherForcedResult& r = Failing();
  ASSERT_FALSE(r.passed());
  const json j = ToJson(r);
  EXPECT_EQ(j["schema"], "equiv.teacher_forced");
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["passed"], false);
  const TeacherForcedResult back = TeacherForcedResultFromJson(json::parse(j.dump()), "tf.json");
  EXPECT_EQ(ToJson(back), j);  // doubles are written with 17 digits: exact
  EXPECT_EQ(back.model, "tiny-llama");
  EXPECT_EQ(back.device, "tp2");
  EXPECT_EQ(back.faults, r.faults);
  EXPECT_EQ(back.failures.size(), r.failures.size());
  EXPECT_EQ(back.failures[0].message, r.failures[0].message);
  EXPECT_EQ(back.prompts[1].positions[3].kl, r.prompts[1].positions[3].kl);
  EXPECT_EQ(back.r_ratio.worst_prompt, r.r_ratio.worst_prompt);
}

// Positions after near-tied routing keep their mark; files written before it read as judged.
TEST(TeacherForcedJsonTest, RoutingTiesRoundTripAndDefaultToJudged) {
  TeacherForcedResult r = Failing();
  r.prompts[1].positions[3].routing_tie = true;
  json j = ToJson(r);
  EXPECT_EQ(j["prompts"][1]["positions"][3]["routing_tie"], true);
  const TeacherForcedResult back = TeacherForcedResultFromJson(json::parse(j.dump()), "tf.json");
  EXPECT_TRUE(back.prompts[1].positions[3].routing_tie);
  EXPECT_EQ(back.routing_tie_positions, 1);
  j["prompts"][1]["positions"][3].erase("routing_tie");
  EXPECT_FALSE(TeacherForcedResultFromJson(j, "old.json").prompts[1].positions[3].routing_tie);
}

TEST(TeacherForcedJsonTest, NonFiniteIsNull) {
  TeacherForcedResult r = Failing();
  r.prompts[0].positions[0].r_ratio = std::nan("");
  const json j = ToJson(r);
  EXPECT_TRUE(j["prompts"][0]["positions"][0]["r_ratio"].is_null());
  EXPECT_TRUE(std::isnan(TeacherForcedResultFromJson(j, "x").prompts[0].positions[0].r_ratio));
}

TEST(TeacherForcedJsonTest, NamesThePathOfWhatItRefuses) {
  const json good = ToJson(Failing());
  auto error = [&](auto edit) {
    json j = good;
    edit(j);
    return ErrorOf([&] { TeacherForcedResultFromJson(j, "tf.json"); });
  };
  EXPECT_EQ(error([](json& j) { j["prompts"][1]["positions"][3]["kl"] = "x"; }),
            "tf.json: prompts[1].positions[3].kl is a string, expected a number or null");
  EXPECT_EQ(error([](json& j) { j["kl"].erase("p95"); }), "tf.json: kl.p95 is missing");
  EXPECT_EQ(error([](json& j) { j["criteria"]["tau"] = nullptr; }),
            "tf.json: criteria.tau is null, expected a number");
  EXPECT_EQ(error([](json& j) { j["extra"] = 1; }),
            "tf.json: extra is not a field of the document");
  EXPECT_EQ(error([](json& j) { j["failures"][0]["condition"] = "speed"; }),
            "tf.json: failures[0].condition is \"speed\", expected one of r_ratio_p95, cosine_p5, "
            "kl_p95, top1_agreement, low_cosine_fraction, routing_ties");
  EXPECT_EQ(error([](json& j) { j["schema_version"] = 2; }),
            "tf.json: schema_version is 2, this library reads version 1");
  EXPECT_EQ(error([](json& j) { j["schema"] = "equiv.suite_results"; }),
            "tf.json: schema is \"equiv.suite_results\", expected \"equiv.teacher_forced\"");
  EXPECT_THAT(error([](json& j) { j["passed"] = true; }),
              HasSubstr("tf.json: passed is true but failures has "));
  EXPECT_EQ(error([](json& j) { j["prompts"][0]["teacher"][2] = -1.5; }),
            "tf.json: prompts[0].teacher[2] is -1.5, expected an integer");
}

TEST(TeacherForcedJsonTest, LoadsAFile) {
  const std::string path = testing_support::TestDir() + "/equiv_tf.json";
  std::ofstream(path) << ToJson(Failing()).dump(2);
  EXPECT_EQ(ToJson(LoadTeacherForcedResult(path)), ToJson(Failing()));
  std::ofstream(path) << "{\"schema\": ";
  EXPECT_THAT(ErrorOf([&] { LoadTeacherForcedResult(path); }),
              HasSubstr("equiv_tf.json: malformed JSON at byte "));
}

}  // namespace
}  // namespace equiv
