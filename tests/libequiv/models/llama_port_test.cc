#include "libequiv/models/llama_port.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "libequiv/tensor/error.h"
#include "tests/libequiv/models/port_harness.h"

namespace equiv {
namespace {

using ::equiv::device::DeviceConfig;
using ::equiv::testing::MakeInput;
using ::equiv::testing::RandomIds;
using ::equiv::testing::RunComponent;
using ::equiv::testing::TinyConfig;
using ::testing::HasSubstr;

constexpr int64_t kPrompt = 20;

// The port's logits against the reference's over one prompt, through the context-encoding graph.
TripleComparison CompareLogits(const ModelConfig& config, const StateDict& weights,
                               const DeviceConfig& device, FaultSet faults = {}) {
  const std::vector<int64_t> ids = RandomIds(kPrompt, config.vocab_size, 3);
  const nn::Matrix fp32 = ReferenceModel(config, weights, nn::Precision::kFp32).Logits(ids);
  const nn::Matrix bf16 = ReferenceModel(config, weights, nn::Precision::kBf16).Logits(ids);
  LlamaPort port(config, weights, device, faults);
  const nn::Matrix target = AlignRows(port.ContextEncoding(ids), kPrompt);
  return CompareTriple({nn::View(fp32), nn::View(bf16), nn::View(target)});
}

class CleanPortTest : public ::testing::TestWithParam<DeviceConfig> {};

TEST_P(CleanPortTest, LogitsStayWithinTolerance) {
  for (const char* name : {"tiny-llama", "tiny-mistral", "tiny-qwen2"}) {
    const ModelConfig config = TinyConfig(name);
    if (config.num_attention_heads % GetParam().tp_degree != 0) continue;
    const StateDict weights = InitStateDict(config, 5);
    const TripleComparison result = CompareLogits(config, weights, GetParam());
    std::printf("%-14s %-28s logits R = %.4f\n", name, GetParam().Name().c_str(), result.r_ratio);
    EXPECT_LT(result.r_ratio, 1.2) << name << " " << GetParam().Name();
    EXPECT_TRUE(result.passed) << ::testing::PrintToString(result);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Variants, CleanPortTest,
    ::testing::Values(
        DeviceConfig{.tp_degree = 1}, DeviceConfig{.tp_degree = 2}, DeviceConfig{.tp_degree = 4},
        DeviceConfig{.tp_degree = 8},
        DeviceConfig{.tp_degree = 8, .collective_dtype = device::CollectiveDtype::kF32},
        DeviceConfig{.tp_degree = 2, .sequence_buckets = {16, 32, 64}},
        DeviceConfig{.tp_degree = 2, .fused_rmsnorm = true},
        DeviceConfig{.tp_degree = 4, .flash_attention_block = 8},
        DeviceConfig{.tp_degree = 2, .fused_qkv = false},
        DeviceConfig{
            .tp_degree = 4, .accumulation = device::Accumulation::kBf16PerKTile, .k_tile = 64}),
    [](const auto& info) {
      std::string name = info.param.Name();  // gtest names take [A-Za-z0-9_] only
      for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

// Component by component, the clean port passes at TP 1, 2 and 4. At TP 8 the tiny shapes leave
// 16 (o_proj) and 40 (down_proj) reduction elements per rank, and eight bf16 partials summed in
// bf16 in rank order put attention and MLP at R ~ 1.2 (mean over seeds): the legitimate TP
// rounding, bounded here, whose threshold calibration derives (docs/device.md).
TEST(LlamaPortTest, ComponentsOfTheCleanPortPassAtEveryTpDegree) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 9);
  for (int64_t tp : {1, 2, 4, 8}) {
    const LlamaPort port(config, weights, DeviceConfig{.tp_degree = tp});
    for (Component c : {Component::kEmbedding, Component::kInputNorm, Component::kQkvProj,
                        Component::kRotary, Component::kAttention, Component::kMlp,
                        Component::kDecoderLayer, Component::kFinalNorm, Component::kLmHead}) {
      const auto out = RunComponent(config, weights, port, c, 1, MakeInput(config, c, 16, 2));
      const bool tp_rounding = tp == 8 && (c == Component::kAttention || c == Component::kMlp);
      if (tp_rounding) {
        EXPECT_LT(out.comparison.r_ratio, 1.3) << "tp8 " << ComponentName(c);
      } else {
        EXPECT_TRUE(out.comparison.passed) << "tp" << tp << " " << ComponentName(c) << ": "
                                           << ::testing::PrintToString(out.comparison);
      }
    }
  }
}

TEST(LlamaPortTest, BucketPaddingKeepsStaticShapes) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 1);
  LlamaPort port(config, weights, DeviceConfig{.sequence_buckets = {32, 64}});
  EXPECT_EQ(port.BucketFor(20), 32);
  EXPECT_EQ(port.ContextEncoding(RandomIds(20, config.vocab_size, 1)).rows(), 32);
  EXPECT_EQ(port.cache_length(), 20);
  EXPECT_THAT([&] { port.BucketFor(65); },
              ::testing::ThrowsMessage<Error>(HasSubstr("65 positions exceed the largest "
                                                        "sequence bucket 64")));
}

// Token generation through the KV cache computes what one full forward pass computes.
TEST(LlamaPortTest, TokenGenerationMatchesTheReferenceAtEveryPosition) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 4);
  const std::vector<int64_t> ids = RandomIds(28, config.vocab_size, 8);
  for (FaultSet faults : {FaultSet{}, FaultSet{Fault::kTokenGenRopeOffByOne}}) {
    LlamaPort port(config, weights, DeviceConfig{.tp_degree = 2, .sequence_buckets = {32}}, faults);
    const TripleComparison result =
        ::equiv::testing::CompareGeneration(config, weights, port, ids, kPrompt);
    EXPECT_EQ(result.passed, faults.empty()) << ::testing::PrintToString(result);
    EXPECT_EQ(port.cache_length(), 28);
  }
}

// The token-generation fault lives where no component test looks.
TEST(LlamaPortTest, TokenGenerationFaultLeavesEveryComponentGreen) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 4);
  const LlamaPort port(config, weights, {}, {Fault::kTokenGenRopeOffByOne});
  for (int c = 0; c <= static_cast<int>(Component::kCausalLm); ++c) {
    const auto component = static_cast<Component>(c);
    const auto out =
        RunComponent(config, weights, port, component, 0, MakeInput(config, component, 16, 5));
    EXPECT_TRUE(out.comparison.passed)
        << ComponentName(component) << ": " << ::testing::PrintToString(out.comparison);
  }
}

TEST(LlamaPortTest, TokenGenerationNeedsAContext) {
  const ModelConfig config = TinyConfig("tiny-llama");
  LlamaPort port(config, InitStateDict(config, 1), {});
  EXPECT_THAT([&] { port.TokenGeneration(3); },
              ::testing::ThrowsMessage<Error>(HasSubstr("run ContextEncoding first")));
  EXPECT_THAT([&] { port.ContextEncoding({}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("the prompt is empty")));
}

TEST(LlamaPortTest, RejectsADeviceTheShapesForbid) {
  const ModelConfig config = TinyConfig("tiny-llama");
  EXPECT_THAT([&] { LlamaPort(config, InitStateDict(config, 1), DeviceConfig{.tp_degree = 3}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("tp_degree")));
}

TEST(LlamaPortTest, ModuleTreesNameTheExpectedModules) {
  const ModelConfig config = TinyConfig("tiny-qwen2");
  const ModuleNode reference = ReferenceModuleTree(config);
  const ModuleNode port = PortModuleTree(config, DeviceConfig{});
  const auto ref_paths = FlatPaths(reference);
  const auto port_paths = FlatPaths(port);
  EXPECT_THAT(ref_paths, ::testing::Contains("model.layers.1.self_attn.q_proj"));
  EXPECT_THAT(port_paths, ::testing::Contains("model.layers.1.self_attn.qkv_proj.Wqkv"));
  EXPECT_THAT(port_paths, ::testing::Contains("model.layers.0.self_attn.rotary_emb"));
  EXPECT_THAT(ref_paths, ::testing::Contains("model.rotary_emb"));
  const ModuleNode* wqkv = FindModule(port, "model.layers.0.self_attn.qkv_proj.Wqkv");
  ASSERT_NE(wqkv, nullptr);
  EXPECT_EQ(wqkv->class_name, "ColumnParallelLinear");
  ASSERT_EQ(wqkv->parameters.size(), 2u);  // qwen2: q/k/v bias
  EXPECT_EQ(wqkv->parameters[0].shape, (std::vector<int64_t>{192, 128}));
  EXPECT_THAT(PrettyTree(reference), HasSubstr("(q_proj): Linear  weight [128, 128]  bias [128]"));
  const auto unfused = FlatPaths(PortModuleTree(config, DeviceConfig{.fused_qkv = false}));
  EXPECT_THAT(unfused, ::testing::Contains("model.layers.0.self_attn.qkv_proj.k_proj"));
}

TEST(LlamaPortTest, RunRejectsABadLayer) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 1);
  const LlamaPort port(config, weights, {});
  EXPECT_THAT([&] { port.Run(Component::kMlp, 2, MakeInput(config, Component::kMlp, 4, 1)); },
              ::testing::ThrowsMessage<Error>(HasSubstr("port mlp: layer 2 is outside [0, 2)")));
}

}  // namespace
}  // namespace equiv
