#include "libequiv/models/port_patch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "libequiv/models/reference_model.h"
#include "tests/libequiv/models/port_harness.h"
#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::equiv::testing::MakeInput;
using ::equiv::testing::RunComponent;
using ::equiv::testing::TinyConfig;
using ::equiv::testing_support::ErrorOf;
using ::testing::HasSubstr;

// The fix for a rotary bug, as a team would write it: HF's rotary in bf16.
ComponentOverride ReferenceRotary(const ModelConfig& config, const StateDict& weights) {
  auto reference = std::make_shared<ReferenceModel>(config, weights, nn::Precision::kBf16);
  return [reference](const ComponentInput& input, int64_t layer) {
    return reference->Run(Component::kRotary, layer, input);
  };
}

TEST(PortPatchTest, ParsesComponentNamesAndModulePaths) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const auto is = [&](std::string_view name, Component c, std::optional<int64_t> layer) {
    const PatchTarget t = ParsePatchTarget(name, config);
    EXPECT_EQ(t.component, c) << name;
    EXPECT_EQ(t.layer, layer) << name;
  };
  is("rotary", Component::kRotary, std::nullopt);
  is("model.layers.{i}.self_attn.rotary_emb", Component::kRotary, std::nullopt);
  is("model.layers.1.mlp", Component::kMlp, 1);
  is("model.layers.0", Component::kDecoderLayer, 0);
  is("model.layers.0.self_attn.qkv_proj", Component::kQkvProj, 0);
  is("model.norm", Component::kFinalNorm, std::nullopt);
  is("lm_head", Component::kLmHead, std::nullopt);
  EXPECT_THAT(ErrorOf([&] { ParsePatchTarget("model.layers.2.mlp", config); }),
              HasSubstr("patch \"model.layers.2.mlp\": layer 2 is outside [0, 2)"));
  EXPECT_THAT(ErrorOf([&] { ParsePatchTarget("model.layers.0.mlp.up_proj", config); }),
              HasSubstr("names no port component"));
  EXPECT_THAT(ErrorOf([&] { ParsePatchTarget("causal_lm", config); }),
              HasSubstr("the whole model"));
}

// A scoped patch proves a fix: the faulty rotary fails, the patched one passes wherever rotary
// runs (alone and inside attention), and the port is faulty again after the scope.
TEST(PortPatchTest, ScopedPatchFixesAFaultAndRestoresThePort) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 3);
  LlamaPort port(config, weights, {.tp_degree = 2}, {Fault::kRotaryInterleaved});
  const auto r = [&](Component c) {
    return RunComponent(config, weights, port, c, 1, MakeInput(config, c, 16, 4)).comparison;
  };
  EXPECT_FALSE(r(Component::kRotary).passed);
  EXPECT_FALSE(r(Component::kAttention).passed);
  {
    const ScopedPatch fix(port, "model.layers.{i}.self_attn.rotary_emb",
                          ReferenceRotary(config, weights));
    EXPECT_TRUE(r(Component::kRotary).passed) << r(Component::kRotary).r_ratio;
    EXPECT_TRUE(r(Component::kAttention).passed) << r(Component::kAttention).r_ratio;
    EXPECT_TRUE(r(Component::kDecoderLayer).passed) << r(Component::kDecoderLayer).r_ratio;
  }
  EXPECT_FALSE(r(Component::kRotary).passed);
}

// A patch of one layer leaves the other layers as they were.
TEST(PortPatchTest, LayerPatchTouchesThatLayerOnly) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 3);
  LlamaPort port(config, weights, {});
  const ScopedPatch zero(port, "model.layers.1.mlp", [](const ComponentInput& in, int64_t) {
    return nn::Matrix::Zero(in.hidden.rows(), in.hidden.cols()).eval();
  });
  const ComponentInput input = MakeInput(config, Component::kMlp, 8, 2);
  EXPECT_TRUE(port.Run(Component::kMlp, 1, input).isZero());
  EXPECT_FALSE(port.Run(Component::kMlp, 0, input).isZero());
}

TEST(PortPatchTest, TokenGenerationRefusesAnAttentionPatch) {
  const ModelConfig config = TinyConfig("tiny-llama");
  LlamaPort port(config, InitStateDict(config, 1), {});
  port.ContextEncoding(::equiv::testing::RandomIds(4, config.vocab_size, 1));
  const ScopedPatch patch(port, "attention",
                          [](const ComponentInput& in, int64_t) { return in.hidden; });
  EXPECT_THAT(ErrorOf([&] { port.TokenGeneration(1); }),
              HasSubstr("token generation: a attention patch cannot attend over the KV cache"));
}

}  // namespace
}  // namespace equiv
