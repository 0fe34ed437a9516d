#include "libequiv/suite/thresholds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::equiv::testing_support::ErrorOf;
using ::testing::HasSubstr;

TEST(ThresholdsTest, PerComponentTauOverridesTheGlobalOne) {
  const Thresholds t = ThresholdsFromJson(
      nlohmann::json::parse(
          R"({"version": 1, "tau": 1.1, "tau_by_component": {"attention": 1.3}})"),
      "t.json");
  EXPECT_EQ(t.For("attention"), 1.3);
  EXPECT_EQ(t.For("mlp"), 1.1);
  EXPECT_EQ(ThresholdsFromJson(ToJson(t), "again"), t);
}

TEST(ThresholdsTest, ErrorsNameTheField) {
  const auto error = [](const char* text) {
    return ErrorOf([&] { ThresholdsFromJson(nlohmann::json::parse(text), "t.json"); });
  };
  EXPECT_EQ(error(R"({"tau": 0.5})"), "t.json: tau = 0.5 is outside [1, 3]");
  EXPECT_EQ(error(R"({"tau": "1.2"})"), "t.json: tau is string, expected a number");
  EXPECT_EQ(error(R"({"tau_by_component": {"attn": 1.3}})"),
            "t.json: tau_by_component.attn names no component");
  EXPECT_EQ(error(R"({"version": 2})"), "t.json: version 2 is not 1");
  EXPECT_THAT(ErrorOf([] { LoadThresholds("/nonexistent/t.json"); }),
              HasSubstr("/nonexistent/t.json: cannot open"));
}

TEST(TeacherForcedCriteriaFromJsonTest, AbsentObjectOrFieldKeepsTheDefault) {
  const TeacherForcedCriteria defaults;
  const TeacherForcedCriteria none =
      TeacherForcedCriteriaFromJson(nlohmann::json::parse(R"({"tau": 1.1})"), "t.json");
  EXPECT_EQ(none.tau, defaults.tau);
  EXPECT_EQ(none.theta, defaults.theta);
  const TeacherForcedCriteria some = TeacherForcedCriteriaFromJson(
      nlohmann::json::parse(R"({"teacher_forced": {"theta": 0.999, "delta": 0.002}})"), "t.json");
  EXPECT_EQ(some.theta, 0.999);
  EXPECT_EQ(some.delta, 0.002);
  EXPECT_EQ(some.tau, defaults.tau);
  EXPECT_EQ(some.rho, defaults.rho);
}

TEST(TeacherForcedCriteriaFromJsonTest, ErrorsNameTheField) {
  const auto error = [](const char* text) {
    return ErrorOf([&] { TeacherForcedCriteriaFromJson(nlohmann::json::parse(text), "t.json"); });
  };
  EXPECT_EQ(error(R"({"teacher_forced": [1]})"),
            "t.json: teacher_forced is an array, expected an object");
  EXPECT_EQ(error(R"({"teacher_forced": {"theta": "0.9"}})"),
            "t.json: teacher_forced.theta is a string, expected a number");
  EXPECT_EQ(error(R"({"teacher_forced": {"tau": 0.5}})"),
            "t.json: teacher_forced.tau = 0.5 is outside [1, 3]");
  EXPECT_EQ(error(R"({"teacher_forced": {"delta": -1}})"),
            "t.json: teacher_forced.delta = -1 is outside [0, inf]");
  EXPECT_EQ(error(R"({"teacher_forced": {"rho": 2}})"),
            "t.json: teacher_forced.rho = 2 is outside [0, 1]");
  EXPECT_EQ(error(R"({"teacher_forced": {"thetta": 0.9}})"),
            "t.json: teacher_forced.thetta is not a criterion (tau, theta, delta, min_top1, rho)");
  EXPECT_EQ(error("[]"), "t.json: expected a JSON object");
}

}  // namespace
}  // namespace equiv
