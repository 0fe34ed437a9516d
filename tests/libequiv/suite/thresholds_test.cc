#include "libequiv/suite/thresholds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/error_of.h"
#include "tests/support/test_files.h"

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

nlohmann::json Parse(const char* text) { return nlohmann::json::parse(text); }

constexpr const char* kTwoRegimes = R"({"version": 1, "tau": 1.27,
    "tau_by_component": {"mlp": 1.35}, "teacher_forced": {"tau": 1.45},
    "regimes": {"int8-weight": {"tau": 1.12, "tau_by_component": {"attention": 1.119},
                                "teacher_forced": {"tau": 1.26, "rho": 0.05},
                                "evidence": {"component_cases": 720}}},
    "rule": {"quantile": 0.99}})";

TEST(ThresholdsPerRegimeTest, EachRegimeReadsItsOwnSet) {
  const nlohmann::json file = Parse(kTwoRegimes);
  const Thresholds bf16 = ThresholdsFromJson(file, "t.json");
  EXPECT_EQ(bf16.tau, 1.27);
  EXPECT_EQ(bf16.For("mlp"), 1.35);
  const Thresholds int8 = ThresholdsFromJson(file, "t.json", Regime::kInt8Weight);
  EXPECT_EQ(int8.tau, 1.12);
  EXPECT_EQ(int8.For("attention"), 1.119);
  EXPECT_EQ(int8.For("mlp"), 1.12);  // bf16's mlp tau does not leak into int8-weight
  EXPECT_EQ(TeacherForcedCriteriaFromJson(file, "t.json").tau, 1.45);
  const TeacherForcedCriteria tf =
      TeacherForcedCriteriaFromJson(file, "t.json", Regime::kInt8Weight);
  EXPECT_EQ(tf.tau, 1.26);
  EXPECT_EQ(tf.rho, 0.05);
  EXPECT_EQ(tf.theta, TeacherForcedCriteria{}.theta);
  EXPECT_EQ(ThresholdsRegimes(file, "t.json"),
            (std::vector<Regime>{Regime::kBf16, Regime::kInt8Weight}));
}

TEST(ThresholdsPerRegimeTest, RoundTripOfOneFileOfSeveralRegimes) {
  const std::map<Regime, Thresholds> by_regime = {
      {Regime::kBf16, {.tau = 1.27, .tau_by_component = {{"mlp", 1.35}}}},
      {Regime::kInt8Weight, {.tau = 1.12, .tau_by_component = {}}},
      {Regime::kMxfp4Weight, {.tau = 1.13, .tau_by_component = {{"experts", 1.101}}}}};
  const nlohmann::json file = ToJson(by_regime);
  EXPECT_EQ(file["tau"], 1.27);  // bf16's at the top level: readers from before regimes
  EXPECT_TRUE(file["regimes"].contains("mxfp4-weight"));
  EXPECT_FALSE(file["regimes"].contains("bf16"));
  for (const auto& [regime, t] : by_regime) {
    EXPECT_EQ(ThresholdsFromJson(file, "again", regime), t) << RegimeName(regime);
  }
  const std::string path = testing_support::TestDir() + "/regimes.json";
  testing_support::WriteText(path, file.dump());
  EXPECT_EQ(LoadThresholds(path, Regime::kMxfp4Weight), by_regime.at(Regime::kMxfp4Weight));
  EXPECT_EQ(LoadTeacherForcedCriteria(path, Regime::kInt8Weight).tau, TeacherForcedCriteria{}.tau);
}

TEST(ThresholdsPerRegimeTest, AFileFromBeforeRegimesIsBf16s) {
  const nlohmann::json old = Parse(R"({"version": 1, "tau": 1.1, "teacher_forced": {"tau": 1.4}})");
  EXPECT_EQ(ThresholdsFromJson(old, "old.json").tau, 1.1);
  EXPECT_EQ(TeacherForcedCriteriaFromJson(old, "old.json").tau, 1.4);
  EXPECT_EQ(ThresholdsRegimes(old, "old.json"), std::vector<Regime>{Regime::kBf16});
  // Even an empty one: it judged bf16 by the defaults before, and still does.
  EXPECT_EQ(ThresholdsFromJson(Parse("{}"), "empty.json"), Thresholds{});
  EXPECT_EQ(ErrorOf([&] { ThresholdsFromJson(old, "old.json", Regime::kInt8Weight); }),
            "old.json has no thresholds for regime int8-weight (it has bf16): another regime's "
            "taus must not judge it; calibrate it (equiv calibrate --regime int8-weight) or leave "
            "the file out to judge by the defaults");
}

TEST(ThresholdsPerRegimeTest, AMissingRegimeIsRefusedNamingItAndTheFile) {
  const nlohmann::json file =
      Parse(R"({"version": 1, "regimes": {"mxfp4-weight": {"tau": 1.13}}})");
  EXPECT_EQ(ThresholdsRegimes(file, "t.json"), std::vector<Regime>{Regime::kMxfp4Weight});
  EXPECT_FALSE(HasThresholdsFor(file, "t.json", Regime::kBf16));
  EXPECT_THAT(ErrorOf([&] { ThresholdsFromJson(file, "t.json"); }),
              ::testing::StartsWith("t.json has no thresholds for regime bf16 (it has "
                                    "mxfp4-weight)"));
  EXPECT_THAT(ErrorOf([&] { TeacherForcedCriteriaFromJson(file, "t.json", Regime::kFp16); }),
              ::testing::StartsWith("t.json has no thresholds for regime fp16 (it has "
                                    "mxfp4-weight)"));
  EXPECT_THAT(ErrorOf([] { LoadThresholds("/nonexistent/t.json", Regime::kInt8Weight); }),
              HasSubstr("/nonexistent/t.json: cannot open"));
}

TEST(ThresholdsPerRegimeTest, ErrorsNameTheRegimeAndTheField) {
  const auto error = [](const char* text) {
    // Every set is checked, whichever regime is asked.
    return ErrorOf([&] { ThresholdsFromJson(nlohmann::json::parse(text), "t.json"); });
  };
  EXPECT_EQ(error(R"({"regimes": {"int9": {"tau": 1.1}}})"),
            "t.json: regimes.int9 is no regime (bf16, fp16, int8-weight, mxfp4-weight)");
  EXPECT_EQ(error(R"({"regimes": {"int8-weight": {"tau": 5}}})"),
            "t.json: regimes.int8-weight.tau = 5 is outside [1, 3]");
  EXPECT_EQ(error(R"({"regimes": {"int8-weight": {"tau_by_component": {"attn": 1.3}}}})"),
            "t.json: regimes.int8-weight.tau_by_component.attn names no component");
  EXPECT_EQ(error(R"({"regimes": {"int8-weight": {"teacher_forced": {"theta": 2}}}})"),
            "t.json: regimes.int8-weight.teacher_forced.theta = 2 is outside [-1, 1]");
  EXPECT_EQ(error(R"({"regimes": {"int8-weight": {"tua": 1.1}}})"),
            "t.json: regimes.int8-weight.tua is not a field of a regime's set (tau, "
            "tau_by_component, teacher_forced, evidence)");
  EXPECT_EQ(error(R"({"regimes": {"int8-weight": 1.1}})"),
            "t.json: regimes.int8-weight is a number, expected an object");
  EXPECT_EQ(error(R"({"regimes": []})"), "t.json: regimes is an array, expected an object");
  EXPECT_EQ(error(R"({"regimes": {"bf16": {"tau": 1.1}}})"),
            "t.json: regimes.bf16: bf16's set is the top level's tau, tau_by_component and "
            "teacher_forced");
  // The top level is checked even when the regime asked is another.
  EXPECT_EQ(ErrorOf([] {
              ThresholdsFromJson(nlohmann::json::parse(R"({"tau": 9, "regimes": {}})"), "t.json",
                                 Regime::kInt8Weight);
            }),
            "t.json: tau = 9 is outside [1, 3]");
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
