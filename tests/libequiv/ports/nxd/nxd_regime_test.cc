// The built-in port in a weight-only regime dequantizes the packed weights itself
// (NxdSteps::dequantize): correct, it computes the bits it computed on the suite's dense
// regime weights; it reads the packed form, not the dense weights beside it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "generators/input_generator.h"
#include "libequiv/families/registry.h"
#include "libequiv/models/regime.h"
#include "libequiv/tensor/error.h"
#include "tests/libequiv/ports/nxd/port_harness.h"

namespace equiv {
namespace {

using ::equiv::testing::MakeInput;
using ::equiv::testing::MakePort;
using ::equiv::testing::RandomIds;
using ::equiv::testing::RunComponent;
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

// The fp16 port computes in fp16: every value it gives is an fp16 value, and it passes
// against the fp16 baseline.
TEST(NxdFp16Test, ThePortComputesInFp16) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 3);
  const auto port = MakePort(config, weights, {.tp_degree = 2}, {}, nullptr, Regime::kFp16);
  const ComponentInput input = MakeInput(config, "decoder_layer", 16, 5);
  const auto out = RunComponent(config, weights, *port, "decoder_layer", 0, input, nullptr,
                                nn::Precision::kFp16);
  EXPECT_EQ(nn::Rounded(nn::Precision::kFp16, out.target), out.target);
  EXPECT_TRUE(out.comparison.passed) << out.comparison.message;
  const std::vector<int64_t> prompt = RandomIds(12, config.vocab_size, 9);
  const nn::Matrix logits = port->ContextEncoding(prompt);
  EXPECT_EQ(nn::Rounded(nn::Precision::kFp16, logits), logits);
  EXPECT_NE(MakePort(config, weights, {.tp_degree = 2})->ContextEncoding(prompt), logits);
}

// attention_fp16_overflow on the fp16 regime's own input (shared_direction): NaN in
// fp16, within tolerance in bf16, where exp of the raw scores stays far from float32's limit.
TEST(NxdFp16Test, TheOverflowFaultIsHarmlessInBf16) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 7);
  const ComponentInput input =
      MakeComponentInput(config, ComponentKindOf(config, "attention"),
                         {.kind = InputKind::kSharedDirection, .positions = 24, .seed = 11});
  const FaultSet fault{"attention_fp16_overflow"};
  const auto bf16 =
      RunComponent(config, weights, *MakePort(config, weights, {}, fault), "attention", 0, input);
  const auto clean =
      RunComponent(config, weights, *MakePort(config, weights), "attention", 0, input);
  std::printf("bf16: R = %.4g, clean R = %.4g\n", bf16.comparison.r_ratio,
              clean.comparison.r_ratio);
  RecordProperty("bf16_r_ratio", std::to_string(bf16.comparison.r_ratio));
  EXPECT_TRUE(bf16.comparison.passed) << bf16.comparison.message;
  // Within a few percent of the clean port's R: the exps held in bf16 add little.
  EXPECT_NEAR(bf16.comparison.r_ratio, clean.comparison.r_ratio, 0.1);
  const auto fp16 =
      RunComponent(config, weights, *MakePort(config, weights, {}, fault, nullptr, Regime::kFp16),
                   "attention", 0, input, nullptr, nn::Precision::kFp16);
  EXPECT_EQ(fp16.comparison.outcome, Outcome::kNonFiniteTarget) << fp16.comparison.message;
}

}  // namespace
}  // namespace equiv
