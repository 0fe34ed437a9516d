#include "libequiv/models/regime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "libequiv/families/registry.h"
#include "libequiv/precision/bf16.h"
#include "libequiv/precision/f16.h"
#include "libequiv/tensor/error.h"
#include "tests/libequiv/ports/nxd/port_harness.h"

namespace equiv {
namespace {

using ::equiv::testing::TinyConfig;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(RegimeTest, NamesRoundTripAndUnknownNamesListTheKnownOnes) {
  for (Regime r : {Regime::kBf16, Regime::kFp16, Regime::kInt8Weight, Regime::kMxfp4Weight}) {
    EXPECT_EQ(ParseRegime(RegimeName(r)), r);
  }
  EXPECT_EQ(RegimeName(Regime::kMxfp4Weight), "mxfp4-weight");
  EXPECT_THAT([] { ParseRegime("int8"); },
              ThrowsMessage<Error>(
                  HasSubstr("unknown precision regime \"int8\" (known: bf16, fp16, int8-weight, "
                            "mxfp4-weight)")));
}

TEST(RegimeTest, ActivationPrecisionAndWeightConversion) {
  EXPECT_EQ(RegimePrecision(Regime::kBf16), nn::Precision::kBf16);
  EXPECT_EQ(RegimePrecision(Regime::kFp16), nn::Precision::kFp16);
  EXPECT_EQ(RegimePrecision(Regime::kInt8Weight), nn::Precision::kBf16);
  EXPECT_EQ(RegimeWeightConversion(Regime::kMxfp4Weight), WeightConversion::kMxfp4);
  EXPECT_EQ(RegimeWeightConversion(Regime::kFp16), WeightConversion::kNone);
  // fp16 rounds as IEEE half: 1 + 2^-10 is kept, which bf16 would drop.
  EXPECT_EQ(nn::Round(nn::Precision::kFp16, 1.0f + 0x1p-10f), 1.0f + 0x1p-10f);
  EXPECT_EQ(nn::Round(nn::Precision::kFp16, 70000.0f), INFINITY);
  EXPECT_EQ(nn::PrecisionName(nn::Precision::kFp16), "fp16");
}

TEST(RegimeTest, WeightRegimesQuantizeOnlyTheDecoderLinears) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const std::vector<ParameterSpec> specs = ArchitectureOf(config).Parameters(config);
  const StateDict weights = InitStateDict(config, 1);
  EXPECT_EQ(RegimeWeights(Regime::kBf16, weights, specs).at("model.norm.weight").ToFloats(),
            weights.at("model.norm.weight").ToFloats());
  const std::string q = "model.layers.0.self_attn.q_proj.weight";
  for (Regime r : {Regime::kInt8Weight, Regime::kMxfp4Weight}) {
    const StateDict converted = RegimeWeights(r, weights, specs);
    EXPECT_NE(converted.at(q).ToFloats(), weights.at(q).ToFloats()) << RegimeName(r);
    for (const char* kept :
         {"lm_head.weight", "model.embed_tokens.weight", "model.layers.0.input_layernorm.weight"}) {
      EXPECT_EQ(converted.at(kept).ToFloats(), weights.at(kept).ToFloats()) << kept;
    }
    // A checkpoint that shipped quantized is used as it is.
    EXPECT_EQ(RegimeWeights(r, weights, specs, /*quantized_checkpoint=*/true).at(q).ToFloats(),
              weights.at(q).ToFloats());
  }
  // MXFP4 values have at most two significant bits: every converted weight is bf16-exact.
  for (float v : RegimeWeights(Regime::kMxfp4Weight, weights, specs).at(q).ToFloats()) {
    ASSERT_EQ(RoundToBf16(v), v);
  }
  // int8: at most 255 distinct values per row.
  const std::vector<float> row =
      RegimeWeights(Regime::kInt8Weight, weights, specs).at(q).ToFloats();
  EXPECT_LE(std::set<float>(row.begin(), row.begin() + 128).size(), 255u);
}

TEST(RegimeTest, Mxfp4NamesAParameterItCannotHold) {
  const std::vector<ParameterSpec> specs = {
      {"model.layers.0.mlp.down_proj.weight", {4, 40}, ParameterInit::kLinear}};
  StateDict weights;
  weights.emplace(specs[0].name, Tensor(Shape{4, 40}, DType::kF32));
  EXPECT_THAT([&] { RegimeWeights(Regime::kMxfp4Weight, weights, specs); },
              ThrowsMessage<Error>(AllOf(HasSubstr("'model.layers.0.mlp.down_proj.weight'"),
                                         HasSubstr("multiple of the block size 32"))));
}

}  // namespace
}  // namespace equiv
