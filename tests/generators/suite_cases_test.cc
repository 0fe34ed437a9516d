#include "generators/suite_cases.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "libequiv/config/model_config.h"
#include "generators/builtin_port_mapping.h"
#include "generators/component_mapping.h"
#include "libequiv/tensor/error.h"
#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing_support::ErrorOf;
using json = nlohmann::json;

ModelConfig Config(const std::string& name) {
  return LoadModelConfig(std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/" + name);
}
ModelConfig TinyLlama() { return Config("tiny-llama.json"); }

ModelConfig WithLayers(int64_t layers) {
  json doc = ToJson(TinyLlama());
  doc["num_hidden_layers"] = layers;
  return ParseModelConfig(doc.dump());
}

// A mapping over all layers with the given entries.
ComponentMapping Mapping(json entries, json variables = {{"i", "num_hidden_layers"}}) {
  return ParseComponentMapping(json{{"variables", variables}, {"mapping", entries}}.dump());
}

std::vector<std::string> Names(const std::vector<ComponentCase>& cases) {
  std::vector<std::string> names;
  for (const ComponentCase& c : cases) names.push_back(c.name);
  return names;
}

std::string CasesError(const json& entries, json variables = {{"i", "num_hidden_layers"}}) {
  return ErrorOf([&] { SuiteCases(Mapping(entries, variables), TinyLlama()); });
}

const std::vector<std::string> kTinyPortCases = {
    "layers_0_input_layernorm",
    "layers_0_post_attention_layernorm",
    "layers_1_input_layernorm",
    "layers_1_post_attention_layernorm",
    "final_norm",
    "embedding",
    "layers_0_qkv_proj",
    "layers_1_qkv_proj",
    "layers_0_rotary",
    "layers_1_rotary",
    "layers_0_mlp",
    "layers_1_mlp",
    "layers_0_attention",
    "layers_1_attention",
    "lm_head",
    "layers_0_decoder_layer",
    "layers_1_decoder_layer",
};

TEST(SuiteCasesTest, BuiltinMappingOnTinyLlamaInBottomUpOrder) {
  const std::vector<ComponentCase> cases = SuiteCasesForPort(TinyLlama());
  EXPECT_THAT(Names(cases), ElementsAreArray(kTinyPortCases));
  for (std::size_t k = 0; k < cases.size(); ++k) {
    EXPECT_EQ(cases[k].order, static_cast<int64_t>(k)) << cases[k].name;
    EXPECT_FALSE(cases[k].reasoning.empty()) << cases[k].name;
  }
  EXPECT_EQ(Names(SuiteCases(BuiltinPortMapping(), TinyLlama())), Names(cases));
}

TEST(SuiteCasesTest, CaseFieldsComeFromTheEntry) {
  const std::vector<ComponentCase> cases = SuiteCasesForPort(TinyLlama());
  const ComponentCase& qkv = cases[7];
  EXPECT_EQ(qkv.name, "layers_1_qkv_proj");
  EXPECT_EQ(qkv.component, Component::kQkvProj);
  EXPECT_EQ(qkv.layer, 1);
  EXPECT_THAT(qkv.source_paths,
              ElementsAre("model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.k_proj",
                          "model.layers.1.self_attn.v_proj"));
  EXPECT_THAT(qkv.target_paths, ElementsAre("model.layers.1.self_attn.qkv_proj"));
  EXPECT_THAT(qkv.reasoning, HasSubstr("fused"));
  const ComponentCase& rotary = cases[9];
  EXPECT_EQ(rotary.name, "layers_1_rotary");
  EXPECT_EQ(rotary.component, Component::kRotary);
  EXPECT_EQ(rotary.layer, 1);
  EXPECT_THAT(rotary.source_paths, ElementsAre("model.rotary_emb"));
  EXPECT_THAT(rotary.target_paths, ElementsAre("model.layers.1.self_attn.rotary_emb"));
  const ComponentCase& embedding = cases[5];
  EXPECT_EQ(embedding.component, Component::kEmbedding);
  EXPECT_EQ(embedding.layer, -1);
}

TEST(SuiteCasesTest, BuiltinMappingFitsEveryModelType) {
  for (const char* name : {"tiny-mistral.json", "tiny-qwen2.json", "tiny-llama-yarn.json"}) {
    EXPECT_EQ(SuiteCasesForPort(Config(name)).size(),
              3u + 7u * static_cast<std::size_t>(Config(name).num_hidden_layers))
        << name;
  }
}

TEST(SuiteCasesTest, FirstMiddleLastOnFiveLayers) {
  const ModelConfig config = WithLayers(5);
  const std::vector<ComponentCase> all = SuiteCasesForPort(config);
  EXPECT_EQ(all.size(), 3u + 7u * 5u);
  const std::vector<ComponentCase> cases =
      SuiteCasesForPort(config, LayerSampling::FirstMiddleLast());
  std::vector<int64_t> mlp_layers;
  for (const ComponentCase& c : cases) {
    if (c.component == Component::kMlp) mlp_layers.push_back(c.layer);
    if (IsPerLayer(c.component)) {
      EXPECT_TRUE(c.layer == 0 || c.layer == 2 || c.layer == 4) << c.name;
    }
  }
  EXPECT_THAT(mlp_layers, ElementsAre(0, 2, 4));
  EXPECT_EQ(cases.size(), 3u + 7u * 3u);
  EXPECT_EQ(cases[0].name, "layers_0_input_layernorm");
  EXPECT_EQ(cases[2].name, "layers_2_input_layernorm");
  EXPECT_EQ(cases.back().name, "layers_4_decoder_layer");
  for (std::size_t k = 0; k < cases.size(); ++k) EXPECT_EQ(cases[k].order, static_cast<int64_t>(k));
}

TEST(SuiteCasesTest, EverySecondLayerKeepsTheLast) {
  std::vector<int64_t> layers;
  for (const ComponentCase& c : SuiteCasesForPort(WithLayers(6), LayerSampling::Every(2))) {
    if (c.component == Component::kDecoderLayer) layers.push_back(c.layer);
  }
  EXPECT_THAT(layers, ElementsAre(0, 2, 4, 5));
}

TEST(SuiteCasesTest, QkvInAnyOrderAndFixedLayers) {
  const std::vector<ComponentCase> cases =
      SuiteCases(Mapping({{{"model.layers.1.self_attn.v_proj", "model.layers.1.self_attn.q_proj",
                            "model.layers.1.self_attn.k_proj"},
                           {"model.layers.1.self_attn.qkv_proj"}}},
                         json::object()),
                 TinyLlama());
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].name, "layers_1_qkv_proj");
  EXPECT_EQ(cases[0].order, 0);
}

TEST(SuiteCasesTest, NoCounterpartEntriesMakeNoCase) {
  const std::vector<ComponentCase> cases =
      SuiteCases(Mapping({{{"model.norm"}, {"model.norm"}},
                          {json::array(), {"model.layers.{i}.self_attn.o_proj"}, "NxD wrapper"},
                          {{"model.layers.{i}.mlp.act_fn"}, json::array(), "inside the MLP"}}),
                 TinyLlama());
  EXPECT_THAT(Names(cases), ElementsAre("final_norm"));
}

TEST(SuiteCasesTest, UnknownSourcePathIsNamed) {
  EXPECT_EQ(CasesError({{{"model.layers.{i}.feed_forward"}, {"model.layers.{i}.mlp"}}}),
            "component_mapping.json: mapping[0] (i = 0): source[0] = "
            "\"model.layers.0.feed_forward\" is not a module of the reference LlamaForCausalLM");
  // No-counterpart entries' source paths are checked too.
  EXPECT_THAT(
      CasesError({{{"model.bogus"}, json::array(), "gone"}}),
      HasSubstr("mapping[0]: source[0] = \"model.bogus\" is not a module of the reference"));
  EXPECT_THAT(ErrorOf([] {
                SuiteCases(Mapping({{{"model.norm"}, {"model.norm"}},
                                    {{"model.layers.0.mlp"}, {"x"}},
                                    {{"model.layers.0.self_attn.qkv_proj"}, {"x"}}},
                                   json::object()),
                           Config("tiny-qwen2.json"));
              }),
              HasSubstr("mapping[2]: source[0] = \"model.layers.0.self_attn.qkv_proj\" is not a "
                        "module of the reference Qwen2ForCausalLM"));
}

TEST(SuiteCasesTest, UnsupportedModuleSetListsTheKinds) {
  const std::string message =
      CasesError({{{"model.layers.{i}.mlp.gate_proj"}, {"model.layers.{i}.mlp.gate_proj"}}});
  EXPECT_THAT(message,
              AllOf(HasSubstr("component_mapping.json: mapping[0] (i = 0): source "
                              "[\"model.layers.0.mlp.gate_proj\"] is no component the suite runs; "
                              "supported module sets: model.embed_tokens; "),
                    HasSubstr("model.layers.N.self_attn.q_proj, k_proj and v_proj together"),
                    HasSubstr("model.rotary_emb"), HasSubstr("; lm_head")));
  // Two of the three projections, projections of two layers, two whole modules.
  EXPECT_THAT(
      CasesError({{{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj"}, {"x"}}}),
      HasSubstr("is no component the suite runs"));
  EXPECT_THAT(CasesError({{{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
                            "model.layers.1.self_attn.v_proj"},
                           {"x"}}}),
              HasSubstr("is no component the suite runs"));
  EXPECT_THAT(CasesError({{{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
                            "model.layers.0.self_attn.o_proj"},
                           {"x"}}}),
              HasSubstr("is no component the suite runs"));
  EXPECT_THAT(CasesError({{{"model.norm", "lm_head"}, {"x"}}}),
              HasSubstr("source [\"model.norm\", \"lm_head\"] is no component"));
  EXPECT_THAT(CasesError({{{"model"}, {"model"}}}), HasSubstr("is no component the suite runs"));
}

TEST(SuiteCasesTest, DuplicateComponentNamesBothEntries) {
  EXPECT_EQ(CasesError({{{"model.layers.{i}.mlp"}, {"model.layers.{i}.mlp"}},
                        {{"model.norm"}, {"model.norm"}},
                        {{"model.layers.1.mlp"}, {"model.layers.1.mlp_again"}}}),
            "component_mapping.json: mapping[2] maps layers_1_mlp, which mapping[0] (i = 1) "
            "already maps");
  // Sampling does not hide the mistake.
  EXPECT_THAT(ErrorOf([] {
                SuiteCases(Mapping({{{"model.layers.{i}"}, {"a"}}, {{"model.layers.1"}, {"b"}}}),
                           WithLayers(5), LayerSampling::FirstMiddleLast());
              }),
              HasSubstr("mapping[1] maps layers_1_decoder_layer, which mapping[0] (i = 1)"));
}

TEST(SuiteCasesTest, LayerBeyondTheModelNamesTheVariableValue) {
  EXPECT_EQ(CasesError({{{"model.layers.{i}.mlp"}, {"model.layers.{i}.mlp"}}}, {{"i", {0, 7}}}),
            "component_mapping.json: mapping[0] (i = 7): source[0] = \"model.layers.7.mlp\" names "
            "layer 7, beyond the model's num_hidden_layers = 2");
  EXPECT_THAT(CasesError({{{"model.layers.99999999999999999999.mlp"}, {"x"}}}),
              HasSubstr("names layer 2147483648, beyond"));
}

TEST(SuiteCasesTest, RotaryTakesItsLayerFromTheTarget) {
  EXPECT_THAT(CasesError({{{"model.rotary_emb"}, {"model.rotary_emb"}}}),
              HasSubstr("mapping[0]: target [\"model.rotary_emb\"] names no layer; "
                        "model.rotary_emb is one module in the reference"));
  EXPECT_EQ(CasesError({{{"model.rotary_emb"}, {"model.layers.{i}.self_attn.rotary_emb"}}},
                       {{"i", {1, 2}}}),
            "component_mapping.json: mapping[0] (i = 2): target[0] = "
            "\"model.layers.2.self_attn.rotary_emb\" names layer 2, beyond the model's "
            "num_hidden_layers = 2");
  EXPECT_THAT(CasesError({{{"model.rotary_emb"}, {"model.layers.0.rope", "model.layers.1.rope"}}}),
              HasSubstr("target[1] = \"model.layers.1.rope\" names layer 1, but target[0] names "
                        "layer 0"));
  // Any prefix before layers.N: ports nest the model differently.
  const std::vector<ComponentCase> cases = SuiteCases(
      Mapping({{{"model.rotary_emb"}, {"model.language_model.layers.{i}.rotary"}}}), TinyLlama());
  EXPECT_THAT(Names(cases), ElementsAre("layers_0_rotary", "layers_1_rotary"));
}

TEST(SuiteCasesTest, CaseNames) {
  EXPECT_EQ(CaseName(Component::kMlp, 3), "layers_3_mlp");
  EXPECT_EQ(CaseName(Component::kInputNorm, 0), "layers_0_input_layernorm");
  EXPECT_EQ(CaseName(Component::kEmbedding, -1), "embedding");
  EXPECT_EQ(CaseName(Component::kFinalNorm, -1), "final_norm");
  EXPECT_EQ(CaseName(Component::kLmHead, -1), "lm_head");
}

TEST(SuiteCasesTest, EmptyWhenSamplingKeepsOnlyWholeModelCases) {
  const std::vector<ComponentCase> cases =
      SuiteCases(Mapping({{{"model.layers.{i}.mlp"}, {"m"}}}, {{"i", {1}}}), WithLayers(5),
                 LayerSampling::FirstMiddleLast());
  EXPECT_THAT(cases, IsEmpty());
}

}  // namespace
}  // namespace equiv
