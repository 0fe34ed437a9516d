// The built-in port in a weight-only regime dequantizes the packed weights itself
// (NxdSteps::dequantize): correct, it computes the bits it computed on the suite's dense
// regime weights; it reads the packed form, not the dense weights beside it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "libequiv/families/registry.h"
#include "libequiv/models/regime.h"
#include "libequiv/tensor/error.h"
#include "tests/libequiv/ports/nxd/port_harness.h"

namespace equiv {
namespace {

using ::equiv::testing::MakeInput;
using ::equiv::testing::MakePort;
using ::equiv::testing::RandomIds;
using ::equiv::testing::TinyConfig;

struct RegimeCase {
  const char* config;
  Regime regime;
  const char* component;  // one whose weights the regime packs
};

class NxdRegimeTest : public ::testing::TestWithParam<RegimeCase> {};

TEST_P(NxdRegimeTest, DequantizesThePackedWeightsToTheSameBits) {
  const RegimeCase& c = GetParam();
  const ModelConfig config = TinyConfig(c.config);
  const StateDict weights = InitStateDict(config, 3);
  const PackedWeights packed =
      RegimePackedWeights(c.regime, weights, ArchitectureOf(config).Parameters(config));
  ASSERT_FALSE(packed.empty());
  const StateDict regime_weights = WithDequantized(weights, packed);
  // The suite's dense regime weights, no packed form: what the port ran before it dequantized.
  const auto dense = MakePort(config, regime_weights);
  const auto own = MakePort(config, regime_weights, {}, {}, &packed);
  // Beside float weights: the packed form decides.
  const auto from_packed = MakePort(config, weights, {}, {}, &packed);
  const ComponentInput input = MakeInput(config, c.component, 16, 5);
  const nn::Matrix expected = dense->Run({.kind = c.component, .layer = 0}, input);
  EXPECT_EQ(own->Run({.kind = c.component, .layer = 0}, input), expected);
  EXPECT_EQ(from_packed->Run({.kind = c.component, .layer = 0}, input), expected);
  const std::vector<int64_t> prompt = RandomIds(12, config.vocab_size, 9);
  const nn::Matrix logits = dense->ContextEncoding(prompt);
  EXPECT_EQ(own->ContextEncoding(prompt), logits);
  EXPECT_EQ(from_packed->ContextEncoding(prompt), logits);
  // The float weights without the packed form are another model.
  EXPECT_NE(MakePort(config, weights)->ContextEncoding(prompt), logits);
}

INSTANTIATE_TEST_SUITE_P(
    Regimes, NxdRegimeTest,
    ::testing::Values(RegimeCase{"tiny-llama", Regime::kInt8Weight, "mlp"},
                      RegimeCase{"tiny-llama", Regime::kMxfp4Weight, "qkv_proj"},
                      RegimeCase{"tiny-gpt-oss", Regime::kMxfp4Weight, "experts"}),
    [](const auto& info) {
      std::string name =
          std::string(info.param.config) + "_" + std::string(RegimeName(info.param.regime));
      for (char& ch : name) {
        if (ch == '-') ch = '_';
      }
      return name;
    });

TEST(NxdRegimeTest, APackedParameterTheModelDoesNotHaveIsRefused) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 3);
  PackedWeights packed =
      RegimePackedWeights(Regime::kInt8Weight, weights, ArchitectureOf(config).Parameters(config));
  packed.emplace("model.layers.9.mlp.up_proj.weight", packed.begin()->second);
  EXPECT_THAT([&] { MakePort(config, weights, {}, {}, &packed); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr(
                  "packed parameter 'model.layers.9.mlp.up_proj.weight' is no parameter")));
}

}  // namespace
}  // namespace equiv
