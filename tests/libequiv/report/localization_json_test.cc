#include "libequiv/report/localization_json.h"

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
using json = nlohmann::json;

CaseResult Case(std::string name, std::string component, int64_t order, double r, Band band) {
  CaseResult c;
  c.name = name + "/normal";
  c.case_name = name;
  c.component = component;
  c.order = order;
  c.outcome = Outcome::kRatio;
  c.r_ratio = r;
  c.band = band;
  c.passed = BandPasses(band);
  c.source_paths = {"model." + name};
  c.target_paths = {"port." + name};
  return c;
}

Localization Sample() {
  return Localize({Case("embedding", "embedding", 0, 1.0, Band::kWithinTolerance),
                   Case("layers_0_qkv_proj", "qkv_proj", 1, 25, Band::kMissingAlgorithm),
                   Case("layers_0_attention", "attention", 2, 30, Band::kMissingAlgorithm)});
}

TEST(LocalizationJsonTest, RoundTrips) {
  const Localization in = Sample();
  ASSERT_TRUE(in.primary.has_value());
  const Localization out = LocalizationFromJson(ToJson(in), "loc.json");
  EXPECT_EQ(ToJson(out), ToJson(in));
  EXPECT_EQ(out.primary->name, "layers_0_qkv_proj/normal");
  EXPECT_EQ(out.suspects.size(), in.suspects.size());
  const Localization clean =
      Localize({Case("embedding", "embedding", 0, 1.0, Band::kWithinTolerance)});
  EXPECT_EQ(ToJson(LocalizationFromJson(ToJson(clean), "loc.json")), ToJson(clean));
}

TEST(LocalizationJsonTest, ErrorsNameTheField) {
  auto error_with = [](auto edit) {
    json j = ToJson(Sample());
    edit(j);
    return ErrorOf([&] { LocalizationFromJson(j, "loc.json"); });
  };
  EXPECT_EQ(error_with([](json& j) { j["schema"] = "equiv.other"; }),
            "loc.json: schema is \"equiv.other\", expected \"equiv.localization\"");
  EXPECT_EQ(error_with([](json& j) { j["version"] = 2; }),
            "loc.json: version is 2, this library reads version 1");
  EXPECT_EQ(error_with([](json& j) { j.erase("summary"); }), "loc.json: summary is missing");
  EXPECT_EQ(error_with([](json& j) { j["suspects"][0]["pattern"] = "stair"; }),
            "loc.json: suspects[0].pattern is \"stair\", expected one of spike, step");
  EXPECT_EQ(error_with([](json& j) { j["primary"]["layer"] = 1.5; }),
            "loc.json: primary.layer is a number, expected a 64-bit integer");
  EXPECT_EQ(error_with([](json& j) { j["suspects"][0]["cuase"] = 1; }),
            "loc.json: suspects[0].cuase is not a field of suspects[0]");
  EXPECT_THAT(error_with([](json& j) { j["primary"]["band"] = "bad"; }),
              HasSubstr("loc.json: primary.band is \"bad\", expected one of over_precision, "));
  EXPECT_EQ(error_with([](json& j) { j = json::array(); }),
            "loc.json: the document is an array, expected an object");
}

TEST(LoadLocalizationTest, ErrorsNameThePath) {
  const std::string dir = testing_support::TestDir();
  std::filesystem::create_directories(dir);
  EXPECT_THAT(ErrorOf([&] { LoadLocalization(dir + "/missing.json"); }),
              HasSubstr(dir + "/missing.json: cannot open: No such file or directory"));
  std::ofstream(dir + "/bad.json") << "{\"schema\": ";
  EXPECT_THAT(ErrorOf([&] { LoadLocalization(dir + "/bad.json"); }),
              HasSubstr(dir + "/bad.json: malformed JSON at byte "));
  std::ofstream(dir + "/good.json") << ToJson(Sample()).dump();
  EXPECT_EQ(LoadLocalization(dir + "/good.json").primary->name, "layers_0_qkv_proj/normal");
}

}  // namespace
}  // namespace equiv
