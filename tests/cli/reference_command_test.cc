#include "cli/reference_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "generators/builtin_port_mapping.h"
#include "generators/component_mapping.h"
#include "generators/suite_cases.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/npy.h"
#include "libequiv/models/regime.h"
#include "libequiv/random/random_tensor.h"
#include "tests/support/test_files.h"

namespace equiv::cli {
namespace {

using ::testing::HasSubstr;

const std::string kConfig = std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/tiny-llama.json";

std::string Temp(const std::string& name) { return testing_support::TestDir() + "/" + name; }

// `equiv reference` runs the module `path` of `config` on the .npy `input` and says `says`
// (its component, precision and shape).
void ExpectRuns(const std::string& config, const std::string& path, const std::string& input,
                const std::string& precision, const std::string& says) {
  std::ostringstream out, err;
  ASSERT_EQ(RunReference({.config = config,
                          .components = {path},
                          .input = input,
                          .precision = precision,
                          .output = Temp("runs_y.npy")},
                         out, err),
            kExitPassed)
      << path << ": " << err.str();
  EXPECT_THAT(out.str(), HasSubstr(says)) << config << " " << path;
}

// What `equiv reference` writes is what the reference component computes.
TEST(ReferenceCommandTest, RunsTheComponentOnTheInput) {
  const Tensor x = RandomNormal(Shape({6, 128}), 3);
  const std::string input = Temp("ref_x.npy"), output = Temp("ref_y.npy");
  WriteNpy(input, x.view());
  std::ostringstream out, err;
  ASSERT_EQ(RunReference({.config = kConfig,
                          .components = {"model.layers.1.mlp"},
                          .input = input,
                          .precision = "bf16",
                          .output = output},
                         out, err),
            kExitPassed)
      << err.str();
  EXPECT_THAT(out.str(), HasSubstr("mlp (bf16) [6, 128]"));
  const ModelConfig config = LoadModelConfig(kConfig);
  const std::vector<float> v = x.ToFloats();
  ComponentInput in{Eigen::Map<const nn::Matrix>(v.data(), 6, 128), {}, {0, 1, 2, 3, 4, 5}};
  const nn::Matrix expected =
      ArchitectureOf(config)
          .MakeReference(config, InitStateDict(config, 1), nn::Precision::kBf16)
          ->Run("mlp", 1, in);
  const NpyArray y = NpyArray::Load(output);
  ASSERT_EQ(y.shape(), Shape({6, 128}));
  for (int64_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(y.view().Get(i), expected.data()[i]) << i;
  }
}

// --precision regime: the reference on the regime's weights in the regime's precision.
TEST(ReferenceCommandTest, WritesTheBaselineOfARegime) {
  const Tensor x = RandomNormal(Shape({6, 128}), 3);
  const std::string input = Temp("regime_x.npy"), output = Temp("regime_y.npy");
  WriteNpy(input, x.view());
  const ModelConfig config = LoadModelConfig(kConfig);
  const std::vector<float> v = x.ToFloats();
  ComponentInput in{Eigen::Map<const nn::Matrix>(v.data(), 6, 128), {}, {0, 1, 2, 3, 4, 5}};
  const StateDict seeded = InitStateDict(config, 1);
  for (const char* name : {"int8-weight", "mxfp4-weight", "fp16"}) {
    const Regime regime = ParseRegime(name);
    std::ostringstream out, err;
    ASSERT_EQ(RunReference({.config = kConfig,
                            .components = {"model.layers.1.mlp"},
                            .input = input,
                            .precision = "regime",
                            .regime = name,
                            .output = output},
                           out, err),
              kExitPassed)
        << err.str();
    EXPECT_THAT(out.str(), HasSubstr("mlp (regime " + std::string(name) + ") [6, 128]"));
    const nn::Matrix expected =
        ArchitectureOf(config)
            .MakeReference(config,
                           RegimeWeights(regime, seeded, ArchitectureOf(config).Parameters(config)),
                           RegimePrecision(regime))
            ->Run("mlp", 1, in);
    const NpyArray y = NpyArray::Load(output);
    for (int64_t i = 0; i < expected.size(); ++i) ASSERT_EQ(y.view().Get(i), expected.data()[i]);
  }
}

// The parameters of `prefix` alone, from the seeded model of seed 1.
StateDict Own(const ModelConfig& config, const std::string& prefix) {
  StateDict own;
  for (auto& [name, t] : InitStateDict(config, 1)) {
    if (name.starts_with(prefix)) own.emplace(name, t);
  }
  return own;
}

// A checkpoint holding only the component's parameters is enough, in one file or in the shards
// of HF's index, and gives what the whole model gives.
TEST(ReferenceCommandTest, ReadsOnlyTheComponentsParameters) {
  const ModelConfig config = LoadModelConfig(kConfig);
  const Tensor x = RandomNormal(Shape({1, 6, 128}), 5);  // as PyTorch dumps it
  const std::string input = Temp("own_x.npy");
  WriteNpy(input, x.view());
  const std::string dir = Temp("own_checkpoint");
  std::filesystem::create_directories(dir);
  SaveStateDict(Own(config, "model.layers.1.self_attn."), dir + "/attn.safetensors");
  StateDict q = Own(config, "model.layers.1.self_attn.q_proj.");
  SaveStateDict(q, dir + "/q.safetensors");
  std::string map;
  for (const auto& [name, t] : Own(config, "model.layers.1.self_attn.")) {
    map += std::string(map.empty() ? "" : ", ") + "\"" + name + "\": \"" +
           (q.contains(name) ? "q.safetensors" : "attn.safetensors") + "\"";
  }
  std::ofstream(dir + "/model.safetensors.index.json")
      << "{\"metadata\": {}, \"weight_map\": {" << map << "}}";

  std::vector<float> v = x.ToFloats();
  ComponentInput in{Eigen::Map<const nn::Matrix>(v.data(), 6, 128), {}, {0, 1, 2, 3, 4, 5}};
  const nn::Matrix expected =
      ArchitectureOf(config)
          .MakeReference(config, InitStateDict(config, 1), nn::Precision::kFp32)
          ->Run("attention", 1, in);
  for (const std::string& weights : {dir + "/attn.safetensors", dir}) {
    const std::string output = Temp("own_y.npy");
    std::ostringstream out, err;
    ASSERT_EQ(RunReference({.config = kConfig,
                            .weights = weights,
                            .components = {"model.layers.1.self_attn"},
                            .input = input,
                            .output = output},
                           out, err),
              kExitPassed)
        << weights << ": " << err.str();
    const NpyArray y = NpyArray::Load(output);
    ASSERT_EQ(y.shape(), Shape({6, 128}));
    for (int64_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ(y.view().Get(i), expected.data()[i]) << weights << " " << i;
    }
  }

  std::ostringstream out, err;
  EXPECT_EQ(RunReference({.config = kConfig,
                          .weights = dir + "/q.safetensors",
                          .components = {"model.layers.1.self_attn"},
                          .input = input,
                          .output = Temp("own_never.npy")},
                         out, err),
            kExitError);
  EXPECT_THAT(err.str(),
              HasSubstr("q.safetensors: parameter model.layers.1.self_attn.k_proj.weight "
                        "[32, 128] is missing (--component model.layers.1.self_attn "
                        "reads only its own parameters: "));
}

// A mixture of experts: the router returns its logits [n, experts], the block and the experts
// their outputs, each module path of the mapping resolved to its component.
TEST(ReferenceCommandTest, RunsMixtralsRouterExpertsAndBlock) {
  const std::string config = std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/tiny-mixtral.json";
  const Tensor x = RandomNormal(Shape({5, 128}), 4);
  const std::string input = Temp("moe_x.npy");
  WriteNpy(input, x.view());
  const std::pair<const char*, const char*> paths[] = {
      {"model.layers.0.block_sparse_moe.gate", "router (bf16) [5, 4]"},
      {"model.layers.1.block_sparse_moe.experts", "experts (bf16) [5, 512]"},
      {"model.layers.1.block_sparse_moe", "moe (bf16) [5, 128]"},
      {"model.layers.0", "decoder_layer (bf16) [5, 128]"}};
  for (const auto& [path, says] : paths) ExpectRuns(config, path, input, "bf16", says);
}

// Gemma 3: every module set the built-in port's mapping maps (the q/k norms over heads, the
// global and the local rotary on q | k, the scaled embedding on ids) runs from config.json.
TEST(ReferenceCommandTest, RunsEveryGemma3ModuleTheMappingMaps) {
  const std::string path = std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/tiny-gemma3.json";
  const ModelConfig config = LoadModelConfig(path);
  const int64_t q = config.num_attention_heads * config.head_dim;
  const int64_t k = config.num_key_value_heads * config.head_dim;
  const std::string ids = Temp("g3_ids.npy"), output = Temp("g3_y.npy");
  const std::vector<int64_t> id_values = {3, 1, 4, 1, 5};
  WriteNpy(ids, ElementType::kI64, Shape({5}),
           {reinterpret_cast<const std::uint8_t*>(id_values.data()), 8 * id_values.size()});
  std::set<std::string> kinds;
  for (const ExpandedEntry& e : Expand(BuiltinPortMapping(config), config)) {
    if (e.source.empty()) continue;
    const std::optional<KindAtLayer> found =
        ReferenceComponentOf(e.source, ArchitectureOf(config).Components());
    ASSERT_TRUE(found.has_value()) << e.Label();
    const InputShape shape = found->kind->input;
    std::string input = ids;
    if (shape != InputShape::kIds) {
      const int64_t width = shape == InputShape::kQueryHeads ? q
                            : shape == InputShape::kKeyHeads ? k
                            : shape == InputShape::kQueryKey ? q + k
                                                             : config.hidden_size;
      input = Temp("g3_x" + std::to_string(width) + ".npy");
      WriteNpy(input, RandomNormal(Shape({5, width}), 7).view());
    }
    std::ostringstream out, err;
    ASSERT_EQ(RunReference({.config = path,
                            .components = e.source,
                            .input = input,
                            .precision = "bf16",
                            .output = output},
                           out, err),
              kExitPassed)
        << e.Label() << ": " << err.str();
    EXPECT_THAT(out.str(), HasSubstr(std::string(found->kind->name) + " (bf16) [5, ")) << e.Label();
    kinds.insert(std::string(found->kind->name));
  }
  for (const char* kind : {"q_norm", "k_norm", "rotary", "rotary_local", "embedding"}) {
    EXPECT_EQ(kinds.count(kind), 1u) << kind;
  }
}

// Qwen2-MoE and Qwen3-MoE: the router at mlp.gate returns its logits [n, experts]; Qwen2-MoE's
// shared expert and its gate ([n, 1], before the sigmoid) are components of their own.
TEST(ReferenceCommandTest, RunsQwenMoeRoutersExpertsAndSharedExpert) {
  const std::string configs = std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/";
  const Tensor x = RandomNormal(Shape({5, 128}), 4);
  const std::string input = Temp("qmoe_x.npy");
  WriteNpy(input, x.view());
  const std::tuple<const char*, const char*, const char*> paths[] = {
      {"tiny-qwen2-moe.json", "model.layers.0.mlp.gate", "router (fp32) [5, 4]"},
      {"tiny-qwen2-moe.json", "model.layers.1.mlp.experts", "experts (fp32) [5, 512]"},
      {"tiny-qwen2-moe.json", "model.layers.1.mlp.shared_expert", "shared_expert (fp32) [5, 128]"},
      {"tiny-qwen2-moe.json", "model.layers.0.mlp.shared_expert_gate",
       "shared_expert_gate (fp32) [5, 1]"},
      {"tiny-qwen2-moe.json", "model.layers.1.mlp", "moe (fp32) [5, 128]"},
      {"tiny-qwen3-moe.json", "model.layers.0.mlp.gate", "router (fp32) [5, 4]"},
      {"tiny-qwen3-moe.json", "model.layers.0.mlp", "moe (fp32) [5, 128]"},
      {"tiny-qwen3-moe.json", "model.layers.1", "decoder_layer (fp32) [5, 128]"}};
  for (const auto& [config, path, says] : paths) {
    ExpectRuns(configs + config, path, input, "fp32", says);
  }
}

// GPT-OSS: every module path its port maps, the router at mlp.router returning its logits
// [n, experts], the experts every expert on every token unweighted.
TEST(ReferenceCommandTest, RunsGptOssModules) {
  const std::string config = std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/tiny-gpt-oss.json";
  const std::string input = Temp("gptoss_x.npy");
  WriteNpy(input, RandomNormal(Shape({5, 96}), 5).view());
  const std::pair<const char*, const char*> paths[] = {
      {"model.layers.0.input_layernorm", "input_layernorm (fp32) [5, 96]"},
      {"model.layers.0.self_attn", "attention (fp32) [5, 96]"},
      {"model.layers.1.self_attn", "attention (fp32) [5, 96]"},
      {"model.layers.1.post_attention_layernorm", "post_attention_layernorm (fp32) [5, 96]"},
      {"model.layers.0.mlp.router", "router (fp32) [5, 4]"},
      {"model.layers.1.mlp.experts", "experts (fp32) [5, 384]"},
      {"model.layers.0.mlp", "moe (fp32) [5, 96]"},
      {"model.layers.1", "decoder_layer (fp32) [5, 96]"},
      {"model.norm", "final_norm (fp32) [5, 96]"}};
  for (const auto& [path, says] : paths) ExpectRuns(config, path, input, "fp32", says);
}

TEST(ReferenceCommandTest, ErrorsNameWhatIsWrong) {
  const std::string input = Temp("ref_bad.npy");
  WriteNpy(input, RandomNormal(Shape({2, 3, 4}), 1).view());
  const auto error = [&](ReferenceArgs args) {
    std::ostringstream out, err;
    EXPECT_EQ(RunReference(args, out, err), kExitError);
    return err.str();
  };
  EXPECT_THAT(error({.config = kConfig, .components = {"model.layers.0.mlp.up_proj"}}),
              HasSubstr("--component: no reference component of the llama model runs exactly these "
                        "modules; give one of these module sets: model.embed_tokens;"));
  EXPECT_THAT(error({.config = kConfig,
                     .components = {"model.norm"},
                     .input = input,
                     .output = Temp("o.npy")}),
              HasSubstr("the input must be [n, features] (or [1, n, features]), not [2, 3, 4]"));
  EXPECT_THAT(error({.config = kConfig,
                     .components = {"model.embed_tokens"},
                     .input = input,
                     .output = Temp("o.npy")}),
              HasSubstr("token ids must be int64 or int32, not <f4"));
}

}  // namespace
}  // namespace equiv::cli
