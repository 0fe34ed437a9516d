#include "generators/dump_cases.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "libequiv/families/registry.h"
#include "tests/support/dump_files.h"
#include "tests/support/error_of.h"
#include "tests/support/test_files.h"

namespace equiv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_support::DumpedTriple;
using testing_support::ErrorOf;
using testing_support::WriteDump;

std::string Dir() { return testing_support::TestDir(); }

ModelConfig TinyLlama() {
  return LoadModelConfig(std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/tiny-llama.json");
}

std::string Meta(const std::string& path, const std::string& input) {
  return R"({"module_path": ")" + path + R"(", "input_kind": ")" + input +
         R"(", "positions": [0, 1, 2]})";
}

TEST(LabelModulePathTest, NamesTheKindAndLayerOfAnHfPath) {
  const auto table = ArchitectureOf(TinyLlama()).Components();
  const auto attention = LabelModulePath("model.layers.3.self_attn", table);
  ASSERT_TRUE(attention);
  EXPECT_EQ(attention->kind->name, "attention");
  EXPECT_EQ(attention->layer, 3);
  EXPECT_EQ(attention->case_name, "layers_3_attention");
  EXPECT_EQ(LabelModulePath("model.layers.0", table)->kind->name, "decoder_layer");
  EXPECT_EQ(LabelModulePath("model.layers.0.self_attn.q_proj", table)->case_name,
            "layers_0_qkv_proj_q_proj");
  EXPECT_EQ(LabelModulePath("model.embed_tokens", table)->case_name, "embedding");
  EXPECT_EQ(LabelModulePath("model.rotary_emb", table)->case_name, "rotary");
  EXPECT_EQ(LabelModulePath("", table)->kind->name, "causal_lm");
  EXPECT_FALSE(LabelModulePath("model.layers.x.mlp", table));
  EXPECT_FALSE(LabelModulePath("vision_tower.blocks.0", table));
  EXPECT_EQ(LabelModulePathInAnyFamily("model.layers.1.mlp")->case_name, "layers_1_mlp");
}

TEST(DumpCasesTest, LabelsFromTheMetadataInBottomUpOrder) {
  const std::string dump = Dir() + "/dump.safetensors";
  WriteDump(dump, {{.name = "model.layers.0/long_sequence",
                    .metadata = Meta("model.layers.0", "long_sequence")},
                   {.name = "model.layers.0.self_attn/long_sequence",
                    .metadata = Meta("model.layers.0.self_attn", "long_sequence")},
                   {.name = "model.layers.0.mlp/normal"},  // no metadata: labelled from its name
                   {.name = "model.layers.0.input_layernorm",
                    .metadata = Meta("model.layers.0.input_layernorm", "captured")}});
  const ModelConfig config = TinyLlama();
  const std::vector<DumpCase> cases =
      DumpCases(DumpFiles(dump), {.table = ArchitectureOf(config).Components(), .config = &config});
  std::vector<std::string> names;
  for (const DumpCase& c : cases) names.push_back(c.Name());
  EXPECT_THAT(names, ElementsAre("layers_0_input_layernorm/captured", "layers_0_mlp/normal",
                                 "layers_0_attention/long_sequence",
                                 "layers_0_decoder_layer/long_sequence"));
  const DumpCase& attention = cases[2];
  EXPECT_EQ(attention.component, "attention");
  EXPECT_EQ(attention.layer, 0);
  EXPECT_EQ(attention.module_path, "model.layers.0.self_attn");
  EXPECT_THAT(attention.source_paths, ElementsAre("model.layers.0.self_attn"));
  EXPECT_EQ(attention.triple, "model.layers.0.self_attn/long_sequence");
  EXPECT_EQ(attention.file, dump);
  EXPECT_THAT(*attention.positions, ElementsAre(0, 1, 2));
  EXPECT_EQ(cases[1].input, "normal");
  EXPECT_FALSE(cases[1].positions);
  for (std::size_t i = 1; i < cases.size(); ++i) EXPECT_GT(cases[i].order, cases[i - 1].order);

  // The three views, the batch of 1 squeezed.
  const SafetensorsFile file = SafetensorsFile::Open(dump);
  const Triple triple = DumpTripleViews(file, attention.triple);
  EXPECT_EQ(triple.target.shape().dims(), (std::vector<int64_t>{16, 8}));
}

TEST(DumpCasesTest, AFolderIsReadInNameOrderWithoutTeacherForcedDumps) {
  WriteDump(Dir() + "/b.safetensors", {{.name = "model.layers.1.mlp/normal"}});
  WriteDump(Dir() + "/a.safetensors", {{.name = "model.layers.0.mlp/normal"}});
  WriteDump(Dir() + "/logits.safetensors", {{.name = "prompt_0"}},
            {{"equiv.schema", "equiv.teacher_forced_dump"}});
  testing_support::WriteText(Dir() + "/notes.txt", "not a dump");
  const std::vector<std::string> files = DumpFiles(Dir());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_THAT(files[0], HasSubstr("/a.safetensors"));
  const std::vector<DumpCase> cases = DumpCases(files);
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].Name(), "layers_0_mlp/normal");
  EXPECT_EQ(cases[1].Name(), "layers_1_mlp/normal");
}

TEST(DumpCasesTest, APathOfNoFamilyKeepsItsNameAndGoesLast) {
  WriteDump(Dir() + "/d.safetensors",
            {{.name = "vision.blocks.0/normal"}, {.name = "model.layers.1.mlp/normal"}});
  const std::vector<DumpCase> cases = DumpCases(DumpFiles(Dir() + "/d.safetensors"));
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[1].Name(), "vision_blocks_0/normal");
  EXPECT_EQ(cases[1].component, "");
}

TEST(DumpCasesTest, TheBaselineMayBeNamedRefRegime) {
  const std::string path = Dir() + "/regime.safetensors";
  WriteDump(path, {{.name = "model.layers.1.mlp/normal", .r = 2, .baseline = ".ref_regime"},
                   {.name = "model.layers.0.mlp/normal", .baseline = ""}});
  const std::vector<DumpCase> cases = DumpCases(DumpFiles(path));
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].Name(), "layers_0_mlp/normal");
  EXPECT_THAT(cases[0].error, HasSubstr("has no model.layers.0.mlp/normal.ref_bf16 (or "
                                        "model.layers.0.mlp/normal.ref_regime)"));
  EXPECT_EQ(cases[1].error, "");
  const SafetensorsFile file = SafetensorsFile::Open(path);
  const Triple t = DumpTripleViews(file, cases[1].triple);
  EXPECT_EQ(t.ref_bf16.data(), file.View("model.layers.1.mlp/normal.ref_regime").data());
}

TEST(DumpCasesTest, ErrorsNameTheFileAndTheTriple) {
  const ModelConfig config = TinyLlama();  // 2 layers
  const DumpLabelling labelling{.table = ArchitectureOf(config).Components(), .config = &config};
  const std::string far = Dir() + "/far.safetensors";
  WriteDump(far, {{.name = "model.layers.7.mlp/normal"}});
  EXPECT_EQ(ErrorOf([&] { DumpCases({far}, labelling); }),
            far +
                ": triple \"model.layers.7.mlp/normal\": module path \"model.layers.7.mlp\" "
                "names layer 7, beyond the config's num_hidden_layers = 2");

  const std::string bad = Dir() + "/bad.safetensors";
  WriteDump(bad, {{.name = "x", .metadata = R"({"layer": "0"})"}});
  EXPECT_THAT(ErrorOf([&] { DumpCases({bad}); }),
              HasSubstr("metadata \"equiv.triple.x\": layer is a string, expected an integer or "
                        "null"));

  const std::string twice = Dir() + "/twice.safetensors";
  WriteDump(twice, {{.name = "model.layers.0.mlp"},
                    {.name = "m", .metadata = R"({"module_path": "model.layers.0.mlp"})"}});
  EXPECT_THAT(ErrorOf([&] { DumpCases({twice}); }),
              HasSubstr("are both the test \"layers_0_mlp/dumped\""));

  EXPECT_THAT(ErrorOf([&] { DumpFiles(Dir() + "/none"); }),
              HasSubstr("neither a folder of dumps nor a .safetensors file"));
  std::filesystem::create_directories(Dir() + "/empty");
  EXPECT_THAT(ErrorOf([&] { DumpFiles(Dir() + "/empty"); }), HasSubstr("no dumps in this folder"));
}

TEST(SqueezeBatchTest, OnlyALeadingBatchOfOneOfRankThree) {
  std::vector<float> values(6);
  EXPECT_EQ(SqueezeBatch(TensorView(values, Shape{1, 2, 3})).shape().dims(),
            (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(SqueezeBatch(TensorView(values, Shape{1, 6})).shape().dims(),
            (std::vector<int64_t>{1, 6}));
  EXPECT_EQ(SqueezeBatch(TensorView(values, Shape{2, 1, 3})).shape().dims(),
            (std::vector<int64_t>{2, 1, 3}));
}

}  // namespace
}  // namespace equiv
