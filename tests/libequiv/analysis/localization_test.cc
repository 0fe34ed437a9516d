#include "libequiv/analysis/localization.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace equiv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using json = nlohmann::json;

CaseResult Case(std::string case_name, std::string component, int64_t layer,
                std::vector<std::string> source, std::vector<std::string> target) {
  CaseResult c;
  c.case_name = std::move(case_name);
  c.input = "normal";
  c.name = c.case_name + "/normal";
  c.component = component;
  c.layer = layer;
  c.source_paths = std::move(source);
  c.target_paths = std::move(target);
  c.outcome = Outcome::kRatio;
  c.r_ratio = 1.05;
  c.band = Band::kWithinTolerance;
  c.passed = true;
  return c;
}

// A bottom-up llama suite, every case within tolerance: embedding, 7 cases per layer,
// final_norm, lm_head and (optionally) causal_lm.
std::vector<CaseResult> Suite(int64_t layers, bool causal_lm = true) {
  std::vector<CaseResult> cases;
  cases.push_back(
      Case("embedding", "embedding", -1, {"model.embed_tokens"}, {"model.embed_tokens"}));
  for (int64_t l = 0; l < layers; ++l) {
    const std::string n = "layers_" + std::to_string(l) + "_";
    const std::string p = "model.layers." + std::to_string(l);
    cases.push_back(Case(n + "input_layernorm", "input_layernorm", l, {p + ".input_layernorm"},
                         {p + ".input_layernorm"}));
    cases.push_back(
        Case(n + "qkv_proj", "qkv_proj", l,
             {p + ".self_attn.q_proj", p + ".self_attn.k_proj", p + ".self_attn.v_proj"},
             {p + ".self_attn.qkv_proj"}));
    cases.push_back(
        Case(n + "rotary", "rotary", l, {"model.rotary_emb"}, {p + ".self_attn.rotary_emb"}));
    cases.push_back(Case(n + "attention", "attention", l, {p + ".self_attn"}, {p + ".self_attn"}));
    cases.push_back(Case(n + "post_attention_layernorm", "post_attention_layernorm", l,
                         {p + ".post_attention_layernorm"}, {p + ".post_attention_layernorm"}));
    cases.push_back(Case(n + "mlp", "mlp", l, {p + ".mlp"}, {p + ".mlp"}));
    cases.push_back(Case(n + "decoder_layer", "decoder_layer", l, {p}, {p}));
  }
  cases.push_back(Case("final_norm", "final_norm", -1, {"model.norm"}, {"model.norm"}));
  cases.push_back(Case("lm_head", "lm_head", -1, {"lm_head"}, {"lm_head"}));
  if (causal_lm) cases.push_back(Case("causal_lm", "causal_lm", -1, {""}, {""}));
  for (std::size_t i = 0; i < cases.size(); ++i) cases[i].order = static_cast<int64_t>(i);
  return cases;
}

CaseResult& Find(std::vector<CaseResult>& cases, const std::string& case_name) {
  for (CaseResult& c : cases) {
    if (c.case_name == case_name) return c;
  }
  throw std::runtime_error("no case " + case_name);
}

void Fail(std::vector<CaseResult>& cases, const std::string& case_name, double r) {
  CaseResult& c = Find(cases, case_name);
  c.r_ratio = r;
  c.band = BandOf(r);
  c.passed = false;
}

void Flag(std::vector<CaseResult>& cases, const std::string& case_name, double r) {
  CaseResult& c = Find(cases, case_name);
  c.r_ratio = r;
  c.band = Band::kOverPrecision;
}

std::vector<std::string> Names(const Localization& loc) {
  std::vector<std::string> names;
  for (const Suspect& s : loc.suspects) names.push_back(s.name);
  return names;
}

const Suspect& SuspectNamed(const Localization& loc, const std::string& name) {
  for (const Suspect& s : loc.suspects) {
    if (s.name == name) return s;
  }
  throw std::runtime_error("no suspect " + name);
}

TEST(LocalizeTest, AllPassingIsClean) {
  const Localization loc = Localize(Suite(2));
  EXPECT_TRUE(loc.clean);
  EXPECT_TRUE(loc.suspects.empty());
  EXPECT_FALSE(loc.primary.has_value());
  EXPECT_EQ(loc.summary, "clean: 18 cases within tolerance");
}

TEST(LocalizeTest, EarlyPersistentNormIsPrimaryOverLaterHigherRAttention) {
  std::vector<CaseResult> cases = Suite(2);
  Fail(cases, "layers_0_input_layernorm", 2.5);
  Fail(cases, "layers_0_decoder_layer", 4.0);
  Fail(cases, "layers_1_attention", 400);
  Fail(cases, "layers_1_decoder_layer", 450);
  const Localization loc = Localize(cases);
  EXPECT_FALSE(loc.clean);
  ASSERT_TRUE(loc.primary.has_value());
  EXPECT_EQ(loc.primary->name, "layers_0_input_layernorm/normal");
  EXPECT_EQ(loc.primary->pattern, Pattern::kStep);
  EXPECT_EQ(loc.primary->cause, RootCause::kPrecisionOrderingOrMissingMultiplier);
  EXPECT_THAT(loc.primary->description, HasSubstr("variance accumulated in bf16"));
  const Suspect& attention = SuspectNamed(loc, "layers_1_attention/normal");
  EXPECT_GT(attention.r_ratio, loc.primary->r_ratio) << "not the highest R";
  EXPECT_EQ(attention.pattern, Pattern::kStep);
  EXPECT_EQ(attention.cause, RootCause::kWrongComputation);
  EXPECT_THAT(Names(loc),
              ElementsAre("layers_0_input_layernorm/normal", "layers_0_decoder_layer/normal",
                          "layers_1_attention/normal", "layers_1_decoder_layer/normal"));
  EXPECT_THAT(loc.summary, StartsWith("primary suspect layers_0_input_layernorm/normal "
                                      "(input_layernorm, R = 2.5, step, "
                                      "precision_ordering_or_missing_multiplier): variance"));
  EXPECT_THAT(loc.summary, HasSubstr("; paths model.layers.0.input_layernorm -> "
                                     "model.layers.0.input_layernorm"));
}

TEST(LocalizeTest, LoneFailureWhoseCompositePassesIsASpikeRankedAfterSteps) {
  std::vector<CaseResult> cases = Suite(2);
  Fail(cases, "layers_0_attention", 5.0);  // layers_0_decoder_layer passes
  Fail(cases, "layers_1_mlp", 30);
  Fail(cases, "layers_1_decoder_layer", 25);
  Fail(cases, "causal_lm", 25);  // contains everything, but only the innermost composite counts
  const Localization loc = Localize(cases);
  const Suspect& spike = SuspectNamed(loc, "layers_0_attention/normal");
  EXPECT_EQ(spike.pattern, Pattern::kSpike);
  EXPECT_EQ(spike.cause, RootCause::kAlignmentArtifact);
  EXPECT_THAT(spike.description, HasSubstr("alignment artifact"));
  ASSERT_TRUE(loc.primary.has_value());
  EXPECT_EQ(loc.primary->name, "layers_1_mlp/normal");
  EXPECT_EQ(loc.primary->cause, RootCause::kMissingAlgorithm);
  EXPECT_EQ(loc.primary->description, "wrong activation function");
  EXPECT_THAT(Names(loc), ElementsAre("layers_1_mlp/normal", "layers_1_decoder_layer/normal",
                                      "causal_lm/normal", "layers_0_attention/normal"))
      << "spikes rank after steps";
}

TEST(LocalizeTest, LastComponentFailureIsAStep) {
  std::vector<CaseResult> cases = Suite(1, /*causal_lm=*/false);
  Fail(cases, "lm_head", 40);
  const Localization loc = Localize(cases);
  ASSERT_TRUE(loc.primary.has_value());
  EXPECT_EQ(loc.primary->name, "lm_head/normal");
  EXPECT_EQ(loc.primary->pattern, Pattern::kStep) << "nothing after contradicts persistence";
  EXPECT_EQ(loc.primary->cause, RootCause::kMissingAlgorithm);
}

TEST(LocalizeTest, OverPrecisionOnlyRunIsCleanWithAnOverPrecisionPrimary) {
  std::vector<CaseResult> cases = Suite(1);
  Flag(cases, "layers_0_mlp", 0.6);
  Flag(cases, "layers_0_decoder_layer", 0.8);
  const Localization loc = Localize(cases);
  EXPECT_TRUE(loc.clean);
  ASSERT_TRUE(loc.primary.has_value());
  EXPECT_EQ(loc.primary->name, "layers_0_mlp/normal");
  EXPECT_FALSE(loc.primary->failed);
  EXPECT_EQ(loc.primary->pattern, Pattern::kStep);
  EXPECT_EQ(loc.primary->cause, RootCause::kOverPrecision);
  EXPECT_THAT(
      loc.summary,
      StartsWith("clean: 11 cases pass, 2 flagged over_precision; first over-precision flag "
                 "layers_0_mlp/normal (mlp, R = 0.6, step, over_precision): an extra "
                 "float32 upcast"));
  // The decoder layer is followed by causal_lm, unflagged: a spike.
  EXPECT_EQ(SuspectNamed(loc, "layers_0_decoder_layer/normal").pattern, Pattern::kSpike);
  // A passing run names no suspect.
  EXPECT_THAT(loc.summary, Not(HasSubstr("suspect")));
}

TEST(LocalizeTest, FlagsDoNotMatterWhenSomethingFailed) {
  std::vector<CaseResult> cases = Suite(1, /*causal_lm=*/false);
  Flag(cases, "layers_0_mlp", 0.6);
  Fail(cases, "lm_head", 1.5);
  const Localization loc = Localize(cases);
  EXPECT_FALSE(loc.clean);
  EXPECT_THAT(Names(loc), ElementsAre("lm_head/normal"));
  EXPECT_THAT(loc.primary->description, HasSubstr("matmul accumulation precision"));
}

TEST(LocalizeTest, OnlySpikesGiveTheEarliestSpikeAndSayItInTheSummary) {
  std::vector<CaseResult> cases = Suite(2);
  Fail(cases, "layers_1_mlp", 500);
  Fail(cases, "layers_0_qkv_proj", 200);
  const Localization loc = Localize(cases);
  EXPECT_THAT(Names(loc), ElementsAre("layers_0_qkv_proj/normal", "layers_1_mlp/normal"));
  EXPECT_EQ(loc.primary->pattern, Pattern::kSpike);
  EXPECT_THAT(loc.summary, StartsWith("only spikes, no anomaly persists; primary suspect "
                                      "layers_0_qkv_proj/normal (qkv_proj, R = 200, spike, "
                                      "alignment_artifact)"));
}

TEST(LocalizeTest, SummaryNamesComponentRPatternCauseAndPaths) {
  std::vector<CaseResult> cases = Suite(1);
  for (const char* name : {"layers_0_qkv_proj", "layers_0_attention", "layers_0_decoder_layer",
                           "final_norm", "lm_head", "causal_lm"}) {
    Fail(cases, name, 271.6);
  }
  const Localization loc = Localize(cases);
  EXPECT_EQ(loc.summary,
            "primary suspect layers_0_qkv_proj/normal (qkv_proj, R = 271.6, step, "
            "wrong_computation): q, k, v weights swapped or concatenated in the wrong order; "
            "paths model.layers.0.self_attn.q_proj, model.layers.0.self_attn.k_proj, "
            "model.layers.0.self_attn.v_proj -> model.layers.0.self_attn.qkv_proj");
}

TEST(LocalizeTest, RotaryIsFollowedByTheAttentionOfItsLayer) {
  std::vector<CaseResult> cases = Suite(2);
  Fail(cases, "layers_0_rotary", 50);
  Fail(cases, "layers_0_attention", 20);
  const Localization loc = Localize(cases);
  EXPECT_EQ(loc.primary->name, "layers_0_rotary/normal");
  EXPECT_EQ(loc.primary->pattern, Pattern::kStep);
  EXPECT_THAT(loc.primary->description, HasSubstr("rope_scaling ignored"));

  std::vector<CaseResult> alone = Suite(2);
  Fail(alone, "layers_0_rotary", 50);  // its attention, decoder layer and layer 1 pass
  EXPECT_EQ(Localize(alone).primary->pattern, Pattern::kSpike);
}

TEST(LocalizeTest, SameCaseOnAnotherInputIsAFollower) {
  std::vector<CaseResult> cases = Suite(1);
  CaseResult normal = Find(cases, "layers_0_attention");
  CaseResult long_sequence = normal;
  long_sequence.input = "long_sequence";
  long_sequence.name = "layers_0_attention/long_sequence";
  cases.push_back(long_sequence);
  Fail(cases, "layers_0_attention", 50);  // the normal input
  cases.back().passed = false;
  cases.back().r_ratio = 50;
  cases.back().band = Band::kMissingAlgorithm;
  const Localization loc = Localize(cases);
  // long_sequence sorts first; it persists into the same case on the normal input.
  EXPECT_THAT(Names(loc),
              ElementsAre("layers_0_attention/long_sequence", "layers_0_attention/normal"));
  EXPECT_EQ(loc.suspects[0].pattern, Pattern::kStep);
  EXPECT_EQ(loc.suspects[1].pattern, Pattern::kSpike);
  EXPECT_THAT(loc.primary->description, HasSubstr("causal mask or sliding window"));
}

TEST(LocalizeTest, InputOrderDoesNotMatter) {
  std::vector<CaseResult> cases = Suite(2);
  Fail(cases, "layers_0_mlp", 3.5);
  Fail(cases, "layers_1_mlp", 3.5);
  const Localization sorted = Localize(cases);
  std::reverse(cases.begin(), cases.end());
  EXPECT_EQ(ToJson(Localize(cases)), ToJson(sorted));
  EXPECT_EQ(sorted.primary->name, "layers_0_mlp/normal") << "persists into layer 1's mlp";
  EXPECT_EQ(sorted.primary->pattern, Pattern::kStep);
}

struct NonRatio {
  Outcome outcome;
  RootCause cause;
};

TEST(LocalizeTest, NonRatioOutcomesGetTheirOwnCauses) {
  for (const NonRatio& n :
       {NonRatio{Outcome::kNonFiniteTarget, RootCause::kNonFiniteOutput},
        NonRatio{Outcome::kShapeMismatch, RootCause::kShapeMismatch},
        NonRatio{Outcome::kNonFiniteReference, RootCause::kReferenceError},
        NonRatio{Outcome::kSubnormalReference, RootCause::kReferenceError},
        NonRatio{Outcome::kDegenerateBaseline, RootCause::kExactnessViolation}}) {
    std::vector<CaseResult> cases = Suite(1);
    CaseResult& embedding = Find(cases, "embedding");
    embedding.outcome = n.outcome;
    embedding.r_ratio = std::numeric_limits<double>::quiet_NaN();
    embedding.band.reset();
    embedding.passed = false;
    const Localization loc = Localize(cases);
    ASSERT_TRUE(loc.primary.has_value()) << OutcomeName(n.outcome);
    EXPECT_EQ(loc.primary->cause, n.cause) << OutcomeName(n.outcome);
    EXPECT_THAT(loc.summary, HasSubstr("(embedding, R not judged, spike, " +
                                       std::string(RootCauseName(n.cause)) + ")"));
  }
}

struct BandCause {
  std::string component;
  double r;
  RootCause cause;
  std::string words;
};

TEST(LocalizeTest, RootCauseDependsOnBandAndComponent) {
  for (const BandCause& b : {
           BandCause{"attention", 2.0, RootCause::kPrecisionOrderingOrMissingMultiplier,
                     "softmax computed in bf16"},
           BandCause{"rotary", 5.0, RootCause::kPrecisionOrderingOrMissingMultiplier,
                     "after the bf16 cast"},
           BandCause{"mlp", 9.0, RootCause::kPrecisionOrderingOrMissingMultiplier,
                     "activation precision"},
           BandCause{"final_norm", 1.3, RootCause::kPrecisionOrderingOrMissingMultiplier,
                     "cast to bf16 before the reduction"},
           BandCause{"qkv_proj", 2.0, RootCause::kPrecisionOrderingOrMissingMultiplier,
                     "matmul accumulation"},
           BandCause{"qkv_proj", 11.0, RootCause::kMissingAlgorithm, "a bias dropped"},
           BandCause{"rotary", 99.0, RootCause::kMissingAlgorithm, "YaRN, llama3"},
           BandCause{"rotary", 100.0, RootCause::kWrongComputation, "interleaved rotary pairs"},
           BandCause{"lm_head", 1000.0, RootCause::kWrongComputation,
                     "weights swapped or concatenated in the wrong order"},
       }) {
    CaseResult c = Case("x", b.component, 0, {"m.x"}, {"m.x"});
    c.r_ratio = b.r;
    c.band = BandOf(b.r);
    c.passed = false;
    const Localization loc = Localize({c});  // nothing follows: a step
    EXPECT_EQ(loc.primary->cause, b.cause) << b.component << " " << b.r;
    EXPECT_THAT(loc.primary->description, HasSubstr(b.words)) << b.component;
  }
}

TEST(LocalizationJsonTest, HasEveryFieldAndNullsForTheUnjudged) {
  std::vector<CaseResult> cases = Suite(1);
  CaseResult& qkv = Find(cases, "layers_0_qkv_proj");
  qkv.outcome = Outcome::kNonFiniteTarget;
  qkv.r_ratio = std::numeric_limits<double>::quiet_NaN();
  qkv.band.reset();
  qkv.passed = false;
  const json j = ToJson(Localize(cases));
  EXPECT_EQ(j["schema"], "equiv.localization");
  EXPECT_EQ(j["clean"], false);
  EXPECT_THAT(j["summary"].get<std::string>(), HasSubstr("primary suspect layers_0_qkv_proj"));
  const json& p = j["primary"];
  EXPECT_EQ(p["name"], "layers_0_qkv_proj/normal");
  EXPECT_EQ(p["component"], "qkv_proj");
  EXPECT_EQ(p["layer"], 0);
  EXPECT_EQ(p["r_ratio"], nullptr);
  EXPECT_EQ(p["band"], nullptr);
  EXPECT_EQ(p["failed"], true);
  EXPECT_EQ(p["pattern"], "spike");
  EXPECT_EQ(p["cause"], "nonfinite_output");
  EXPECT_EQ(p["target_paths"], (json{"model.layers.0.self_attn.qkv_proj"}));
  EXPECT_EQ(p["order"], 2);
  EXPECT_EQ(j["suspects"].size(), 1u);
  EXPECT_EQ(json::parse(j.dump()), j);
  EXPECT_EQ(ToJson(Localize(Suite(1)))["primary"], nullptr);
}

}  // namespace
}  // namespace equiv
