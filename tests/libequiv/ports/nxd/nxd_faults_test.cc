// Every catalog fault, the built-in port's and each family's, moves the component it lives in
// into the band the catalog records (or, for an end-to-end fault, only the token-generation
// graph), and the fault catalog's names are unique.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

#include "generators/input_generator.h"
#include "libequiv/families/registry.h"
#include "libequiv/models/fault.h"
#include "libequiv/tensor/error.h"
#include "tests/libequiv/ports/nxd/port_harness.h"

namespace equiv {
namespace {

using ::equiv::testing::MakeInput;
using ::equiv::testing::MakePort;
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
  const device::DeviceConfig device = ShowcaseDevice(info);
  // A regime's fault: the port dequantizes the packed weights, the baseline runs on the
  // regime's weights (every weight-only regime computes in bf16).
  const PackedWeights packed =
      RegimePackedWeights(info.regime, weights, ArchitectureOf(config).Parameters(config));
  const StateDict regime_weights = WithDequantized(weights, packed);
  const std::unique_ptr<Port> faulty =
      MakePort(config, regime_weights, device, {info.name}, &packed, info.regime);
  const std::unique_ptr<Port> clean =
      MakePort(config, regime_weights, device, {}, &packed, info.regime);
  const int64_t n = std::max<int64_t>(kSequence, info.min_sequence);
  // A fault that shows on one input kind only runs on it.
  const ComponentInput input =
      !info.showcase_input
          ? MakeInput(config, info.component, n, 11)
          : MakeComponentInput(config, ComponentKindOf(config, info.component),
                               {.kind = *info.showcase_input, .positions = n, .seed = 11}, device);
  const nn::Precision precision = RegimePrecision(info.regime);
  const auto bad =
      RunComponent(config, weights, *faulty, info.component, 0, input, &regime_weights, precision);
  const auto good =
      RunComponent(config, weights, *clean, info.component, 0, input, &regime_weights, precision);
  std::printf("%-30s %-24s R = %10.4g  clean R = %.4g\n", std::string(info.name).c_str(),
              std::string(info.component).c_str(), bad.comparison.r_ratio, good.comparison.r_ratio);
  RecordProperty("r_ratio", std::to_string(bad.comparison.r_ratio));
  EXPECT_TRUE(good.comparison.passed) << good.comparison.r_ratio;
  if (info.visible_in == Visibility::kEndToEnd) {
    // Green where it lives, red through the token-generation graph.
    EXPECT_TRUE(bad.comparison.passed) << bad.comparison.r_ratio;
    const std::unique_ptr<Port> port = MakePort(config, weights, device, {info.name});
    const TripleComparison e2e = ::equiv::testing::CompareGeneration(
        config, weights, *port, ::equiv::testing::RandomIds(32, config.vocab_size, 5), 16);
    std::printf("%-30s %-24s R = %10.4g  (token generation)\n", std::string(info.name).c_str(),
                "end to end", e2e.r_ratio);
    ASSERT_TRUE(e2e.band.has_value());
    EXPECT_EQ(*e2e.band, info.expected_band) << "R = " << e2e.r_ratio;
    return;
  }
  if (bad.comparison.outcome == Outcome::kNonFiniteTarget) {
    // No R: a NaN lands in wrong_computation (BandOf), as the detection matrix counts it.
    EXPECT_EQ(info.expected_band, Band::kWrongComputation) << bad.comparison.message;
    EXPECT_FALSE(bad.comparison.passed);
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

TEST(FaultCatalogTest, NamesAreUniqueAndEveryComponentIsInItsShowcaseFamily) {
  std::set<std::string_view> names;
  for (const FaultInfo& info : FaultCatalog()) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    const ModelConfig config = TinyConfig(std::string(info.showcase_config));
    EXPECT_NE(FindComponentKind(ArchitectureOf(config).Components(), info.component), nullptr)
        << info.name << " lives in " << info.component;
  }
}

TEST(FaultCatalogTest, AnUnknownFaultIsRefusedByThePort) {
  const ModelConfig config = TinyConfig("tiny-llama");
  EXPECT_THAT([&] { MakePort(config, InitStateDict(config, 1), {}, {"qk_norm_typo"}); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr(
                  "\"qk_norm_typo\" is no catalog fault of this model's port")));
}

}  // namespace
}  // namespace equiv
