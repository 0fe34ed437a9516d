#include "generators/component_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/families/registry.h"
#include "libequiv/tensor/error.h"
#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing_support::ErrorOf;
using json = nlohmann::json;

ModelConfig TinyLlama() {
  return LoadModelConfig(std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/tiny-llama.json");
}

// One valid entry per form; tests change one thing at a time.
json Mapping() {
  return {{"version", 1},
          {"variables", {{"i", "num_hidden_layers"}}},
          {"mapping",
           {{{"source", {"model.layers.{i}.mlp"}},
             {"target", {"model.layers.{i}.mlp"}},
             {"reasoning", "one to one"}},
            {{"model.norm"}, {"model.norm"}}}}};
}

ComponentMapping Parse(const json& doc) { return ParseComponentMapping(doc.dump()); }
std::string ParseError(const json& doc) {
  return ErrorOf([&] { Parse(doc); });
}
std::string ParseTextError(const std::string& text) {
  return ErrorOf([&] { ParseComponentMapping(text); });
}

json WithEntry(json doc, std::size_t index, json entry) {
  doc["mapping"][index] = std::move(entry);
  return doc;
}

TEST(ComponentMappingTest, ParsesBothEntryForms) {
  json doc = Mapping();
  doc["mapping"].push_back(
      {{"model.layers.{i}.self_attn"}, {"model.layers.{i}.self_attn"}, "array with reasoning"});
  const ComponentMapping m = Parse(doc);
  EXPECT_EQ(m.origin, "component_mapping.json");
  ASSERT_EQ(m.variables.size(), 1u);
  EXPECT_TRUE(m.variables.at("i").all_layers);
  EXPECT_THAT(
      m.entries,
      ElementsAre(MappingEntry{{"model.layers.{i}.mlp"}, {"model.layers.{i}.mlp"}, "one to one"},
                  MappingEntry{{"model.norm"}, {"model.norm"}, ""},
                  MappingEntry{{"model.layers.{i}.self_attn"},
                               {"model.layers.{i}.self_attn"},
                               "array with reasoning"}));
}

TEST(ComponentMappingTest, ExplicitValuesKeepTheirOrder) {
  json doc = Mapping();
  doc["variables"]["i"] = {4, 0, 2};
  EXPECT_EQ(Parse(doc).variables.at("i"), (VariableValues{false, {4, 0, 2}}));
}

TEST(ComponentMappingTest, NoCounterpartEntryWithReasoningParses) {
  json doc = Mapping();
  doc["mapping"].push_back({{"source", json::array()},
                            {"target", {"model.layers.{i}.self_attn.o_proj"}},
                            {"reasoning", "no counterpart: NxD wrapper"}});
  const ComponentMapping m = Parse(doc);
  EXPECT_TRUE(m.entries[2].NoCounterpart());
  EXPECT_FALSE(m.entries[0].NoCounterpart());
}

TEST(ComponentMappingTest, IgnoresUnknownTopLevelFieldsAndAllowsNoVersionOrVariables) {
  json doc = Mapping();
  doc["comment"] = "written by hand";
  doc.erase("version");
  EXPECT_NO_THROW(Parse(doc));
  json plain = {{"mapping", {{{"model.norm"}, {"model.norm"}}}}};
  EXPECT_TRUE(Parse(plain).variables.empty());
}

TEST(ComponentMappingTest, DeclaredButUnusedVariableIsFine) {
  json doc = Mapping();
  doc["variables"]["unused"] = {1};
  EXPECT_NO_THROW(Parse(doc));
}

TEST(ComponentMappingTest, UndeclaredVariableNamesEntryFieldAndValue) {
  json doc = Mapping();
  doc["mapping"].push_back({{"model.embed_tokens"}, {"model.embed_tokens"}});
  doc["mapping"].push_back(
      {{"model.layers.{i}.input_layernorm", "model.layers.{j}.mlp"}, {"model.layers.{i}.mlp"}});
  EXPECT_EQ(ParseError(doc),
            "component_mapping.json: mapping[3].source[1] = \"model.layers.{j}.mlp\" uses "
            "undeclared variable {j} (declared: i)");
  doc.erase("variables");
  EXPECT_THAT(ParseError(doc), AllOf(HasSubstr("mapping[0].source[0]"),
                                     HasSubstr("{i} (no variables are declared)")));
}

TEST(ComponentMappingTest, UndeclaredVariableInTargetToo) {
  EXPECT_THAT(ParseError(WithEntry(Mapping(), 1, {{"model.norm"}, {"x.{k}"}})),
              HasSubstr("mapping[1].target[0] = \"x.{k}\" uses undeclared variable {k}"));
}

TEST(ComponentMappingTest, MalformedPlaceholders) {
  const auto error = [](const std::string& path) {
    return ParseError(WithEntry(Mapping(), 0, {{path}, {"t"}}));
  };
  EXPECT_THAT(error("model.layers.{i.mlp}"),
              HasSubstr("mapping[0].source[0] = \"model.layers.{i.mlp}\" has a malformed "
                        "placeholder at offset 13"));
  EXPECT_THAT(error("model.layers.{i"), HasSubstr("has a '{' at offset 13 that is never closed"));
  EXPECT_THAT(error("model.layers.i}"), HasSubstr("has a '}' at offset 14 with no '{' before it"));
  EXPECT_THAT(error("model.layers.{}"), HasSubstr("malformed placeholder at offset 13"));
  EXPECT_THAT(error("model.layers.{1i}"), HasSubstr("malformed placeholder"));
}

TEST(ComponentMappingTest, BadVariableValues) {
  const auto error = [](json values) {
    json doc = Mapping();
    doc["variables"]["i"] = std::move(values);
    return ParseError(doc);
  };
  EXPECT_EQ(error({0, -1}),
            "component_mapping.json: variables.i[1] = -1 must be a non-negative integer");
  EXPECT_EQ(error({0, 1, 0}), "component_mapping.json: variables.i[2] = 0 repeats variables.i[0]");
  EXPECT_EQ(error(json::array()),
            "component_mapping.json: variables.i = [] must list at least one value");
  EXPECT_EQ(error({0, 1.5}),
            "component_mapping.json: variables.i[1] = 1.5 must be a non-negative integer, not a "
            "number");
  EXPECT_EQ(error({"0"}),
            "component_mapping.json: variables.i[0] = \"0\" must be a non-negative integer, not a "
            "string");
  EXPECT_EQ(error({2147483648LL}),
            "component_mapping.json: variables.i[0] = 2147483648 must be at most 2147483647");
  EXPECT_EQ(error({18446744073709551615ULL}),
            "component_mapping.json: variables.i[0] = 18446744073709551615 must be at most "
            "2147483647");
  EXPECT_EQ(error("layers"),
            "component_mapping.json: variables.i = \"layers\" must be \"num_hidden_layers\", "
            "\"sliding_attention_layers\", \"full_attention_layers\" or a list of non-negative "
            "integers");
  EXPECT_THAT(error(3), HasSubstr("variables.i = 3 must be \"num_hidden_layers\""));
}

TEST(ComponentMappingTest, VariableNamesAreIdentifiers) {
  json doc = Mapping();
  doc["variables"]["1x"] = {0};
  EXPECT_THAT(ParseError(doc), HasSubstr("variables has the name \"1x\", which is not an "
                                         "identifier"));
  doc = Mapping();
  doc["variables"] = {0, 1};
  EXPECT_EQ(ParseError(doc),
            "component_mapping.json: variables = [...] must be an object of name: values, not an "
            "array");
}

TEST(ComponentMappingTest, WrongJsonTypes) {
  EXPECT_EQ(ParseError(json::array({1})),
            "component_mapping.json: the top level must be a JSON object with \"mapping\", not an "
            "array");
  json doc = Mapping();
  doc["mapping"] = "all";
  EXPECT_EQ(ParseError(doc),
            "component_mapping.json: mapping = \"all\" must be an array of entries, not a string");
  EXPECT_THAT(ParseError(WithEntry(Mapping(), 1, 7)),
              HasSubstr("mapping[1] = 7 must be an object {\"source\": [...]"));
  EXPECT_EQ(ParseError(WithEntry(Mapping(), 1, {{"source", "model.norm"}, {"target", {"t"}}})),
            "component_mapping.json: mapping[1].source = \"model.norm\" must be an array of module "
            "paths, not a string");
  EXPECT_EQ(ParseError(WithEntry(Mapping(), 1, {{"model.norm", 3}, {"t"}})),
            "component_mapping.json: mapping[1].source[1] = 3 must be a string, not a number");
  EXPECT_EQ(ParseError(WithEntry(Mapping(), 1, {{"model.norm"}, {"t"}, false})),
            "component_mapping.json: mapping[1].reasoning = false must be a string, not a boolean");
  EXPECT_THAT(ParseError(WithEntry(Mapping(), 1, {{"model.norm"}})),
              HasSubstr("mapping[1] = [...] must be [source, target] or [source, target, "
                        "reasoning], not an array of 1 elements"));
  EXPECT_THAT(ParseError(WithEntry(Mapping(), 1, {{"a"}, {"b"}, "c", "d"})),
              HasSubstr("not an array of 4 elements"));
}

TEST(ComponentMappingTest, MissingFields) {
  EXPECT_EQ(ParseError({{"version", 1}}), "component_mapping.json: mapping is missing");
  EXPECT_EQ(ParseError(WithEntry(Mapping(), 1, {{"target", {"model.norm"}}})),
            "component_mapping.json: mapping[1].source is missing");
  EXPECT_EQ(ParseError(WithEntry(Mapping(), 1, {{"source", {"model.norm"}}})),
            "component_mapping.json: mapping[1].target is missing");
  EXPECT_EQ(ParseError({{"mapping", json::array()}}),
            "component_mapping.json: mapping has no "
            "entries");
}

TEST(ComponentMappingTest, UnknownEntryFieldIsATypo) {
  EXPECT_EQ(ParseError(WithEntry(Mapping(), 0,
                                 {{"source", {"model.norm"}}, {"target", {"t"}}, {"reason", "x"}})),
            "component_mapping.json: mapping[0] has an unknown field \"reason\" (fields: source, "
            "target, reasoning)");
}

TEST(ComponentMappingTest, NoCounterpartNeedsReasoning) {
  EXPECT_EQ(ParseError(WithEntry(Mapping(), 1, {json::array(), {"model.layers.{i}.x"}})),
            "component_mapping.json: mapping[1].reasoning = \"\" must say why the target modules "
            "have no counterpart (source is empty)");
  EXPECT_THAT(ParseError(WithEntry(Mapping(), 1, {{"model.norm"}, json::array(), "  \n"})),
              HasSubstr("mapping[1].reasoning = \"  \\n\" must say why the source modules have no "
                        "counterpart (target is empty)"));
  EXPECT_EQ(ParseError(WithEntry(Mapping(), 1, {json::array(), json::array(), "nothing"})),
            "component_mapping.json: mapping[1] has neither source nor target paths");
}

TEST(ComponentMappingTest, EmptyAndRepeatedPaths) {
  EXPECT_EQ(ParseError(WithEntry(Mapping(), 1, {{"model.norm"}, {""}})),
            "component_mapping.json: mapping[1].target[0] = \"\" must be a module path, not empty");
  EXPECT_EQ(ParseError(WithEntry(Mapping(), 1, {{"model.norm", "lm_head", "model.norm"}, {"t"}})),
            "component_mapping.json: mapping[1].source[2] = \"model.norm\" repeats "
            "mapping[1].source[0]");
}

TEST(ComponentMappingTest, Version) {
  json doc = Mapping();
  doc["version"] = 2;
  EXPECT_EQ(ParseError(doc), "component_mapping.json: version = 2 is not supported (only 1)");
  doc["version"] = "1";
  EXPECT_EQ(ParseError(doc), "component_mapping.json: version = \"1\" is not supported (only 1)");
  doc["version"] = 1.0;
  EXPECT_THAT(ParseError(doc), HasSubstr("version = 1.0 is not supported"));
}

TEST(ComponentMappingTest, MalformedJsonGivesByteOffset) {
  EXPECT_THAT(ParseTextError("{\"mapping\": [}"),
              StartsWith("component_mapping.json: malformed JSON at byte 13: "));
  EXPECT_THAT(ErrorOf([] { ParseComponentMapping("", "m.json"); }),
              StartsWith("m.json: malformed JSON at byte 0: "));
}

TEST(ComponentMappingTest, DuplicateKeysAreRefused) {
  EXPECT_EQ(ParseTextError(R"({"mapping": [], "mapping": []})"),
            "component_mapping.json: the top level has the key \"mapping\" twice (at byte 16)");
  EXPECT_EQ(ParseTextError(R"({"mapping": [[["a"], ["b"]],
                                {"source": ["x"], "target": ["y"], "source": ["z"]}]})"),
            "component_mapping.json: mapping[1] has the key \"source\" twice (at byte 96)");
  EXPECT_EQ(ParseTextError(R"({"variables": {"i": [0], "i": [1]}, "mapping": []})"),
            "component_mapping.json: variables has the key \"i\" twice (at byte 25)");
}

TEST(ComponentMappingTest, MessagesStayValidUtf8) {
  // Invalid UTF-8 inside a string, and as a raw byte where a value should be.
  for (const std::string& text :
       {std::string("{\"mapping\": [\"\xff\"]}"), std::string("{\"mapping\": \xc3}")}) {
    const std::string message = ParseTextError(text);
    EXPECT_THAT(message, StartsWith("component_mapping.json: malformed JSON at byte "));
    EXPECT_NO_THROW(static_cast<void>(json(message).dump())) << message;
  }
  // A long value is cut, at a character boundary: 2-byte characters straddle the cut.
  std::string long_path = "model.";
  for (int k = 0; k < 100; ++k) long_path += "\xc3\xa9";
  const std::string message = ParseError(WithEntry(Mapping(), 1, {{long_path + ".{q}"}, {"t"}}));
  EXPECT_THAT(message,
              AllOf(HasSubstr("... uses undeclared variable {q}"), Not(HasSubstr(".{q}"))));
  EXPECT_LT(message.size(), 260u);
  EXPECT_NO_THROW(static_cast<void>(json(message).dump())) << message;
}

TEST(ComponentMappingTest, LoadNamesThePath) {
  const std::string path = std::string(EQUIV_TEST_SOURCE_DIR) + "/no-such-mapping.json";
  EXPECT_THAT(ErrorOf([&] { LoadComponentMapping(path); }),
              AllOf(StartsWith(path + ": cannot open"), HasSubstr("No such file")));
  EXPECT_EQ(ErrorOf([] { LoadComponentMapping(EQUIV_TEST_SOURCE_DIR); }),
            std::string(EQUIV_TEST_SOURCE_DIR) + ": is a directory");
}

TEST(ComponentMappingTest, CheckCatchesProgrammaticMistakes) {
  ComponentMapping m;
  m.origin = "mine";
  m.entries.push_back({{"model.layers.{i}.mlp"}, {"model.layers.{i}.mlp"}, ""});
  EXPECT_EQ(ErrorOf([&] { CheckComponentMapping(m); }),
            "mine: mapping[0].source[0] = \"model.layers.{i}.mlp\" uses undeclared variable {i} "
            "(no variables are declared)");
  EXPECT_THAT(ErrorOf([&] { Expand(m, TinyLlama()); }), HasSubstr("undeclared variable {i}"));
  m.variables["i"] = VariableValues{false, {3, 3}};
  EXPECT_EQ(ErrorOf([&] { CheckComponentMapping(m); }),
            "mine: variables.i[1] = 3 repeats "
            "variables.i[0]");
}

TEST(ComponentMappingTest, ExpandSubstitutesEveryCombination) {
  json doc = {{"variables", {{"i", "num_hidden_layers"}, {"j", {5, 3}}}},
              {"mapping",
               {{{"a.{i}.{j}", "b.{i}"}, {"c.{j}"}, "two variables"},
                {{"model.norm"}, {"model.norm"}, "none"},
                {json::array(), {"w.{j}"}, "no counterpart"}}}};
  const std::vector<ExpandedEntry> e = Expand(Parse(doc), TinyLlama());  // 2 layers
  ASSERT_EQ(e.size(), 4u + 1u + 2u);
  EXPECT_THAT(e[0].source, ElementsAre("a.0.5", "b.0"));
  EXPECT_THAT(e[0].target, ElementsAre("c.5"));
  EXPECT_EQ(e[0].Label(), "mapping[0] (i = 0, j = 5)");
  EXPECT_EQ(e[0].reasoning, "two variables");
  EXPECT_THAT(e[1].source, ElementsAre("a.0.3", "b.0"));
  EXPECT_THAT(e[2].source, ElementsAre("a.1.5", "b.1"));
  EXPECT_THAT(e[3].source, ElementsAre("a.1.3", "b.1"));
  EXPECT_EQ(e[4].Label(), "mapping[1]");
  EXPECT_TRUE(e[4].bindings.empty());
  EXPECT_EQ(e[4].entry_index, 1u);
  EXPECT_EQ(e[5].Label(), "mapping[2] (j = 5)");  // only the variables the entry uses
  EXPECT_TRUE(e[5].NoCounterpart());
  EXPECT_THAT(e[6].target, ElementsAre("w.3"));
}

// The layers of one attention type: tiny-gemma3's layer 0 slides, layer 1 attends fully;
// tiny-llama has no layer_types, so every layer is a full-attention one.
TEST(ComponentMappingTest, LayersOfAnAttentionType) {
  json doc = {{"variables", {{"s", "sliding_attention_layers"}, {"g", "full_attention_layers"}}},
              {"mapping",
               {{{"model.rotary_emb_local"}, {"layers.{s}.rotary"}, "local"},
                {{"model.rotary_emb"}, {"layers.{g}.rotary"}, "global"}}}};
  const ComponentMapping m = Parse(doc);
  EXPECT_EQ(m.variables.at("s").layers_of_type, LayerAttention::kSliding);
  EXPECT_EQ(::testing::PrintToString(m.variables.at("g")), "\"full_attention_layers\"");
  const ModelConfig gemma3 =
      LoadModelConfig(std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/tiny-gemma3.json");
  const std::vector<ExpandedEntry> e = Expand(m, gemma3);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_THAT(e[0].target, ElementsAre("layers.0.rotary"));
  EXPECT_THAT(e[1].target, ElementsAre("layers.1.rotary"));
  const std::vector<ExpandedEntry> llama = Expand(m, TinyLlama());
  ASSERT_EQ(llama.size(), 2u);  // no sliding layers: the first entry expands to nothing
  EXPECT_THAT(llama[0].target, ElementsAre("layers.0.rotary"));
  EXPECT_THAT(llama[1].target, ElementsAre("layers.1.rotary"));
}

TEST(ComponentMappingTest, ExpandRefusesAnExplosion) {
  json values = json::array();
  for (int k = 0; k < 300; ++k) values.push_back(k);
  json doc = {{"variables", {{"a", values}, {"b", values}}},
              {"mapping", {{{"model.norm"}, {"model.norm"}}, {{"x.{a}.{b}"}, {"y"}}}}};
  EXPECT_EQ(ErrorOf([&] { Expand(Parse(doc), TinyLlama()); }),
            "component_mapping.json: mapping[1] brings the expanded mapping above 65536 entries "
            "(every combination of its variables' values counts)");
}

TEST(ComponentMappingTest, ExpandRefusesHugePaths) {
  json values = json::array();
  for (int k = 0; k < 200; ++k) values.push_back(1000000000 + k);
  std::string path;
  for (int k = 0; k < 400; ++k) path += "{a}{b}";  // 8000 bytes per expanded path
  json doc = {{"variables", {{"a", values}, {"b", values}}}, {"mapping", {{{path}, {"y"}}}}};
  EXPECT_EQ(ErrorOf([&] { Expand(Parse(doc), TinyLlama()); }),
            "component_mapping.json: mapping[0] brings the expanded module paths above 64 MiB");
}

}  // namespace
}  // namespace equiv
