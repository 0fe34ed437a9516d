#include "libequiv/models/regime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <utility>
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

// The packed form holds what the regime converts, and dequantizes to RegimeWeights' values.
TEST(RegimeTest, PackedWeightsDequantizeToTheRegimeWeights) {
  for (const auto& [name, regime] :
       {std::pair{"tiny-llama", Regime::kInt8Weight}, std::pair{"tiny-llama", Regime::kMxfp4Weight},
        std::pair{"tiny-gpt-oss", Regime::kMxfp4Weight}}) {
    const ModelConfig config = TinyConfig(name);
    const std::vector<ParameterSpec> specs = ArchitectureOf(config).Parameters(config);
    const StateDict weights = InitStateDict(config, 2);
    const PackedWeights packed = RegimePackedWeights(regime, weights, specs);
    const StateDict dense = RegimeWeights(regime, weights, specs);
    for (const ParameterSpec& spec : specs) {
      // GPT-OSS ships MXFP4 experts; its attention stays in float.
      const bool expected = IsQuantizedParameter(spec) &&
                            (std::string(name) == "tiny-llama" || spec.shape.size() == 3);
      ASSERT_EQ(packed.contains(spec.name), expected) << name << " " << spec.name;
      if (!expected) {
        EXPECT_EQ(dense.at(spec.name).ToFloats(), weights.at(spec.name).ToFloats()) << spec.name;
        continue;
      }
      EXPECT_EQ(DequantizePacked(spec.name, packed.at(spec.name)).ToFloats(),
                dense.at(spec.name).ToFloats())
          << name << " " << spec.name;
    }
  }
  const ModelConfig llama = TinyConfig("tiny-llama");
  EXPECT_TRUE(RegimePackedWeights(Regime::kBf16, InitStateDict(llama, 2),
                                  ArchitectureOf(llama).Parameters(llama))
                  .empty());
}

// The layouts the fault catalog reads with, on one row of two MXFP4 blocks and a 2x3 int8
// weight.
TEST(RegimeTest, PackedLayoutsReadTheBytesAsTheirFaultsSay) {
  PackedWeight mx;
  mx.format = WeightConversion::kMxfp4;
  mx.mxfp4.blocks_shape = Shape{1, 2, 16};
  mx.mxfp4.blocks.assign(32, 0);
  mx.mxfp4.blocks[0] = 0x72;   // values 0, 1: E2M1 1.0 (low nibble), then 6.0
  mx.mxfp4.blocks[16] = 0x02;  // block 1, value 0: 1.0
  mx.mxfp4.scales_shape = Shape{1, 2};
  mx.mxfp4.scales = {127, 129};  // 2^0, 2^2
  const auto at = [](const Tensor& t, int i) { return t.ToFloats()[static_cast<size_t>(i)]; };
  const Tensor good = DequantizePacked("w", mx);
  EXPECT_EQ(at(good, 0), 1.0f);
  EXPECT_EQ(at(good, 1), 6.0f);
  EXPECT_EQ(at(good, 32), 4.0f);
  const Tensor bias = DequantizePacked("w", mx, {.mxfp4 = {.scale_bias = 128}});
  EXPECT_EQ(at(bias, 0), 0.5f);
  EXPECT_EQ(at(bias, 32), 2.0f);
  const Tensor shifted = DequantizePacked("w", mx, {.mxfp4_scale_shift = 1});
  EXPECT_EQ(at(shifted, 0), 4.0f);   // block 0 with block 1's scale
  EXPECT_EQ(at(shifted, 32), 1.0f);  // block 1 wraps to block 0's
  const Tensor swapped = DequantizePacked("w", mx, {.mxfp4 = {.low_nibble_first = false}});
  EXPECT_EQ(at(swapped, 0), 6.0f);
  EXPECT_EQ(at(swapped, 1), 1.0f);

  PackedWeight q;
  q.format = WeightConversion::kInt8PerChannel;
  Int8Weight w;
  w.shape = Shape{2, 3};
  w.values = {1, 2, 3, 4, 5, 6};
  w.scales = Tensor::FromFloats(Shape{2}, std::vector<float>{0.5f, 2.0f});
  q.int8.push_back(w);
  EXPECT_EQ(DequantizePacked("w", q).ToFloats(),
            (std::vector<float>{0.5f, 1.0f, 1.5f, 8.0f, 10.0f, 12.0f}));
  // Per input channel: column i reads scale[i % 2].
  EXPECT_EQ(DequantizePacked("w", q, {.int8_axis = Int8ScaleAxis::kPerInputChannel}).ToFloats(),
            (std::vector<float>{0.5f, 4.0f, 1.5f, 2.0f, 10.0f, 3.0f}));
  EXPECT_THAT([] { DequantizePacked("w", PackedWeight{}); },
              ThrowsMessage<Error>(HasSubstr("packed weight 'w' holds no quantized values")));
}

}  // namespace
}  // namespace equiv
