#include "libequiv/scaffolding/mapping_coverage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libequiv/models/llama_port.h"
#include "libequiv/config/model_config.h"
#include "libequiv/models/reference_model.h"
#include "generators/builtin_port_mapping.h"

namespace equiv {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

ModelConfig Tiny(const std::string& name) {
  return LoadModelConfig(std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/" + name + ".json");
}

// component_mapping.json for tiny-llama against the fused port, {i} expanded by hand.
std::vector<MappedPaths> CompleteMapping() {
  std::vector<MappedPaths> m;
  const auto add = [&](std::vector<std::string> source, std::vector<std::string> target) {
    m.push_back({static_cast<int64_t>(m.size()), std::move(source), std::move(target)});
  };
  add({"model.embed_tokens"}, {"model.embed_tokens"});
  for (const std::string i : {"0", "1"}) {
    const std::string ref = "model.layers." + i + ".";
    add({ref + "input_layernorm"}, {ref + "input_layernorm"});
    add({ref + "self_attn.q_proj", ref + "self_attn.k_proj", ref + "self_attn.v_proj"},
        {ref + "self_attn.qkv_proj.Wqkv"});
    add({ref + "self_attn.o_proj"}, {ref + "self_attn.o_proj.o_proj"});
    add({ref + "post_attention_layernorm"}, {ref + "post_attention_layernorm"});
    add({ref + "mlp"}, {ref + "mlp"});  // covers gate/up/down and act_fn on both sides
  }
  add({"model.rotary_emb"},
      {"model.layers.0.self_attn.rotary_emb", "model.layers.1.self_attn.rotary_emb"});
  add({"model.norm"}, {"model.norm"});
  add({"lm_head"}, {"lm_head"});
  return m;
}

class MappingCoverageTest : public ::testing::Test {
 protected:
  ModelConfig config_ = Tiny("tiny-llama");
  ModuleNode reference_ = ReferenceModuleTree(config_);
  ModuleNode port_ = PortModuleTree(config_, {});
};

TEST_F(MappingCoverageTest, ACompleteMappingCoversBothTrees) {
  const MappingCoverage coverage = CheckMappingCoverage(CompleteMapping(), reference_, port_);
  EXPECT_TRUE(coverage.ok()) << FormatCoverage(coverage);
  EXPECT_EQ(FormatCoverage(coverage),
            "mapping coverage: 0 mapped paths absent, 0 unmapped leaves\n");
  EXPECT_EQ(ToJson(coverage)["ok"], true);
}

TEST_F(MappingCoverageTest, AMappedPathAbsentFromItsTreeIsReported) {
  std::vector<MappedPaths> mapping = CompleteMapping();
  mapping[2].target = {"model.layers.0.self_attn.qkv_proj.qkv"};  // a typo for Wqkv
  mapping[3].source.push_back("model.layers.0.self_attn.out_proj");
  const MappingCoverage coverage = CheckMappingCoverage(mapping, reference_, port_);
  EXPECT_FALSE(coverage.ok());
  EXPECT_THAT(coverage.missing_target,
              ElementsAre(MissingMappedPath{2, "model.layers.0.self_attn.qkv_proj.qkv"}));
  EXPECT_THAT(coverage.missing_source,
              ElementsAre(MissingMappedPath{3, "model.layers.0.self_attn.out_proj"}));
  EXPECT_THAT(coverage.unmapped_source_leaves, IsEmpty());
  EXPECT_THAT(coverage.unmapped_target_leaves,
              ElementsAre("model.layers.0.self_attn.qkv_proj.Wqkv"));
  EXPECT_EQ(FormatCoverage(coverage),
            "mapping coverage: 2 mapped paths absent, 1 unmapped leaf\n"
            "  entry 3: source model.layers.0.self_attn.out_proj is not a module of the source "
            "tree\n"
            "  entry 2: target model.layers.0.self_attn.qkv_proj.qkv is not a module of the "
            "target tree\n"
            "  unmapped target leaf model.layers.0.self_attn.qkv_proj.Wqkv\n");
  const nlohmann::json json = ToJson(coverage);
  EXPECT_EQ(json["missing_target"][0]["entry"], 2);
  EXPECT_EQ(json["missing_target"][0]["path"], "model.layers.0.self_attn.qkv_proj.qkv");
}

TEST_F(MappingCoverageTest, UnmappedLeavesAreListedInTreeOrder) {
  std::vector<MappedPaths> mapping = CompleteMapping();
  mapping.erase(mapping.begin() + 10);  // layer 1's mlp
  mapping.back().target.clear();        // lm_head: "no counterpart" documented on the port side
  const MappingCoverage coverage = CheckMappingCoverage(mapping, reference_, port_);
  EXPECT_THAT(coverage.missing_source, IsEmpty());
  EXPECT_THAT(coverage.unmapped_source_leaves,
              ElementsAre("model.layers.1.mlp.gate_proj", "model.layers.1.mlp.up_proj",
                          "model.layers.1.mlp.down_proj", "model.layers.1.mlp.act_fn"));
  EXPECT_THAT(coverage.unmapped_target_leaves,
              ElementsAre("model.layers.1.mlp.gate_proj", "model.layers.1.mlp.up_proj",
                          "model.layers.1.mlp.down_proj", "model.layers.1.mlp.act_fn", "lm_head"));
}

TEST_F(MappingCoverageTest, TheRootCoversEverything) {
  EXPECT_TRUE(CheckMappingCoverage({{0, {""}, {""}}}, reference_, port_).ok());
  const MappingCoverage none = CheckMappingCoverage({}, reference_, port_);
  EXPECT_EQ(none.unmapped_source_leaves.size(),
            24u);  // 2 x 10 per layer, embed, norm, rotary, head
  EXPECT_EQ(none.unmapped_target_leaves.size(), 21u);  // 2 x 9 per layer, embed, norm, head
  EXPECT_EQ(none.unmapped_target_leaves.front(), "model.embed_tokens");
}

// The built-in mapping names only modules both trees have, and leaves nothing unmapped.
TEST(BuiltinMappingCoverageTest, CoversBothTrees) {
  const ModelConfig config =
      LoadModelConfig(std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/tiny-llama.json");
  const MappingCoverage coverage =
      CheckMappingCoverage(MappedPathsOf(Expand(BuiltinPortMapping(), config)),
                           ReferenceModuleTree(config), PortModuleTree(config, {}));
  EXPECT_TRUE(coverage.missing_source.empty()) << FormatCoverage(coverage);
  EXPECT_TRUE(coverage.missing_target.empty()) << FormatCoverage(coverage);
  EXPECT_TRUE(coverage.ok()) << FormatCoverage(coverage);
}

}  // namespace
}  // namespace equiv
