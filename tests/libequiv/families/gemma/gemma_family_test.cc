// The gemma2 and gemma3_text families: config.json as Gemma2Config / Gemma3TextConfig read it
// (defaults, layer types, soft-caps, errors that name the field), what its reference components
// return at HF's module paths (embed_tokens unscaled, lm_head without the final soft-cap) and its
// built-in port's tree.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/families/registry.h"
#include "libequiv/models/module_tree.h"
#include "libequiv/models/reference.h"
#include "libequiv/nn/gemma.h"
#include "libequiv/precision/bf16.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

std::string ConfigPath(const std::string& name) {
  return std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/" + name;
}

// A small gemma2 config.json; tests change one thing at a time.
json Gemma2() {
  return {{"model_type", "gemma2"},   {"hidden_size", 64},
          {"intermediate_size", 128}, {"num_hidden_layers", 4},
          {"num_attention_heads", 4}, {"num_key_value_heads", 2},
          {"vocab_size", 256},        {"max_position_embeddings", 256}};
}

std::string ErrorOf(const json& config) {
  try {
    ParseModelConfig(config.dump());
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

constexpr LayerAttention kSliding = LayerAttention::kSliding;
constexpr LayerAttention kFull = LayerAttention::kFull;

TEST(GemmaConfigTest, PublishedGemma2_9b) {
  const ModelConfig c = LoadModelConfig(ConfigPath("gemma-2-9b.json"));
  EXPECT_EQ(c.model_type, "gemma2");
  EXPECT_EQ(c.hidden_size, 3584);
  EXPECT_EQ(c.num_hidden_layers, 42);
  EXPECT_EQ(c.num_attention_heads, 16);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.query_pre_attn_scalar, 256.0);
  EXPECT_EQ(c.attn_logit_softcapping, 50.0);
  EXPECT_EQ(c.final_logit_softcapping, 30.0);
  EXPECT_EQ(c.sliding_window, 4096);
  EXPECT_EQ(c.hidden_act, HiddenAct::kGeluPytorchTanh);
  EXPECT_TRUE(c.tie_word_embeddings);
  ASSERT_EQ(c.layer_types.size(), 42u);
  EXPECT_EQ(c.layer_types[0], kSliding);
  EXPECT_EQ(c.layer_types[1], kFull);
  EXPECT_EQ(c.layer_types[41], kFull);
  EXPECT_EQ(SlidingWindowOfLayer(c, 40), 4096);
  EXPECT_EQ(SlidingWindowOfLayer(c, 41), std::nullopt);
}

TEST(GemmaConfigTest, DefaultsAreGemma2Configs) {
  const ModelConfig c = ParseModelConfig(Gemma2().dump());
  EXPECT_EQ(c.head_dim, 256);  // its own default, not hidden_size / heads
  EXPECT_EQ(c.query_pre_attn_scalar, 256.0);
  EXPECT_EQ(c.attn_logit_softcapping, 50.0);
  EXPECT_EQ(c.final_logit_softcapping, 30.0);
  EXPECT_EQ(c.sliding_window, 4096);
  EXPECT_EQ(c.hidden_act, HiddenAct::kGeluPytorchTanh);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.layer_types, (std::vector<LayerAttention>{kSliding, kFull, kSliding, kFull}));
}

TEST(GemmaConfigTest, ExplicitFields) {
  json j = Gemma2();
  j["layer_types"] = {"full_attention", "sliding_attention", "sliding_attention", "full_attention"};
  j["attn_logit_softcapping"] = nullptr;  // null: no soft-cap
  j["final_logit_softcapping"] = 10.0;
  j["query_pre_attn_scalar"] = 144;
  j["hidden_activation"] = "gelu";
  const ModelConfig c = ParseModelConfig(j.dump());
  EXPECT_EQ(c.layer_types, (std::vector<LayerAttention>{kFull, kSliding, kSliding, kFull}));
  EXPECT_EQ(c.attn_logit_softcapping, std::nullopt);
  EXPECT_EQ(c.final_logit_softcapping, 10.0);
  EXPECT_EQ(c.query_pre_attn_scalar, 144.0);
  EXPECT_EQ(c.hidden_act, HiddenAct::kGelu);
  EXPECT_EQ(ParseModelConfig(ToJson(c).dump()), c);
}

TEST(GemmaConfigTest, BadFieldsAreNamed) {
  json no_kv = Gemma2();
  no_kv.erase("num_key_value_heads");
  EXPECT_THAT(ErrorOf(no_kv), HasSubstr("num_key_value_heads is missing (required for gemma2"));
  json no_hidden = Gemma2();
  no_hidden.erase("hidden_size");
  EXPECT_THAT(ErrorOf(no_hidden), HasSubstr("hidden_size"));
  json types = Gemma2();
  types["layer_types"] = {"sliding_attention", "full_attention"};
  EXPECT_THAT(ErrorOf(types),
              HasSubstr("layer_types = [...] must have num_hidden_layers = 4 entries, has 2"));
  types["layer_types"] = {"sliding_attention", "full_attention", "chunked_attention",
                          "full_attention"};
  EXPECT_THAT(ErrorOf(types), HasSubstr("layer_types[2]"));
  json cap = Gemma2();
  cap["attn_logit_softcapping"] = -1.0;
  EXPECT_THAT(ErrorOf(cap), HasSubstr("attn_logit_softcapping"));
  json scalar = Gemma2();
  scalar["query_pre_attn_scalar"] = 0;
  EXPECT_THAT(ErrorOf(scalar), HasSubstr("query_pre_attn_scalar"));
  json act = Gemma2();
  act["hidden_activation"] = "relu";
  EXPECT_THAT(ErrorOf(act), HasSubstr("hidden_activation"));
}

// sqrt(hidden_size) in the hidden dtype: sqrt(3072) = 55.4256 is 55.5 in bf16 (HF's comment).
TEST(GemmaNumericsTest, EmbeddingNormalizerIsRoundedToTheHiddenDtype) {
  EXPECT_EQ(nn::GemmaEmbedScale(3072, nn::Precision::kBf16), 55.5f);
  EXPECT_EQ(nn::GemmaEmbedScale(3072, nn::Precision::kFp32), static_cast<float>(std::sqrt(3072.0)));
  EXPECT_EQ(nn::GemmaEmbedScale(112, nn::Precision::kBf16), 10.5625f);
}

TEST(GemmaNumericsTest, NormMultipliesByOnePlusWeight) {
  const nn::Matrix x = nn::Matrix::Constant(1, 4, 2.0f);
  nn::Vector w(4);
  w << 0.0f, 0.5f, -1.0f, 1.0f;
  const nn::Matrix out = nn::GemmaRmsNorm(x, w, 0.0, nn::Precision::kFp32);
  EXPECT_FLOAT_EQ(out(0, 0), 1.0f);
  EXPECT_FLOAT_EQ(out(0, 1), 1.5f);
  EXPECT_FLOAT_EQ(out(0, 2), 0.0f);
  EXPECT_FLOAT_EQ(out(0, 3), 2.0f);
}

TEST(GemmaNumericsTest, SoftCapBoundsScores) {
  const nn::Matrix x = (nn::Matrix(1, 3) << 0.0f, 1.0f, 100.0f).finished();
  const nn::Matrix out = nn::SoftCap(x, 4.0, nn::Precision::kFp32);
  EXPECT_FLOAT_EQ(out(0, 0), 0.0f);
  EXPECT_NEAR(out(0, 1), 4.0 * std::tanh(0.25), 1e-6);
  EXPECT_FLOAT_EQ(out(0, 2), 4.0f);
}

class GemmaReferenceTest : public ::testing::Test {
 protected:
  ModelConfig config_ = LoadModelConfig(ConfigPath("tiny-gemma2.json"));
  StateDict weights_ = InitStateDict(config_, 3);
  std::unique_ptr<Reference> ref_ =
      ArchitectureOf(config_).MakeReference(config_, weights_, nn::Precision::kFp32);
};

// HF's model.embed_tokens returns the plain lookup; the model's forward scales after it.
TEST_F(GemmaReferenceTest, EmbeddingIsUnscaled) {
  const std::vector<int64_t> ids = {3, 7};
  const nn::Matrix out = ref_->Run("embedding", -1, {nn::Matrix(), ids, {}});
  const Tensor& table = weights_.at("model.embed_tokens.weight");
  EXPECT_EQ(out(1, 5), table.ToFloats()[7 * config_.hidden_size + 5]);
}

// lm_head is a Linear: the final soft-cap (15 on tiny-gemma2) is the model's, after it.
TEST_F(GemmaReferenceTest, LmHeadIsNotSoftCappedButTheLogitsAre) {
  const std::vector<int64_t> ids = {1, 2, 3, 4, 5, 6};
  const nn::Matrix logits = ref_->Logits(ids);
  EXPECT_LE(logits.cwiseAbs().maxCoeff(), 15.0f);
  const nn::Matrix hidden = nn::Matrix::Constant(1, config_.hidden_size, 10.0f);
  EXPECT_GT(ref_->Run("lm_head", -1, {hidden, {}, {}}).cwiseAbs().maxCoeff(), 15.0f);
}

TEST_F(GemmaReferenceTest, QNormIsNoComponentOfGemma2) {
  EXPECT_THAT(
      [&] {
        ref_->Run("q_norm", 0, {nn::Matrix::Zero(1, 128), {}, {}});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("this model has no q_norm")));
}

// google/gemma-3-1b-it: text only, model_type gemma3_text, every 6th layer global.
TEST(Gemma3ConfigTest, PublishedGemma3_1b) {
  const ModelConfig c = LoadModelConfig(ConfigPath("gemma-3-1b-it.json"));
  EXPECT_EQ(c.model_type, "gemma3_text");
  EXPECT_EQ(c.hidden_size, 1152);
  EXPECT_EQ(c.num_hidden_layers, 26);
  EXPECT_EQ(c.num_key_value_heads, 1);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.rope_theta, 1000000.0);
  EXPECT_EQ(c.rope_local_base_freq, 10000.0);
  EXPECT_EQ(c.sliding_window, 512);
  EXPECT_FALSE(c.attn_logit_softcapping.has_value());
  EXPECT_FALSE(c.final_logit_softcapping.has_value());
  ASSERT_EQ(c.layer_types.size(), 26u);
  EXPECT_EQ(c.layer_types[4], kSliding);
  EXPECT_EQ(c.layer_types[5], kFull);
  EXPECT_EQ(c.layer_types[11], kFull);
  EXPECT_EQ(c.layer_types[25], kSliding);
}

// Gemma3Attention never passes attn_logit_softcapping on: a value in config.json is no cap.
TEST(Gemma3ConfigTest, AttentionSoftcapIsNotRead) {
  json j = Gemma2();
  j["model_type"] = "gemma3_text";
  j["attn_logit_softcapping"] = 50.0;
  const ModelConfig c = ParseModelConfig(j.dump());
  EXPECT_FALSE(c.attn_logit_softcapping.has_value());
  EXPECT_EQ(c.rope_theta, 1000000.0);  // Gemma3TextConfig's default
  EXPECT_EQ(c.rope_local_base_freq, 10000.0);
  j["rope_local_base_freq"] = 1;
  EXPECT_EQ(ErrorOf(j), "config.json: rope_local_base_freq = 1 must be > 1");
}

// Gemma 3's embed_tokens scales itself (Gemma3TextScaledWordEmbedding); its q/k norms are
// (1 + w); its local rotary is not its global one on tiny-gemma3.
TEST(Gemma3ReferenceTest, ScaledEmbeddingOnePlusWeightHeadNormsAndTwoRotaries) {
  const ModelConfig config = LoadModelConfig(ConfigPath("tiny-gemma3.json"));
  const StateDict weights = InitStateDict(config, 3);
  const std::unique_ptr<Reference> ref =
      ArchitectureOf(config).MakeReference(config, weights, nn::Precision::kFp32);
  const std::vector<int64_t> ids = {3, 7};
  const nn::Matrix e = ref->Run("embedding", -1, {nn::Matrix(), ids, {}});
  const float table = weights.at("model.embed_tokens.weight").ToFloats()[7 * 112 + 5];
  EXPECT_FLOAT_EQ(e(1, 5), table * std::sqrt(112.0f));

  const nn::Matrix q = nn::Matrix::Ones(1, 128);
  const std::vector<float> w = weights.at("model.layers.0.self_attn.q_norm.weight").ToFloats();
  EXPECT_NEAR(ref->Run("q_norm", 0, {q, {}, {}})(0, 1), 1.0f + w[1], 1e-5);

  const nn::Matrix qk = nn::Matrix::Ones(2, 192);
  const std::vector<int64_t> positions = {5, 9};
  const nn::Matrix global = ref->Run("rotary", 1, {qk, {}, positions});
  const nn::Matrix local = ref->Run("rotary_local", 0, {qk, {}, positions});
  EXPECT_GT((global - local).cwiseAbs().maxCoeff(), 0.1f);
}

TEST(GemmaPortTreeTest, HasFourNormsPerLayer) {
  const ModelConfig config = LoadModelConfig(ConfigPath("tiny-gemma2.json"));
  const std::vector<std::string> paths =
      FlatPaths(ArchitectureOf(config).BuiltinPortTree(config, {}));
  for (const char* norm : {"input_layernorm", "post_attention_layernorm",
                           "pre_feedforward_layernorm", "post_feedforward_layernorm"}) {
    EXPECT_THAT(paths, ::testing::Contains(std::string("model.layers.1.") + norm));
  }
}

}  // namespace
}  // namespace equiv
