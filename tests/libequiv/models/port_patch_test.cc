#include "libequiv/models/port_patch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "libequiv/families/registry.h"
#include "tests/libequiv/ports/nxd/port_harness.h"
#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::equiv::testing::MakeInput;
using ::equiv::testing::MakePort;
using ::equiv::testing::RunComponent;
using ::equiv::testing::TinyConfig;
using ::equiv::testing_support::ErrorOf;
using ::testing::HasSubstr;

// The fix for a rotary bug, as a team would write it: HF's rotary in bf16.
ComponentOverride ReferenceRotary(const ModelConfig& config, const StateDict& weights) {
  std::shared_ptr<Reference> reference =
      ArchitectureOf(config).MakeReference(config, weights, nn::Precision::kBf16);
  return [reference](const ComponentInput& input, int64_t layer) {
    return reference->Run("rotary", layer, input);
  };
}

// The built-in port takes component names and module paths of its tree; a patch of one
// module replaces exactly what it names.
TEST(PortPatchTest, TheBuiltinPortTakesComponentNamesAndModulePaths) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 3);
  const std::unique_ptr<Port> port = MakePort(config, weights);
  const ComponentOverride zero = [](const ComponentInput& in, int64_t) {
    return nn::Matrix::Zero(in.hidden.rows(), in.hidden.cols()).eval();
  };
  const auto patched = [&](std::string_view path, std::string_view kind, int64_t layer) {
    const ScopedPatch patch(*port, path, zero);
    return port->Run({.kind = kind, .layer = layer}, MakeInput(config, kind, 8, 2)).isZero();
  };
  EXPECT_TRUE(patched("mlp", "mlp", 1));
  EXPECT_TRUE(patched("model.layers.1.mlp", "mlp", 1));
  EXPECT_FALSE(patched("model.layers.1.mlp", "mlp", 0));
  EXPECT_TRUE(patched("model.layers.{i}.input_layernorm", "input_layernorm", 0));
  // A patch of the fused projection returns its q | k | v columns; another width is an error.
  {
    const ScopedPatch qkv(*port, "model.layers.0.self_attn.qkv_proj",
                          [&](const ComponentInput& in, int64_t) {
                            return nn::Matrix::Zero(in.hidden.rows(), 192).eval();
                          });
    EXPECT_TRUE(
        port->Run({.kind = "qkv_proj", .layer = 0}, MakeInput(config, "qkv_proj", 8, 2)).isZero());
  }
  {
    const ScopedPatch narrow(*port, "model.layers.0.self_attn.qkv_proj", zero);
    EXPECT_THAT(ErrorOf([&] {
                  port->Run({.kind = "qkv_proj", .layer = 0}, MakeInput(config, "qkv_proj", 8, 2));
                }),
                HasSubstr("a patch returned 128 columns where the port's heads need q | k (160) "
                          "or q | k | v (192)"));
  }
  EXPECT_TRUE(patched("model.norm", "final_norm", -1));
  EXPECT_TRUE(patched("lm_head", "lm_head", -1));
  EXPECT_THAT(ErrorOf([&] { ScopedPatch(*port, "model.layers.2.mlp", zero); }),
              HasSubstr("patch \"model.layers.2.mlp\": layer 2 is outside [0, 2)"));
  EXPECT_THAT(ErrorOf([&] { ScopedPatch(*port, "model.layers.0.mlp.up_proj", zero); }),
              HasSubstr("names no port component"));
  EXPECT_THAT(ErrorOf([&] { ScopedPatch(*port, "causal_lm", zero); }),
              HasSubstr("the whole model"));
}

// A port need not support patches; one that does not says so.
TEST(PortPatchTest, APortWithoutOverridesRefusesAPatch) {
  class Fixed : public Port {
   public:
    nn::Matrix Run(const ComponentCall&, const ComponentInput& input) const override {
      return input.hidden;
    }
    nn::Matrix ContextEncoding(std::span<const int64_t>) override { return {}; }
    nn::Matrix TokenGeneration(int64_t) override { return {}; }
    ModuleNode Tree() const override { return {}; }
  } port;
  EXPECT_THAT(ErrorOf([&] { ScopedPatch(port, "model.layers.0.mlp", {}); }),
              HasSubstr("patch \"model.layers.0.mlp\": this port does not support patches"));
}

// A scoped patch proves a fix: the faulty rotary fails, the patched one passes wherever rotary
// runs (alone and inside attention), and the port is faulty again after the scope.
TEST(PortPatchTest, ScopedPatchFixesAFaultAndRestoresThePort) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 3);
  const std::unique_ptr<Port> port =
      MakePort(config, weights, {.tp_degree = 2}, {"rotary_interleaved"});
  const auto r = [&](std::string_view c) {
    return RunComponent(config, weights, *port, c, 1, MakeInput(config, c, 16, 4)).comparison;
  };
  EXPECT_FALSE(r("rotary").passed);
  EXPECT_FALSE(r("attention").passed);
  {
    const ScopedPatch fix(*port, "model.layers.{i}.self_attn.rotary_emb",
                          ReferenceRotary(config, weights));
    EXPECT_TRUE(r("rotary").passed) << r("rotary").r_ratio;
    EXPECT_TRUE(r("attention").passed) << r("attention").r_ratio;
    EXPECT_TRUE(r("decoder_layer").passed) << r("decoder_layer").r_ratio;
  }
  EXPECT_FALSE(r("rotary").passed);
}

// A patch of one layer leaves the other layers as they were.
TEST(PortPatchTest, LayerPatchTouchesThatLayerOnly) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const StateDict weights = InitStateDict(config, 3);
  const std::unique_ptr<Port> port = MakePort(config, weights);
  const ScopedPatch zero(*port, "model.layers.1.mlp", [](const ComponentInput& in, int64_t) {
    return nn::Matrix::Zero(in.hidden.rows(), in.hidden.cols()).eval();
  });
  const ComponentInput input = MakeInput(config, "mlp", 8, 2);
  EXPECT_TRUE(port->Run({.kind = "mlp", .layer = 1}, input).isZero());
  EXPECT_FALSE(port->Run({.kind = "mlp", .layer = 0}, input).isZero());
}

TEST(PortPatchTest, TokenGenerationRefusesAnAttentionPatch) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const std::unique_ptr<Port> port = MakePort(config, InitStateDict(config, 1));
  port->ContextEncoding(::equiv::testing::RandomIds(4, config.vocab_size, 1));
  const ScopedPatch patch(*port, "attention",
                          [](const ComponentInput& in, int64_t) { return in.hidden; });
  EXPECT_THAT(ErrorOf([&] { port->TokenGeneration(1); }),
              HasSubstr("token generation: a attention patch cannot attend over the KV cache"));
}

}  // namespace
}  // namespace equiv
