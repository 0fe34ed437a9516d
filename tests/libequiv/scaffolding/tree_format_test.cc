#include "libequiv/scaffolding/tree_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libequiv/device/device_config.h"
#include "libequiv/models/llama_port.h"
#include "libequiv/config/model_config.h"
#include "libequiv/models/reference_model.h"
#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::equiv::testing_support::ErrorOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

ModelConfig Tiny(const std::string& name) {
  return LoadModelConfig(std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/" + name + ".json");
}

ModuleNode& Mutable(ModuleNode& root, const std::string& path) {
  const ModuleNode* node = FindModule(root, path);
  EXPECT_NE(node, nullptr) << path;
  return const_cast<ModuleNode&>(*node);
}

std::vector<std::string> ChildNames(const ModuleNode& node) {
  std::vector<std::string> names;
  for (const ModuleNode& child : node.children) names.push_back(child.name);
  return names;
}

TEST(TreeFormatTest, FullTreeJsonRoundTrips) {
  for (const char* name : {"tiny-llama", "tiny-mistral", "tiny-qwen2"}) {
    const ModelConfig config = Tiny(name);
    for (const ModuleNode& tree :
         {ReferenceModuleTree(config), PortModuleTree(config, {}),
          PortModuleTree(config, device::DeviceConfig{.fused_qkv = false})}) {
      const nlohmann::json json = ToJson(tree);
      EXPECT_EQ(ModuleTreeFromJson(json, name), tree) << name;
      EXPECT_EQ(ModuleTreeFromJson(nlohmann::json::parse(json.dump()), name), tree) << name;
    }
  }
}

TEST(TreeFormatTest, JsonHasNamesClassesAndShapes) {
  const nlohmann::json json = ToJson(ReferenceModuleTree(Tiny("tiny-llama")));
  EXPECT_EQ(json["class"], "LlamaForCausalLM");
  EXPECT_EQ(json["name"], "");
  EXPECT_FALSE(json.contains("repeat"));
  const nlohmann::json& lm_head = json["children"][1];
  EXPECT_EQ(lm_head["name"], "lm_head");
  EXPECT_EQ(lm_head["class"], "Linear");
  EXPECT_EQ(lm_head["parameters"],
            nlohmann::json::parse(R"([{"name": "weight", "shape": [256, 128]}])"));
  EXPECT_EQ(lm_head["children"], nlohmann::json::array());
}

TEST(TreeFormatTest, FromJsonErrorsNameTheJsonPath) {
  const auto read = [](const char* text) {
    return ErrorOf([&] { ModuleTreeFromJson(nlohmann::json::parse(text), "tree.json"); });
  };
  EXPECT_EQ(read("[]"), "tree.json: $: expected an object, got array");
  EXPECT_EQ(read(R"({"name": ""})"), "tree.json: $: missing \"class\"");
  EXPECT_EQ(read(R"({"name": "", "class": 3})"),
            "tree.json: $.class: expected a string, got number");
  EXPECT_EQ(read(R"({"name": "", "class": "M", "childern": []})"),
            "tree.json: $: unknown key \"childern\" (expected name, class, parameters, children, "
            "repeat)");
  EXPECT_EQ(read(R"({"name": "", "class": "M", "children": [{"name": "a", "class": "L",
                   "parameters": [{"name": "weight", "shape": [4, -1]}]}]})"),
            "tree.json: $.children[0].parameters[0].shape[1]: expected a non-negative integer, "
            "got -1");
  EXPECT_EQ(read(R"({"name": "", "class": "M", "children": [{"name": "a", "class": "L",
                   "parameters": [{"name": "w", "shape": [1]}, {"name": "w", "shape": [1]}]}]})"),
            "tree.json: $.children[0].parameters[1].name: duplicate parameter \"w\"");
  EXPECT_EQ(read(R"({"name": "", "class": "M", "children": [{"name": "a", "class": "L"},
                   {"name": "a", "class": "L"}]})"),
            "tree.json: $.children[1].name: duplicate child name \"a\"");
  EXPECT_EQ(read(R"({"name": "", "class": "M", "children": [{"name": "a.b", "class": "L"}]})"),
            "tree.json: $.children[0].name: a child's name contains '.': \"a.b\"");
  EXPECT_EQ(read(R"({"name": "", "class": "M", "children": [{"name": "", "class": "L"}]})"),
            "tree.json: $.children[0].name: a child's name is empty");
  EXPECT_EQ(read(R"({"name": "", "class": "M", "children": [{"name": "0..2", "class": "L",
                   "repeat": 2}]})"),
            "tree.json: $.children[0].name: a node with repeat 2 must be named \"first..last\" "
            "over 2 indices, got \"0..2\"");
  EXPECT_EQ(read(R"({"name": "", "class": "M", "repeat": 0})"),
            "tree.json: $.repeat: expected an integer >= 1, got 0");
  EXPECT_EQ(read(R"({"name": "", "class": "M", "parameters": {}})"),
            "tree.json: $.parameters: expected an array, got object");
}

TEST(TreeFormatTest, CompressFoldsIdenticalLayersIntoOneNode) {
  const ModuleNode tree = ReferenceModuleTree(Tiny("tiny-llama"));
  const ModuleNode compressed = CompressTree(tree);
  const ModuleNode* layers = FindModule(compressed, "model.layers");
  ASSERT_NE(layers, nullptr);
  ASSERT_EQ(layers->children.size(), 1u);
  EXPECT_EQ(layers->children[0].name, "0..1");
  EXPECT_EQ(layers->children[0].repeat, 2);
  EXPECT_EQ(layers->children[0].class_name, "LlamaDecoderLayer");
  EXPECT_EQ(ExpandTree(compressed), tree);
  const nlohmann::json json = ToJson(compressed);
  EXPECT_EQ(json["children"][0]["children"][1]["children"][0]["repeat"], 2);
  EXPECT_EQ(ModuleTreeFromJson(json, "compressed"), compressed);
}

TEST(TreeFormatTest, PrettyCompressedTreeShowsTheCount) {
  const std::string pretty = PrettyTree(CompressTree(ReferenceModuleTree(Tiny("tiny-llama"))));
  EXPECT_EQ(pretty,
            "LlamaForCausalLM\n"
            "  (model): LlamaModel\n"
            "    (embed_tokens): Embedding  weight [256, 128]\n"
            "    (layers): ModuleList\n"
            "      (0..1): 2 x LlamaDecoderLayer\n"
            "        (self_attn): LlamaAttention\n"
            "          (q_proj): Linear  weight [128, 128]\n"
            "          (k_proj): Linear  weight [32, 128]\n"
            "          (v_proj): Linear  weight [32, 128]\n"
            "          (o_proj): Linear  weight [128, 128]\n"
            "        (mlp): LlamaMLP\n"
            "          (gate_proj): Linear  weight [320, 128]\n"
            "          (up_proj): Linear  weight [320, 128]\n"
            "          (down_proj): Linear  weight [128, 320]\n"
            "          (act_fn): SiLU\n"
            "        (input_layernorm): LlamaRMSNorm  weight [128]\n"
            "        (post_attention_layernorm): LlamaRMSNorm  weight [128]\n"
            "    (norm): LlamaRMSNorm  weight [128]\n"
            "    (rotary_emb): LlamaRotaryEmbedding\n"
            "  (lm_head): Linear  weight [256, 128]\n");
}

TEST(TreeFormatTest, ADifferentLayerKeepsSeparateRuns) {
  ModuleNode tree = ReferenceModuleTree(Tiny("tiny-llama"));
  Mutable(tree, "model.layers.1.mlp.down_proj").parameters[0].shape = {128, 300};
  const ModuleNode compressed = CompressTree(tree);
  EXPECT_THAT(ChildNames(*FindModule(compressed, "model.layers")), ElementsAre("0", "1"));
  EXPECT_EQ(compressed, tree);  // nothing folds

  ModelConfig four = Tiny("tiny-llama");
  four.num_hidden_layers = 4;
  ModuleNode longer = ReferenceModuleTree(four);
  Mutable(longer, "model.layers.3").children.pop_back();  // layer 3 lacks a norm
  const ModuleNode runs = CompressTree(longer);
  const ModuleNode& layers = *FindModule(runs, "model.layers");
  EXPECT_THAT(ChildNames(layers), ElementsAre("0..2", "3"));
  EXPECT_EQ(layers.children[0].repeat, 3);
  EXPECT_EQ(layers.children[1].repeat, 1);
  EXPECT_THAT(PrettyTree(runs), HasSubstr("      (0..2): 3 x LlamaDecoderLayer\n"));
  EXPECT_THAT(PrettyTree(runs), HasSubstr("      (3): LlamaDecoderLayer\n"));
  EXPECT_EQ(ExpandTree(runs), longer);
}

TEST(TreeFormatTest, OnlyModuleListsFold) {
  const ModuleNode leaf{"", "Linear", {{"weight", {2, 2}}}, {}};
  ModuleNode a = leaf;
  a.name = "0";
  ModuleNode b = leaf;
  b.name = "1";
  const ModuleNode sequential{"", "Sequential", {}, {a, b}};
  EXPECT_EQ(CompressTree(sequential), sequential);
  const ModuleNode list{"", "ModuleList", {}, {a, b}};
  EXPECT_THAT(ChildNames(CompressTree(list)), ElementsAre("0..1"));
  const ModuleNode unordered{"", "ModuleList", {}, {b, a}};
  EXPECT_EQ(CompressTree(unordered), unordered);
}

TEST(TreeFormatTest, CompressedFlatPathsUseIndexVariables) {
  const ModuleNode tree = ReferenceModuleTree(Tiny("tiny-llama"));
  const std::vector<std::string> paths = CompressedFlatPaths(CompressTree(tree));
  EXPECT_THAT(paths, Contains("model.layers.{i}"));
  EXPECT_THAT(paths, Contains("model.layers.{i}.mlp.gate_proj"));
  EXPECT_THAT(paths, Contains("model.rotary_emb"));
  EXPECT_THAT(paths, Not(Contains("model.layers.0")));
  EXPECT_EQ(paths.size(), 19u);  // 32 full paths minus the second layer's 13
  EXPECT_EQ(CompressedFlatPaths(tree), FlatPaths(tree));  // nothing folded: the same paths

  const ModuleNode experts{
      "experts", "ModuleList", {}, {{"0", "Expert", {}, {}}, {"1", "Expert", {}, {}}}};
  const ModuleNode nested{"",
                          "M",
                          {},
                          {{"blocks",
                            "ModuleList",
                            {},
                            {{"0", "Block", {}, {experts}}, {"1", "Block", {}, {experts}}}}}};
  EXPECT_THAT(CompressedFlatPaths(CompressTree(nested)),
              ElementsAre("blocks", "blocks.{i}", "blocks.{i}.experts", "blocks.{i}.experts.{j}"));
}

TEST(TreeFormatTest, SeveralRunsKeepTheirNamesInFlatPaths) {
  ModelConfig four = Tiny("tiny-llama");
  four.num_hidden_layers = 4;
  ModuleNode tree = ReferenceModuleTree(four);
  Mutable(tree, "model.layers.3.mlp.act_fn").class_name = "GELUActivation";
  const std::vector<std::string> paths = CompressedFlatPaths(CompressTree(tree));
  EXPECT_THAT(paths, Contains("model.layers.0..2.mlp.act_fn"));
  EXPECT_THAT(paths, Contains("model.layers.3.mlp.act_fn"));
}

TEST(TreeFormatTest, ExpandRejectsAFoldedNodeWithoutARange) {
  ModuleNode bad{"", "ModuleList", {}, {{"layers", "Layer", {}, {}, 3}}};
  EXPECT_EQ(ErrorOf([&] { ExpandTree(bad); }),
            "ExpandTree: node \"layers\" under \"\" has repeat 3 but is not named "
            "\"first..last\" over as many indices");
}

}  // namespace
}  // namespace equiv
