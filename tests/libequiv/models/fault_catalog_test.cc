#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "libequiv/models/fault.h"
#include "tests/libequiv/models/port_harness.h"

namespace equiv {
namespace {

using ::equiv::testing::MakeInput;
using ::equiv::testing::RunComponent;
using ::equiv::testing::TinyConfig;

constexpr int64_t kSequence = 24;

class FaultCatalogTest : public ::testing::TestWithParam<FaultInfo> {};

// The component a fault lives in leaves the within-tolerance band on its showcase config and
// lands in the band the catalog records; an end-to-end fault leaves its component green and
// lands there in the token-generation comparison.
TEST_P(FaultCatalogTest, MovesItsComponentIntoItsBand) {
  const FaultInfo& info = GetParam();
  const ModelConfig config = TinyConfig(std::string(info.showcase_config));
  const StateDict weights = InitStateDict(config, 7);
  const LlamaPort faulty(config, weights, {}, {info.fault});
  const LlamaPort clean(config, weights, {});
  const int64_t n = std::max<int64_t>(kSequence, info.min_sequence);
  const ComponentInput input = MakeInput(config, info.component, n, 11);
  const auto bad = RunComponent(config, weights, faulty, info.component, 0, input);
  const auto good = RunComponent(config, weights, clean, info.component, 0, input);
  std::printf("%-30s %-24s R = %10.4g  clean R = %.4g\n", std::string(info.name).c_str(),
              std::string(ComponentName(info.component)).c_str(), bad.comparison.r_ratio,
              good.comparison.r_ratio);
  RecordProperty("r_ratio", std::to_string(bad.comparison.r_ratio));
  EXPECT_TRUE(good.comparison.passed) << good.comparison.r_ratio;
  if (info.visible_in == Visibility::kEndToEnd) {
    // Green where it lives, red through the token-generation graph.
    EXPECT_TRUE(bad.comparison.passed) << bad.comparison.r_ratio;
    LlamaPort port(config, weights, {}, {info.fault});
    const TripleComparison e2e = ::equiv::testing::CompareGeneration(
        config, weights, port, ::equiv::testing::RandomIds(32, config.vocab_size, 5), 16);
    std::printf("%-30s %-24s R = %10.4g  (token generation)\n", std::string(info.name).c_str(),
                "end to end", e2e.r_ratio);
    ASSERT_TRUE(e2e.band.has_value());
    EXPECT_EQ(*e2e.band, info.expected_band) << "R = " << e2e.r_ratio;
    return;
  }
  ASSERT_TRUE(bad.comparison.band.has_value());
  EXPECT_EQ(*bad.comparison.band, info.expected_band) << "R = " << bad.comparison.r_ratio;
  if (info.expected_band == Band::kOverPrecision) {
    EXPECT_LT(bad.comparison.r_ratio, 1.0);
  } else {
    EXPECT_GE(bad.comparison.r_ratio, 1.2);
    EXPECT_FALSE(bad.comparison.passed);
  }
}

INSTANTIATE_TEST_SUITE_P(Catalog, FaultCatalogTest, ::testing::ValuesIn(FaultCatalog()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace equiv
