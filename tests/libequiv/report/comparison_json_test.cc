#include "libequiv/report/comparison_json.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace equiv {
namespace {

TEST(ComparisonJsonTest, RatioResultHasEveryField) {
  const std::vector<float> ref = {1.0f, 2.0f, 3.0f, 4.0f};
  const std::vector<float> base = {1.0078125f, 2.0f, 3.0f, 4.0f};
  const std::vector<float> target = {1.0f, 2.0f, 3.0f, 4.5f};
  const Shape shape{2, 2};
  const nlohmann::json j = ToJson(
      CompareTriple({TensorView(ref, shape), TensorView(base, shape), TensorView(target, shape)}));
  EXPECT_EQ(j["schema"], "equiv.triple_comparison");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["outcome"], "ratio");
  EXPECT_EQ(j["passed"], false);
  EXPECT_DOUBLE_EQ(j["r_ratio"].get<double>(), 0.5 / 0.0078125);
  EXPECT_EQ(j["band"], "missing_algorithm");
  EXPECT_EQ(j["worst"]["index"], (std::vector<int>{1, 1}));
  EXPECT_EQ(j["worst"]["target"], 4.5);
  EXPECT_EQ(j["target_error"]["max_abs"], 0.5);
  EXPECT_EQ(j["nonfinite"]["target"]["first_index"], nullptr);
  EXPECT_EQ(j["ulp"], nullptr);
  EXPECT_EQ(j["shapes"]["target"], (std::vector<int>{2, 2}));
}

TEST(ComparisonJsonTest, UnjudgedRatioIsNullNotNaN) {
  const std::vector<float> v = {1.0f, 2.0f};
  const Shape shape{2};
  const nlohmann::json j =
      ToJson(CompareTriple({TensorView(v, shape), TensorView(v, shape), TensorView(v, shape)}));
  EXPECT_EQ(j["outcome"], "degenerate_baseline");
  EXPECT_EQ(j["r_ratio"], nullptr);
  EXPECT_EQ(j["band"], nullptr);
  EXPECT_EQ(j["ulp"]["max_ulps"], 0.0);
  EXPECT_EQ(nlohmann::json::parse(j.dump()), j) << "valid JSON, no NaN literal";
}

}  // namespace
}  // namespace equiv
