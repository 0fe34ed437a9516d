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
  EXPECT_EQ(t.For(Component::kAttention), 1.3);
  EXPECT_EQ(t.For(Component::kMlp), 1.1);
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

}  // namespace
}  // namespace equiv
