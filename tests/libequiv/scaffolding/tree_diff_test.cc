#include "libequiv/scaffolding/tree_diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/device/device_config.h"
#include "libequiv/families/registry.h"
#include "libequiv/models/port.h"

namespace equiv {
namespace {

// The llama family's trees (its reference's and its built-in port's).
ModuleNode ReferenceModuleTree(const ModelConfig& c) { return ArchitectureOf(c).ReferenceTree(c); }
ModuleNode PortModuleTree(const ModelConfig& c, const device::DeviceConfig& d) {
  return ArchitectureOf(c).BuiltinPortTree(c, d);
}

using ::equiv::device::DeviceConfig;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

ModelConfig Tiny(const std::string& name) {
  return LoadModelConfig(std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/" + name + ".json");
}

ModuleNode& Mutable(ModuleNode& root, const std::string& path) {
  const ModuleNode* node = FindModule(root, path);
  EXPECT_NE(node, nullptr) << path;
  return const_cast<ModuleNode&>(*node);
}

// Removes and returns the child `name` of the module at `path`.
ModuleNode Remove(ModuleNode& root, const std::string& path, const std::string& name) {
  std::vector<ModuleNode>& children = Mutable(root, path).children;
  const auto it = std::find_if(children.begin(), children.end(),
                               [&](const ModuleNode& c) { return c.name == name; });
  EXPECT_NE(it, children.end()) << path << "." << name;
  ModuleNode removed = *it;
  children.erase(it);
  return removed;
}

std::set<std::string> Categories(const std::vector<TreeDifference>& differences) {
  std::set<std::string> out;
  for (const TreeDifference& d : differences) out.insert(d.category);
  return out;
}

const TreeDifference* Find(const std::vector<TreeDifference>& differences,
                           const std::string& category, const std::string& source_path) {
  for (const TreeDifference& d : differences) {
    if (d.category == category && d.source_path == source_path) return &d;
  }
  return nullptr;
}

// The one real difference of a diff; fails the test when there is not exactly one.
TreeDifference OnlyReal(const TreeDiff& diff) {
  EXPECT_EQ(diff.real.size(), 1u) << FormatTreeDiff(diff);
  return diff.real.empty() ? TreeDifference{} : diff.real.front();
}

class CleanPortTreeTest : public ::testing::TestWithParam<std::tuple<const char*, int64_t, bool>> {
};

TEST_P(CleanPortTreeTest, HasOnlyExpectedDifferences) {
  const auto [name, tp, fused] = GetParam();
  const ModelConfig config = Tiny(name);
  const DeviceConfig device{.tp_degree = tp, .fused_qkv = fused};
  const TreeDiff diff =
      DiffTrees(ReferenceModuleTree(config), PortModuleTree(config, device), {.tp_degree = tp});
  EXPECT_TRUE(diff.ok()) << FormatTreeDiff(diff);
  std::set<std::string> expected = {"class_prefix",  "tp_sharding",    "embedding_sharding",
                                    "qkv_wrapper",   "o_proj_wrapper", "per_layer_rotary",
                                    "framework_norm"};
  if (fused) expected.insert("fused_qkv");
  // Qwen3's q_norm/k_norm are q_layernorm/k_layernorm in the port.
  if (std::string(name) == "tiny-qwen3") expected.insert("qk_norm_name");
  EXPECT_EQ(Categories(diff.expected), expected) << FormatTreeDiff(diff);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, CleanPortTreeTest,
                         ::testing::Combine(::testing::Values("tiny-llama", "tiny-mistral",
                                                              "tiny-qwen2", "tiny-qwen3"),
                                            ::testing::Values(1, 8), ::testing::Bool()),
                         [](const auto& info) {
                           std::string name = std::get<0>(info.param);
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name + "_tp" + std::to_string(std::get<1>(info.param)) +
                                  (std::get<2>(info.param) ? "_fused" : "");
                         });

TEST(TreeDiffTest, ExpectedDifferencesFoldTheLayers) {
  const ModelConfig config = Tiny("tiny-llama");
  const TreeDiff diff = DiffTrees(ReferenceModuleTree(config), PortModuleTree(config, {}));
  const TreeDifference* fused =
      Find(diff.expected, "fused_qkv", "model.layers.{i}.self_attn.k_proj");
  ASSERT_NE(fused, nullptr) << FormatTreeDiff(diff);
  EXPECT_EQ(fused->target_path, "model.layers.{i}.self_attn.qkv_proj.Wqkv");
  EXPECT_EQ(fused->source_class, "Linear");
  EXPECT_EQ(fused->target_class, "ColumnParallelLinear");
  EXPECT_EQ(fused->count, 2);
  EXPECT_EQ(fused->kind, DifferenceKind::kExpected);
  const TreeDifference* rotary = Find(diff.expected, "per_layer_rotary", "model.rotary_emb");
  ASSERT_NE(rotary, nullptr);
  EXPECT_EQ(rotary->target_path, "model.layers.{i}.self_attn.rotary_emb");
  EXPECT_EQ(rotary->count, 2);
  const TreeDifference* wrapper = Find(diff.expected, "o_proj_wrapper", "");
  ASSERT_NE(wrapper, nullptr);
  EXPECT_EQ(wrapper->target_path, "model.layers.{i}.self_attn.o_proj");
  EXPECT_EQ(wrapper->target_class, "GroupQueryAttention_O");
  const TreeDifference* row = Find(diff.expected, "tp_sharding", "model.layers.{i}.mlp.down_proj");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->target_class, "RowParallelLinear");
  EXPECT_EQ(row->reason, "tensor parallel sharding");
  const TreeDifference* root = Find(diff.expected, "class_prefix", "");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->target_class, "NeuronLlamaForCausalLM");
  EXPECT_THAT(FormatTreeDiff(diff),
              HasSubstr("  [fused_qkv] model.layers.{i}.self_attn.q_proj (Linear) -> "
                        "model.layers.{i}.self_attn.qkv_proj.Wqkv (ColumnParallelLinear) x2: NxDI "
                        "attention framework: q/k/v fused into qkv_proj.Wqkv "
                        "(GroupQueryAttention_QKV)\n"));
  EXPECT_THAT(FormatTreeDiff(diff), HasSubstr("tree diff: 0 real, 24 expected\nexpected:\n"
                                              "  [class_prefix] LlamaForCausalLM (root) -> "
                                              "NeuronLlamaForCausalLM (root): the port's model "
                                              "classes carry the Neuron prefix\n"));
}

TEST(TreeDiffTest, AMissingNormIsReal) {
  const ModelConfig config = Tiny("tiny-llama");
  ModuleNode port = PortModuleTree(config, {});
  Remove(port, "model.layers.0", "post_attention_layernorm");
  const TreeDiff diff = DiffTrees(ReferenceModuleTree(config), port);
  EXPECT_FALSE(diff.ok());
  const TreeDifference d = OnlyReal(diff);
  EXPECT_EQ(d.category, "missing_module");
  EXPECT_EQ(d.kind, DifferenceKind::kReal);
  EXPECT_EQ(d.source_path, "model.layers.0.post_attention_layernorm");
  EXPECT_EQ(d.source_class, "LlamaRMSNorm");
  EXPECT_EQ(d.target_class, "");
  EXPECT_THAT(FormatTreeDiff(diff),
              HasSubstr("tree diff: 1 real, 24 expected\nreal:\n  [missing_module] "
                        "model.layers.0.post_attention_layernorm (LlamaRMSNorm) -> "
                        "model.layers.0.post_attention_layernorm (none): the port has no module "
                        "at model.layers.0.post_attention_layernorm\nexpected:\n"));
  const nlohmann::json json = ToJson(diff);
  EXPECT_EQ(json["ok"], false);
  EXPECT_EQ(json["real"][0]["category"], "missing_module");
  EXPECT_EQ(json["real"][0]["kind"], "real");
  EXPECT_EQ(json["expected"].size(), diff.expected.size());
}

TEST(TreeDiffTest, AMissingLayerIsOneLayerCountMismatch) {
  const ModelConfig config = Tiny("tiny-llama");
  ModelConfig one = config;
  one.num_hidden_layers = 1;
  const TreeDifference d =
      OnlyReal(DiffTrees(ReferenceModuleTree(config), PortModuleTree(one, {})));
  EXPECT_EQ(d.category, "layer_count_mismatch");
  EXPECT_EQ(d.source_path, "model.layers");
  EXPECT_EQ(d.target_path, "model.layers");
  EXPECT_EQ(d.reason, "the reference has 2 entries in model.layers, the port 1 in model.layers");

  ModelConfig three = config;
  three.num_hidden_layers = 3;
  const TreeDifference more =
      OnlyReal(DiffTrees(ReferenceModuleTree(config), PortModuleTree(three, {})));
  EXPECT_EQ(more.category, "layer_count_mismatch");
  EXPECT_THAT(more.reason, HasSubstr("the port 3"));
}

TEST(TreeDiffTest, AnUnexplainedModuleIsReal) {
  const ModelConfig config = Tiny("tiny-mistral");
  ModuleNode port = PortModuleTree(config, {});
  Mutable(port, "model.layers.1.self_attn").children.push_back({"attn_dropout", "Dropout", {}, {}});
  const TreeDifference d = OnlyReal(DiffTrees(ReferenceModuleTree(config), port));
  EXPECT_EQ(d.category, "extra_module");
  EXPECT_EQ(d.source_path, "");
  EXPECT_EQ(d.target_path, "model.layers.1.self_attn.attn_dropout");
  EXPECT_EQ(d.target_class, "Dropout");
  EXPECT_EQ(d.reason,
            "no reference module maps to model.layers.1.self_attn.attn_dropout and no expected "
            "difference explains it");
}

TEST(TreeDiffTest, InfrastructureExtrasComeFromTheTable) {
  const ModelConfig config = Tiny("tiny-llama");
  ModuleNode port = PortModuleTree(config, {});
  Mutable(port, "model")
      .children.push_back(
          {"kv_mgr", "KVCacheManager", {}, {{"past_key_values", "ParameterList", {}, {}}}});
  EXPECT_EQ(OnlyReal(DiffTrees(ReferenceModuleTree(config), port)).target_path, "model.kv_mgr");

  ExpectedDifferences table = DefaultExpectedDifferences();
  table.extras.push_back({"", "KVCacheManager", "neuron_infrastructure", "KV cache management"});
  const TreeDiff diff = DiffTrees(ReferenceModuleTree(config), port, {.table = &table});
  EXPECT_TRUE(diff.ok()) << FormatTreeDiff(diff);
  const TreeDifference* extra = Find(diff.expected, "neuron_infrastructure", "");
  ASSERT_NE(extra, nullptr);
  EXPECT_EQ(extra->target_path, "model.kv_mgr");
}

TEST(TreeDiffTest, MlpInsideAttentionIsWrongNesting) {
  const ModelConfig config = Tiny("tiny-llama");
  ModuleNode port = PortModuleTree(config, {});
  ModuleNode mlp = Remove(port, "model.layers.1", "mlp");
  Mutable(port, "model.layers.1.self_attn").children.push_back(mlp);
  const TreeDifference d = OnlyReal(DiffTrees(ReferenceModuleTree(config), port));
  EXPECT_EQ(d.category, "wrong_nesting");
  EXPECT_EQ(d.source_path, "model.layers.1.mlp");
  EXPECT_EQ(d.target_path, "model.layers.1.self_attn.mlp");
  EXPECT_EQ(d.reason,
            "mlp sits under model.layers.1.self_attn in the port; the reference has it under "
            "model.layers.1");
}

TEST(TreeDiffTest, AMissingActivationIsReal) {
  const ModelConfig config = Tiny("tiny-qwen2");
  ModuleNode port = PortModuleTree(config, {});
  Remove(port, "model.layers.1.mlp", "act_fn");
  const TreeDifference d = OnlyReal(DiffTrees(ReferenceModuleTree(config), port));
  EXPECT_EQ(d.category, "missing_activation");
  EXPECT_EQ(d.source_path, "model.layers.1.mlp.act_fn");
  EXPECT_EQ(d.source_class, "SiLU");
  EXPECT_EQ(d.reason,
            "the reference applies SiLU at model.layers.1.mlp.act_fn; the port has no activation "
            "module at model.layers.1.mlp.act_fn");
}

TEST(TreeDiffTest, AWrongActivationClassIsReal) {
  const ModelConfig config = Tiny("tiny-llama");
  ModuleNode port = PortModuleTree(config, {});
  Mutable(port, "model.layers.0.mlp.act_fn").class_name = "ReLU";
  const TreeDifference d = OnlyReal(DiffTrees(ReferenceModuleTree(config), port));
  EXPECT_EQ(d.category, "class_mismatch");
  EXPECT_EQ(d.target_path, "model.layers.0.mlp.act_fn");
  EXPECT_EQ(d.reason,
            "the reference has SiLU, the port ReLU; no expected difference maps one to the other");
}

TEST(TreeDiffTest, FusedQkvRowsMustAddUp) {
  const ModelConfig config = Tiny("tiny-llama");
  ModuleNode port = PortModuleTree(config, {});
  Mutable(port, "model.layers.0.self_attn.qkv_proj.Wqkv").parameters[0].shape = {190, 128};
  const TreeDifference d = OnlyReal(DiffTrees(ReferenceModuleTree(config), port));
  EXPECT_EQ(d.category, "shape_mismatch");
  EXPECT_EQ(d.source_path, "model.layers.0.self_attn.q_proj");
  EXPECT_EQ(d.target_path, "model.layers.0.self_attn.qkv_proj.Wqkv");
  EXPECT_EQ(d.reason,
            "fused weight is [190, 128]; q_proj + k_proj + v_proj give [192, 128] (rows 128 + 32 "
            "+ 32)");
}

TEST(TreeDiffTest, FusedBiasIsChecked) {
  const ModelConfig config = Tiny("tiny-qwen2");  // q/k/v carry a bias
  ModuleNode port = PortModuleTree(config, {});
  Mutable(port, "model.layers.1.self_attn.qkv_proj.Wqkv").parameters.pop_back();
  const TreeDifference d = OnlyReal(DiffTrees(ReferenceModuleTree(config), port));
  EXPECT_EQ(d.category, "missing_parameter");
  EXPECT_EQ(d.reason,
            "model.layers.1.self_attn.q_proj has bias; the fused "
            "model.layers.1.self_attn.qkv_proj.Wqkv has no bias");
}

TEST(TreeDiffTest, ParameterMismatchesAreReal) {
  const ModelConfig config = Tiny("tiny-llama");
  ModuleNode port = PortModuleTree(config, DeviceConfig{.fused_qkv = false});
  Mutable(port, "model.layers.0.mlp.down_proj").parameters[0].shape = {128, 300};
  Mutable(port, "model.layers.1.self_attn.qkv_proj.k_proj").parameters.push_back({"bias", {32}});
  const TreeDiff diff = DiffTrees(ReferenceModuleTree(config), port);
  ASSERT_EQ(diff.real.size(), 2u) << FormatTreeDiff(diff);
  EXPECT_EQ(diff.real[0].category, "shape_mismatch");
  EXPECT_EQ(diff.real[0].target_path, "model.layers.0.mlp.down_proj");
  EXPECT_EQ(diff.real[0].reason, "weight is [128, 320] in the reference, [128, 300] in the port");
  EXPECT_EQ(diff.real[1].category, "extra_parameter");
  EXPECT_EQ(diff.real[1].source_path, "model.layers.1.self_attn.k_proj");
  EXPECT_EQ(diff.real[1].target_path, "model.layers.1.self_attn.qkv_proj.k_proj");
}

TEST(TreeDiffTest, PerRankShapesNeedTheTpDegree) {
  const ModelConfig config = Tiny("tiny-llama");
  ModuleNode port = PortModuleTree(config, {});
  Mutable(port, "model.layers.0.mlp.gate_proj").parameters[0].shape = {80, 128};  // 320 / 4
  Mutable(port, "model.layers.0.mlp.down_proj").parameters[0].shape = {128, 80};
  const TreeDiff sharded = DiffTrees(ReferenceModuleTree(config), port, {.tp_degree = 4});
  EXPECT_TRUE(sharded.ok()) << FormatTreeDiff(sharded);
  const TreeDifference* d =
      Find(sharded.expected, "tp_shard_shape", "model.layers.{i}.mlp.gate_proj");
  ASSERT_NE(d, nullptr) << FormatTreeDiff(sharded);
  EXPECT_EQ(d->reason, "weight stored per rank: [320, 128] split over 4 ranks");
  const TreeDiff full = DiffTrees(ReferenceModuleTree(config), port);
  EXPECT_EQ(Categories(full.real), std::set<std::string>{"shape_mismatch"});
  EXPECT_EQ(full.real.size(), 2u);
  // Row-parallel weights split their input dimension, not their output.
  Mutable(port, "model.layers.0.mlp.down_proj").parameters[0].shape = {32, 320};
  EXPECT_EQ(DiffTrees(ReferenceModuleTree(config), port, {.tp_degree = 4}).real.size(), 1u);
}

TEST(TreeDiffTest, AFusedGateUpSplitIsExpected) {
  const ModelConfig config = Tiny("tiny-llama");
  ModuleNode reference = ReferenceModuleTree(config);
  for (const char* layer : {"model.layers.0.mlp", "model.layers.1.mlp"}) {
    ModuleNode& mlp = Mutable(reference, layer);
    mlp.children.erase(mlp.children.begin(), mlp.children.begin() + 2);
    mlp.children.insert(mlp.children.begin(),
                        {"gate_up_proj", "Linear", {{"weight", {640, 128}}}, {}});
  }
  const ModuleNode port = PortModuleTree(config, {});
  const TreeDiff diff = DiffTrees(reference, port);
  EXPECT_TRUE(diff.ok()) << FormatTreeDiff(diff);
  const TreeDifference* split =
      Find(diff.expected, "split_gate_up", "model.layers.{i}.mlp.gate_up_proj");
  ASSERT_NE(split, nullptr) << FormatTreeDiff(diff);
  EXPECT_EQ(split->reason, "TP requires separate sharding of gate and up");

  Mutable(reference, "model.layers.1.mlp.gate_up_proj").parameters[0].shape = {600, 128};
  const TreeDifference d = OnlyReal(DiffTrees(reference, port));
  EXPECT_EQ(d.category, "shape_mismatch");
  EXPECT_EQ(d.reason,
            "weight is [600, 128] in the reference; the split parts give [640, 128] (rows 320 + "
            "320)");
}

TEST(TreeDiffTest, ALayerWithoutRotaryIsMissing) {
  const ModelConfig config = Tiny("tiny-llama");
  ModuleNode port = PortModuleTree(config, {});
  Remove(port, "model.layers.1.self_attn", "rotary_emb");
  const TreeDifference d = OnlyReal(DiffTrees(ReferenceModuleTree(config), port));
  EXPECT_EQ(d.category, "missing_module");
  EXPECT_EQ(d.source_path, "model.rotary_emb");
  EXPECT_EQ(d.target_path, "model.layers.1.self_attn.rotary_emb");

  Remove(port, "model.layers.0.self_attn", "rotary_emb");
  const TreeDifference none = OnlyReal(DiffTrees(ReferenceModuleTree(config), port));
  EXPECT_EQ(none.category, "missing_module");
  EXPECT_EQ(none.target_path, "model.rotary_emb");
}

TEST(TreeDiffTest, ClassRulesAreChecked) {
  const ExpectedDifferences& table = DefaultExpectedDifferences();
  EXPECT_EQ(table.FindClassRename("Qwen2RMSNorm", "CustomRMSNorm")->category, "framework_norm");
  EXPECT_EQ(table.FindClassRename("MistralMLP", "NeuronMistralMLP")->category, "class_prefix");
  EXPECT_EQ(table.FindClassRename("Linear", "RowParallelLinear")->category, "tp_sharding");
  EXPECT_EQ(table.FindClassRename("MistralMLP", "NeuronLlamaMLP"), nullptr);
  EXPECT_EQ(table.FindClassRename("Embedding", "ColumnParallelLinear"), nullptr);
}

}  // namespace
}  // namespace equiv
