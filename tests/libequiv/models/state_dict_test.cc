#include "libequiv/models/state_dict.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "libequiv/families/llama/llama_family.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/safetensors.h"
#include "libequiv/models/regime.h"
#include "libequiv/precision/int8_weight.h"
#include "libequiv/precision/mxfp4.h"
#include "libequiv/tensor/error.h"
#include "tests/libequiv/ports/nxd/port_harness.h"
#include "tests/support/test_files.h"

namespace equiv {
namespace {

using ::equiv::testing::TinyConfig;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

std::string TempPath(const std::string& name) {
  return testing_support::TestDir() + "/equiv_state_dict_" + name;
}

double Stddev(const Tensor& t) {
  double sum = 0, sum2 = 0;
  for (float v : t.ToFloats()) {
    sum += v;
    sum2 += double(v) * v;
  }
  const double n = static_cast<double>(t.size());
  return std::sqrt(sum2 / n - (sum / n) * (sum / n));
}

TEST(StateDictTest, ExpectedParametersFollowTheHfNamesAndShapes) {
  const ModelConfig qwen = TinyConfig("tiny-qwen2");
  const auto specs = ArchitectureOf(qwen).Parameters(qwen);
  ASSERT_FALSE(specs.empty());
  EXPECT_EQ(specs.front().name, "model.embed_tokens.weight");
  EXPECT_EQ(specs.back().name, "model.norm.weight");  // tied: no lm_head.weight
  const auto find = [&](const std::string& name) {
    for (const auto& s : specs) {
      if (s.name == name) return s.shape;
    }
    return std::vector<int64_t>{};
  };
  EXPECT_EQ(find("model.layers.1.self_attn.k_proj.weight"), (std::vector<int64_t>{32, 128}));
  EXPECT_EQ(find("model.layers.1.self_attn.k_proj.bias"), (std::vector<int64_t>{32}));
  EXPECT_TRUE(find("model.layers.1.self_attn.o_proj.bias").empty());  // qwen2: no o bias
  EXPECT_EQ(find("model.layers.0.mlp.down_proj.weight"), (std::vector<int64_t>{128, 320}));
  EXPECT_EQ(
      ArchitectureOf(TinyConfig("tiny-llama")).Parameters(TinyConfig("tiny-llama")).back().name,
      "lm_head.weight");
}

TEST(StateDictTest, InitIsSeededPerParameterAtModuleScale) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict a = InitStateDict(config, 1);
  const StateDict b = InitStateDict(config, 1);
  const StateDict c = InitStateDict(config, 2);
  const std::string q = "model.layers.0.self_attn.q_proj.weight";
  EXPECT_EQ(a.at(q).ToFloats(), b.at(q).ToFloats());
  EXPECT_NE(a.at(q).ToFloats(), c.at(q).ToFloats());
  EXPECT_NEAR(Stddev(a.at(q)), 1.0 / std::sqrt(128.0), 0.01);
  EXPECT_NEAR(Stddev(a.at("model.embed_tokens.weight")), 1.0, 0.05);
  EXPECT_NEAR(Stddev(a.at("model.norm.weight")), 0.1, 0.05);
  EXPECT_NE(a.at("model.layers.0.mlp.up_proj.weight").ToFloats(),
            a.at("model.layers.0.mlp.gate_proj.weight").ToFloats());
}

TEST(StateDictTest, SaveAndLoadRoundTrip) {
  const ModelConfig config = TinyConfig("tiny-qwen2");
  const StateDict weights = InitStateDict(config, 3);
  const std::string path = TempPath("round_trip.safetensors");
  SaveStateDict(weights, path);
  const StateDict loaded = LoadStateDict(path, config);
  ASSERT_EQ(loaded.size(), weights.size());
  for (const auto& [name, tensor] : weights) {
    EXPECT_EQ(loaded.at(name).ToFloats(), tensor.ToFloats()) << name;
  }
  std::filesystem::remove(path);
}

TEST(StateDictTest, LoadNamesWhatIsWrong) {
  const ModelConfig config = TinyConfig("tiny-llama");
  StateDict weights = InitStateDict(config, 3);
  const std::string path = TempPath("bad.safetensors");

  StateDict missing = weights;
  missing.erase("model.layers.1.mlp.up_proj.weight");
  SaveStateDict(missing, path);
  EXPECT_THAT([&] { LoadStateDict(path, config); },
              ThrowsMessage<Error>(
                  HasSubstr("parameter model.layers.1.mlp.up_proj.weight [320, 128] is missing")));

  StateDict misshapen = weights;
  misshapen["model.norm.weight"] = Tensor(Shape({127}), DType::kF32);
  SaveStateDict(misshapen, path);
  EXPECT_THAT([&] { LoadStateDict(path, config); },
              ThrowsMessage<Error>(HasSubstr("parameter model.norm.weight has shape [127], the "
                                             "config needs [128]")));

  StateDict extra = weights;
  extra["model.layers.2.mlp.up_proj.weight"] = Tensor(Shape({2}), DType::kF32);
  SaveStateDict(extra, path);
  EXPECT_THAT(
      [&] { LoadStateDict(path, config); },
      ThrowsMessage<Error>(HasSubstr("unexpected tensor model.layers.2.mlp.up_proj.weight")));
  std::filesystem::remove(path);
}

// Raw float32 bytes of a tensor, for WriteSafetensorsRaw beside quantized tensors.
SafetensorsRawTensor RawF32(const Tensor& t) {
  const std::span<const float> f = t.f32();
  return {ElementType::kF32, t.shape(),
          std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(f.data()),
                                        f.size() * sizeof(float))};
}

TEST(StateDictTest, LoadsMxfp4AndInt8ParametersDequantized) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 3);
  const std::string q = "model.layers.0.self_attn.q_proj.weight";
  const std::string up = "model.layers.1.mlp.up_proj.weight";
  const Mxfp4Tensor q4 = QuantizeMxfp4(q, weights.at(q));
  const Int8Weight up8 = QuantizeInt8PerChannel(up, weights.at(up));
  std::vector<std::pair<std::string, SafetensorsRawTensor>> tensors;
  for (const auto& [name, tensor] : weights) {
    if (name != q) tensors.emplace_back(name, RawF32(tensor));
  }
  tensors.erase(
      std::find_if(tensors.begin(), tensors.end(), [&](const auto& t) { return t.first == up; }));
  tensors.emplace_back(q + "_blocks", q4.BlocksView());
  tensors.emplace_back(q + "_scales", q4.ScalesView());
  tensors.emplace_back(up, up8.ValuesView());
  tensors.emplace_back(up + "_scale", RawF32(up8.scales));
  const std::string path = TempPath("quantized.safetensors");
  WriteSafetensorsRaw(path, tensors);
  const StateDict loaded = LoadStateDict(path, config);
  EXPECT_EQ(loaded.at(q).ToFloats(),
            DequantizeMxfp4(q, q4.BlocksView(), q4.ScalesView()).ToFloats());
  EXPECT_EQ(loaded.at(up).ToFloats(), DequantizeInt8(up, up8.ValuesView(), up8.scales).ToFloats());
  EXPECT_EQ(loaded.at("model.norm.weight").ToFloats(), weights.at("model.norm.weight").ToFloats());

  // With `shipped`: the checkpoint's own bytes kept beside the dense weights, the float
  // parameters not; each dequantizes to the dense value, to the bit.
  PackedWeights shipped;
  const StateDict again =
      LoadStateDict(path, ArchitectureOf(config).Parameters(config), {}, &shipped);
  ASSERT_EQ(shipped.size(), 2u);
  const PackedWeight& q_packed = shipped.at(q);
  EXPECT_EQ(q_packed.format, WeightConversion::kMxfp4);
  EXPECT_FALSE(q_packed.experts);
  EXPECT_EQ(q_packed.mxfp4.blocks, q4.blocks);
  EXPECT_EQ(q_packed.mxfp4.scales, q4.scales);
  EXPECT_EQ(q_packed.mxfp4.blocks_shape, q4.blocks_shape);
  const PackedWeight& up_packed = shipped.at(up);
  EXPECT_EQ(up_packed.format, WeightConversion::kInt8PerChannel);
  ASSERT_EQ(up_packed.int8.size(), 1u);
  EXPECT_EQ(up_packed.int8[0].values, up8.values);
  EXPECT_EQ(up_packed.int8[0].scales.ToFloats(), up8.scales.ToFloats());
  EXPECT_EQ(DequantizePacked(q, q_packed).ToFloats(), again.at(q).ToFloats());
  EXPECT_EQ(DequantizePacked(up, up_packed).ToFloats(), again.at(up).ToFloats());

  // One block too few per row: the error names the parameter and the block count.
  Mxfp4Tensor short_rows = QuantizeMxfp4(q, Tensor(Shape{128, 96}, DType::kF32));
  tensors.erase(std::find_if(tensors.begin(), tensors.end(),
                             [&](const auto& t) { return t.first == q + "_blocks"; }));
  tensors.erase(std::find_if(tensors.begin(), tensors.end(),
                             [&](const auto& t) { return t.first == q + "_scales"; }));
  tensors.emplace_back(q + "_blocks", short_rows.BlocksView());
  tensors.emplace_back(q + "_scales", short_rows.ScalesView());
  WriteSafetensorsRaw(path, tensors);
  EXPECT_THAT([&] { LoadStateDict(path, config); },
              ThrowsMessage<Error>(AllOf(HasSubstr("parameter " + q),
                                         HasSubstr("holds 3 blocks of 32 per row"),
                                         HasSubstr("the config needs [128, 128]"))));
  std::filesystem::remove(path);
}

TEST(StateDictTest, TransposesMxfp4ExpertsAsHf) {
  // GPT-OSS: experts.gate_up_proj [E, in, out] ships as blocks [E, out, in / 32, 16].
  const std::vector<ParameterSpec> specs = {
      {"experts.gate_up_proj", {2, 64, 3}, ParameterInit::kLinear}};
  std::vector<float> x(2 * 3 * 64);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = kE2M1Values[i % 16];
  const Mxfp4Tensor packed =
      QuantizeMxfp4("experts.gate_up_proj", Tensor::FromFloats(Shape{2, 3, 64}, x));
  const std::string path = TempPath("experts.safetensors");
  WriteSafetensorsRaw(path, {{"experts.gate_up_proj_blocks", packed.BlocksView()},
                             {"experts.gate_up_proj_scales", packed.ScalesView()}});
  const StateDict loaded = LoadStateDict(path, specs);
  const Tensor& w = loaded.at("experts.gate_up_proj");
  ASSERT_EQ(w.shape(), (Shape{2, 64, 3}));
  for (int e = 0; e < 2; ++e) {
    for (int k = 0; k < 64; ++k) {
      for (int r = 0; r < 3; ++r) {
        ASSERT_EQ(w.Get((e * 64 + k) * 3 + r), x[static_cast<std::size_t>((e * 3 + r) * 64 + k)]);
      }
    }
  }
  WriteSafetensorsRaw(path, {{"experts.gate_up_proj_blocks", packed.BlocksView()}});
  EXPECT_THAT([&] { LoadStateDict(path, specs); },
              ThrowsMessage<Error>(HasSubstr("experts.gate_up_proj_scales is missing")));
  std::filesystem::remove(path);
}

TEST(StateDictTest, ReferenceWeightsTieTheHead) {
  const ModelConfig config = TinyConfig("tiny-qwen2");
  const nn::CausalLmWeights w = LlamaWeights(InitStateDict(config, 1), config, /*qk_norm=*/false);
  EXPECT_EQ(w.lm_head, w.embed_tokens);
  ASSERT_EQ(w.layers.size(), 2u);
  EXPECT_TRUE(w.layers[0].self_attn.q_proj.has_bias());
  EXPECT_FALSE(w.layers[0].self_attn.o_proj.has_bias());
}

}  // namespace
}  // namespace equiv
