// The built-in port through the Port interface: numerics against the reference at every
// device variant, both graphs, static shapes, and its module tree.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "libequiv/families/registry.h"
#include "libequiv/models/port.h"
#include "libequiv/tensor/error.h"
#include "tests/libequiv/ports/nxd/port_harness.h"

namespace equiv {
namespace {

using ::equiv::device::DeviceConfig;
using ::equiv::testing::MakeInput;
using ::equiv::testing::MakePort;
using ::equiv::testing::RandomIds;
using ::equiv::testing::ReferenceLogits;
using ::equiv::testing::RunComponent;
using ::equiv::testing::TinyConfig;
using ::testing::HasSubstr;

constexpr int64_t kPrompt = 20;

// The port's logits against the reference's over one prompt, through the context-encoding graph.
TripleComparison CompareLogits(const ModelConfig& config, const StateDict& weights,
                               const DeviceConfig& device, FaultSet faults = {}) {
  const std::vector<int64_t> ids = RandomIds(kPrompt, config.vocab_size, 3);
  const nn::Matrix fp32 = ReferenceLogits(config, weights, nn::Precision::kFp32, ids);
  const nn::Matrix bf16 = ReferenceLogits(config, weights, nn::Precision::kBf16, ids);
  const std::unique_ptr<Port> port = MakePort(config, weights, device, faults);
  const nn::Matrix target = AlignRows(port->ContextEncoding(ids), kPrompt);
  return CompareTriple({nn::View(fp32), nn::View(bf16), nn::View(target)});
}

class CleanPortTest : public ::testing::TestWithParam<DeviceConfig> {};

TEST_P(CleanPortTest, LogitsStayWithinTolerance) {
  for (const char* name :
       {"tiny-llama", "tiny-mistral", "tiny-qwen2", "tiny-qwen3", "tiny-gemma2", "tiny-gemma3"}) {
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
TEST(NxdPortTest, ComponentsOfTheCleanPortPassAtEveryTpDegree) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 9);
  for (int64_t tp : {1, 2, 4, 8}) {
    const std::unique_ptr<Port> port = MakePort(config, weights, DeviceConfig{.tp_degree = tp});
    for (const std::string_view c :
         {"embedding", "input_layernorm", "qkv_proj", "rotary", "attention", "mlp", "decoder_layer",
          "final_norm", "lm_head"}) {
      const auto out = RunComponent(config, weights, *port, c, 1, MakeInput(config, c, 16, 2));
      const bool tp_rounding = tp == 8 && (c == "attention" || c == "mlp");
      if (tp_rounding) {
        EXPECT_LT(out.comparison.r_ratio, 1.3) << "tp8 " << c;
      } else {
        EXPECT_TRUE(out.comparison.passed)
            << "tp" << tp << " " << c << ": " << ::testing::PrintToString(out.comparison);
      }
    }
  }
}

TEST(NxdPortTest, BucketPaddingKeepsStaticShapes) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 1);
  const std::unique_ptr<Port> port =
      MakePort(config, weights, DeviceConfig{.sequence_buckets = {32, 64}});
  EXPECT_EQ(port->ContextEncoding(RandomIds(20, config.vocab_size, 1)).rows(), 32);
  EXPECT_EQ(port->ContextEncoding(RandomIds(33, config.vocab_size, 1)).rows(), 64);
  EXPECT_EQ(port->Run({.kind = "mlp", .layer = 0}, MakeInput(config, "mlp", 5, 1)).rows(), 32);
  EXPECT_THAT([&] { port->ContextEncoding(RandomIds(65, config.vocab_size, 1)); },
              ::testing::ThrowsMessage<Error>(HasSubstr("65 positions exceed the largest "
                                                        "sequence bucket 64")));
}

// Positions that are not 0 .. n-1 (a dump's, runs with gaps wider than the window) move rotary
// only: the port masks by row index as HF and the reference do, so its attention and decoder
// layer still pass, with the window and with bucket padding after the real rows.
TEST(NxdPortTest, MasksFollowRowsNotPositions) {
  const ModelConfig config = TinyConfig("tiny-mistral");  // sliding_window 16
  const StateDict weights = InitStateDict(config, 4);
  const std::unique_ptr<Port> port =
      MakePort(config, weights, DeviceConfig{.tp_degree = 2, .sequence_buckets = {32}});
  for (const std::string_view c : {"attention", "decoder_layer"}) {
    ComponentInput input = MakeInput(config, c, 24, 6);
    for (int64_t i = 0; i < 24; ++i) input.positions[i] = i + 20 * (i / 6);  // 0..5, 26..31, ..
    const auto out = RunComponent(config, weights, *port, c, 0, input);
    EXPECT_TRUE(out.comparison.passed) << c << ": " << ::testing::PrintToString(out.comparison);
  }
}

// Token generation through the KV cache computes what one full forward pass computes.
TEST(NxdPortTest, TokenGenerationMatchesTheReferenceAtEveryPosition) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 4);
  const std::vector<int64_t> ids = RandomIds(28, config.vocab_size, 8);
  for (FaultSet faults : {FaultSet{}, FaultSet{"tokengen_rope_off_by_one"}}) {
    const std::unique_ptr<Port> port =
        MakePort(config, weights, DeviceConfig{.tp_degree = 2, .sequence_buckets = {32}}, faults);
    const TripleComparison result =
        ::equiv::testing::CompareGeneration(config, weights, *port, ids, kPrompt);
    EXPECT_EQ(result.passed, faults.empty()) << ::testing::PrintToString(result);
  }
}

// The token-generation fault lives where no component test looks.
TEST(NxdPortTest, TokenGenerationFaultLeavesEveryComponentGreen) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 4);
  const std::unique_ptr<Port> port = MakePort(config, weights, {}, {"tokengen_rope_off_by_one"});
  for (const ComponentKind& kind : ArchitectureOf(config).Components()) {
    const auto out =
        RunComponent(config, weights, *port, kind.name, 0, MakeInput(config, kind.name, 16, 5));
    EXPECT_TRUE(out.comparison.passed)
        << kind.name << ": " << ::testing::PrintToString(out.comparison);
  }
}

TEST(NxdPortTest, TokenGenerationNeedsAContext) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const std::unique_ptr<Port> port = MakePort(config, InitStateDict(config, 1));
  EXPECT_THAT([&] { port->TokenGeneration(3); },
              ::testing::ThrowsMessage<Error>(HasSubstr("run ContextEncoding first")));
  EXPECT_THAT([&] { port->ContextEncoding({}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("the prompt is empty")));
}

TEST(NxdPortTest, RejectsADeviceTheShapesForbid) {
  const ModelConfig config = TinyConfig("tiny-llama");
  EXPECT_THAT([&] { MakePort(config, InitStateDict(config, 1), DeviceConfig{.tp_degree = 3}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("tp_degree")));
}

TEST(NxdPortTest, ModuleTreesNameTheExpectedModules) {
  const ModelConfig config = TinyConfig("tiny-qwen2");
  const Architecture& family = ArchitectureOf(config);
  const ModuleNode reference = family.ReferenceTree(config);
  const ModuleNode port = family.BuiltinPortTree(config, DeviceConfig{});
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
  const auto unfused = FlatPaths(family.BuiltinPortTree(config, DeviceConfig{.fused_qkv = false}));
  EXPECT_THAT(unfused, ::testing::Contains("model.layers.0.self_attn.qkv_proj.k_proj"));
}

TEST(NxdPortTest, TheTreeTheMadePortReportsIsTheFamilys) {
  const ModelConfig config = TinyConfig("tiny-qwen3");
  const StateDict weights = InitStateDict(config, 1);
  const DeviceConfig device{.tp_degree = 2};
  EXPECT_EQ(MakePort(config, weights, device)->Tree(),
            ArchitectureOf(config).BuiltinPortTree(config, device));
  EXPECT_THAT(FlatPaths(MakePort(config, weights, device)->Tree()),
              ::testing::Contains("model.layers.1.self_attn.q_layernorm"));
}

TEST(NxdPortTest, RunRejectsABadLayerAndAnUnknownKind) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 1);
  const std::unique_ptr<Port> port = MakePort(config, weights);
  EXPECT_THAT([&] { port->Run({.kind = "router", .layer = 0}, MakeInput(config, "mlp", 4, 1)); },
              ::testing::ThrowsMessage<Error>(HasSubstr("no component \"router\"")));
  EXPECT_THAT([&] { port->Run({.kind = "q_norm", .layer = 0}, MakeInput(config, "mlp", 4, 1)); },
              ::testing::ThrowsMessage<Error>(HasSubstr("has no per-head q/k norms")));
  EXPECT_THAT([&] { port->Run({.kind = "mlp", .layer = 2}, MakeInput(config, "mlp", 4, 1)); },
              ::testing::ThrowsMessage<Error>(HasSubstr("port mlp: layer 2 is outside [0, 2)")));
}

}  // namespace
}  // namespace equiv
