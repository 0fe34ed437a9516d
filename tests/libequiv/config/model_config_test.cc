#include "libequiv/config/model_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "libequiv/families/registry.h"
#include "libequiv/tensor/error.h"
#include "tests/support/test_files.h"

namespace equiv {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

std::string ConfigPath(const std::string& name) {
  return std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/" + name;
}

// A small valid llama config; tests change one thing at a time.
json Llama() {
  return {{"model_type", "llama"},         {"hidden_size", 64},        {"intermediate_size", 128},
          {"num_hidden_layers", 2},        {"num_attention_heads", 4}, {"vocab_size", 256},
          {"max_position_embeddings", 256}};
}

json With(json config, const std::string& key, json value) {
  config[key] = std::move(value);
  return config;
}

ModelConfig Parse(const json& config) { return ParseModelConfig(config.dump()); }

// The message ParseModelConfig throws, or "no error".
std::string ErrorOfText(std::string_view text) {
  try {
    ParseModelConfig(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}
std::string ErrorOf(const json& config) { return ErrorOfText(config.dump()); }

TEST(ModelConfigShippedTest, TinyLlama) {
  const ModelConfig c = LoadModelConfig(ConfigPath("tiny-llama.json"));
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.hidden_size, 128);
  EXPECT_EQ(c.intermediate_size, 320);
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(c.num_attention_heads, 8);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.vocab_size, 256);
  EXPECT_EQ(c.max_position_embeddings, 256);
  EXPECT_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeType::kLlama3);
  EXPECT_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_EQ(c.rope_scaling.low_freq_factor, 1.0);
  EXPECT_EQ(c.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 64);
  EXPECT_EQ(c.rope_scaling.attention_factor, 1.0);
  EXPECT_EQ(c.hidden_act, HiddenAct::kSilu);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.o_proj_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.sliding_window, std::nullopt);
}

TEST(ModelConfigShippedTest, TinyMistral) {
  const ModelConfig c = LoadModelConfig(ConfigPath("tiny-mistral.json"));
  EXPECT_EQ(c.model_type, "mistral");
  EXPECT_EQ(c.hidden_size, 128);
  EXPECT_EQ(c.num_attention_heads, 8);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.rope_scaling.type, RopeType::kDefault);
  EXPECT_EQ(c.sliding_window, 16);
  EXPECT_EQ(SlidingWindowOfLayer(c, 0), 16);
  EXPECT_EQ(SlidingWindowOfLayer(c, 1), 16);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.o_proj_bias);
}

TEST(ModelConfigShippedTest, TinyQwen2) {
  const ModelConfig c = LoadModelConfig(ConfigPath("tiny-qwen2.json"));
  EXPECT_EQ(c.model_type, "qwen2");
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.rope_theta, 1e6);
  EXPECT_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_proj_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
  // use_sliding_window false switches the window off, as Qwen2Config does.
  EXPECT_EQ(c.sliding_window, std::nullopt);
  EXPECT_EQ(c.max_window_layers, 2);
}

TEST(ModelConfigShippedTest, Llama31_8B) {
  const ModelConfig c = LoadModelConfig(ConfigPath("llama-3.1-8b.json"));
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.hidden_size, 4096);
  EXPECT_EQ(c.intermediate_size, 14336);
  EXPECT_EQ(c.num_hidden_layers, 32);
  EXPECT_EQ(c.num_attention_heads, 32);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.vocab_size, 128256);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeType::kLlama3);
  EXPECT_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_EQ(c.rope_scaling.low_freq_factor, 1.0);
  EXPECT_EQ(c.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.mlp_bias);
}

TEST(ModelConfigShippedTest, Mistral7B) {
  const ModelConfig c = LoadModelConfig(ConfigPath("mistral-7b-v0.1.json"));
  EXPECT_EQ(c.model_type, "mistral");
  EXPECT_EQ(c.hidden_size, 4096);
  EXPECT_EQ(c.intermediate_size, 14336);
  EXPECT_EQ(c.num_hidden_layers, 32);
  EXPECT_EQ(c.num_attention_heads, 32);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.vocab_size, 32000);
  EXPECT_EQ(c.max_position_embeddings, 32768);
  EXPECT_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeType::kDefault);
  EXPECT_EQ(c.sliding_window, 4096);
}

TEST(ModelConfigShippedTest, Qwen2_7B) {
  const ModelConfig c = LoadModelConfig(ConfigPath("qwen2-7b.json"));
  EXPECT_EQ(c.model_type, "qwen2");
  EXPECT_EQ(c.hidden_size, 3584);
  EXPECT_EQ(c.intermediate_size, 18944);
  EXPECT_EQ(c.num_hidden_layers, 28);
  EXPECT_EQ(c.num_attention_heads, 28);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.vocab_size, 152064);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_EQ(c.rope_theta, 1e6);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_proj_bias);
  EXPECT_EQ(c.sliding_window, std::nullopt);
  EXPECT_EQ(c.max_window_layers, 28);
}

// Qwen3: head_dim given (not hidden / heads), biases from attention_bias, the qwen2 windows.
TEST(ModelConfigShippedTest, Qwen3_8B) {
  const ModelConfig c = LoadModelConfig(ConfigPath("qwen3-8b.json"));
  EXPECT_EQ(c.model_type, "qwen3");
  EXPECT_EQ(c.hidden_size, 4096);
  EXPECT_EQ(c.intermediate_size, 12288);
  EXPECT_EQ(c.num_hidden_layers, 36);
  EXPECT_EQ(c.num_attention_heads, 32);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.vocab_size, 151936);
  EXPECT_EQ(c.max_position_embeddings, 40960);
  EXPECT_EQ(c.rope_theta, 1e6);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.o_proj_bias);
  EXPECT_EQ(c.sliding_window, std::nullopt);
  const ModelConfig tiny = LoadModelConfig(ConfigPath("tiny-qwen3.json"));
  EXPECT_EQ(tiny.head_dim, 32);  // explicit, while hidden / heads = 16
  EXPECT_THAT(ErrorOfText(R"({"model_type": "qwen3", "hidden_size": 64,
                  "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4,
                  "vocab_size": 32, "max_position_embeddings": 64})"),
              HasSubstr("num_key_value_heads is missing (required for qwen3"));
  // Without head_dim, Qwen3Config's default 128, not hidden_size / num_attention_heads.
  EXPECT_EQ(ParseModelConfig(R"({"model_type": "qwen3", "hidden_size": 64,
      "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4,
      "num_key_value_heads": 2, "vocab_size": 32, "max_position_embeddings": 64})")
                .head_dim,
            128);
}

// Mixtral: mistral's attention with MixtralConfig's defaults, every MLP a mixture of experts.
TEST(ModelConfigShippedTest, Mixtral8x7B) {
  const ModelConfig c = LoadModelConfig(ConfigPath("mixtral-8x7b.json"));
  EXPECT_EQ(c.model_type, "mixtral");
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.rope_theta, 1e6);
  EXPECT_EQ(c.sliding_window, std::nullopt);
  EXPECT_EQ(c.moe.num_experts, 8);
  EXPECT_EQ(c.moe.num_experts_per_tok, 2);
  EXPECT_EQ(c.moe.moe_intermediate_size, 14336);
  EXPECT_TRUE(c.moe.norm_topk_prob);
  const std::string base = R"({"model_type": "mixtral", "hidden_size": 64,
      "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4,
      "vocab_size": 32, "max_position_embeddings": 64)";
  EXPECT_THAT(ErrorOfText(base + "}"),
              HasSubstr("num_key_value_heads is missing (required for mixtral"));
  const ModelConfig defaults = ParseModelConfig(base + R"(, "num_key_value_heads": 2})");
  EXPECT_EQ(defaults.moe.num_experts, 8);  // MixtralConfig's defaults
  EXPECT_EQ(defaults.moe.num_experts_per_tok, 2);
  EXPECT_EQ(defaults.rope_theta, 1e6);
  EXPECT_EQ(defaults.sliding_window, std::nullopt);
  EXPECT_THAT(ErrorOfText(base + R"(, "num_key_value_heads": 2, "num_local_experts": 4,
      "num_experts_per_tok": 5})"),
              HasSubstr("num_experts_per_tok"));
  EXPECT_THAT(ErrorOfText(base + R"(, "num_key_value_heads": 2, "num_local_experts": 1})"),
              HasSubstr("num_experts_per_tok is missing (HF's default 2 exceeds "
                        "num_local_experts = 1)"));
}

// Qwen2-MoE: qwen2's attention (q/k/v biases), 60 experts of 1408, top 4 not renormalized,
// a shared expert of 5632.
TEST(ModelConfigShippedTest, Qwen15MoeA27B) {
  const ModelConfig c = LoadModelConfig(ConfigPath("qwen1.5-moe-a2.7b.json"));
  EXPECT_EQ(c.model_type, "qwen2_moe");
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_proj_bias);
  EXPECT_EQ(c.sliding_window, std::nullopt);
  EXPECT_EQ(c.moe.num_experts, 60);
  EXPECT_EQ(c.moe.num_experts_per_tok, 4);
  EXPECT_EQ(c.moe.moe_intermediate_size, 1408);
  EXPECT_EQ(c.moe.shared_expert_intermediate_size, 5632);
  EXPECT_FALSE(c.moe.norm_topk_prob);
}

// Qwen3-MoE: qwen3's attention (q/k norms, explicit head_dim, no bias), 128 experts of 768,
// top 8 renormalized, no shared expert.
TEST(ModelConfigShippedTest, Qwen3_30BA3B) {
  const ModelConfig c = LoadModelConfig(ConfigPath("qwen3-30b-a3b.json"));
  EXPECT_EQ(c.model_type, "qwen3_moe");
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_EQ(c.moe.num_experts, 128);
  EXPECT_EQ(c.moe.num_experts_per_tok, 8);
  EXPECT_EQ(c.moe.moe_intermediate_size, 768);
  EXPECT_EQ(c.moe.shared_expert_intermediate_size, 0);
  EXPECT_TRUE(c.moe.norm_topk_prob);
}

// Their defaults are Qwen2MoeConfig's and Qwen3MoeConfig's; dense layers are refused by name.
TEST(ModelConfigRulesTest, QwenMoeDefaultsAndDenseLayers) {
  const std::string sizes = R"("hidden_size": 64, "intermediate_size": 128,
      "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 32,
      "max_position_embeddings": 64)";
  const std::string qwen2 = R"({"model_type": "qwen2_moe", )" + sizes;
  const std::string qwen3 = R"({"model_type": "qwen3_moe", )" + sizes;
  EXPECT_THAT(ErrorOfText(qwen2 + "}"),
              HasSubstr("num_key_value_heads is missing (required for qwen2_moe: HF's default "
                        "is 16"));
  EXPECT_THAT(ErrorOfText(qwen3 + "}"),
              HasSubstr("num_key_value_heads is missing (required for qwen3_moe: HF's default "
                        "is 4"));
  const ModelConfig q2 = ParseModelConfig(qwen2 + R"(, "num_key_value_heads": 2})");
  EXPECT_EQ(q2.moe.num_experts, 60);
  EXPECT_EQ(q2.moe.num_experts_per_tok, 4);
  EXPECT_EQ(q2.moe.moe_intermediate_size, 1408);
  EXPECT_EQ(q2.moe.shared_expert_intermediate_size, 5632);
  EXPECT_FALSE(q2.moe.norm_topk_prob);
  EXPECT_TRUE(q2.qkv_bias);
  const ModelConfig q3 = ParseModelConfig(qwen3 + R"(, "num_key_value_heads": 2})");
  EXPECT_EQ(q3.moe.num_experts, 128);
  EXPECT_EQ(q3.moe.num_experts_per_tok, 8);
  EXPECT_EQ(q3.moe.moe_intermediate_size, 768);
  EXPECT_EQ(q3.moe.shared_expert_intermediate_size, 0);
  EXPECT_FALSE(q3.moe.norm_topk_prob);
  EXPECT_EQ(q3.head_dim, 16);  // hidden_size / num_attention_heads: Qwen3MoeConfig has none
  EXPECT_THAT(ErrorOfText(qwen2 + R"(, "num_key_value_heads": 2, "decoder_sparse_step": 2})"),
              HasSubstr("decoder_sparse_step = 2 makes layer 0 a dense MLP, which the qwen2_moe "
                        "family does not build"));
  EXPECT_THAT(ErrorOfText(qwen3 + R"(, "num_key_value_heads": 2, "mlp_only_layers": [1]})"),
              HasSubstr("makes layer 1 a dense MLP, which the qwen3_moe family does not build"));
  // Layers the model does not have are ignored, as HF ignores them.
  EXPECT_EQ(ParseModelConfig(qwen3 + R"(, "num_key_value_heads": 2, "mlp_only_layers": [7]})")
                .moe.num_experts,
            128);
  EXPECT_THAT(ErrorOfText(qwen2 + R"(, "num_key_value_heads": 2, "use_sliding_window": true})"),
              HasSubstr("use_sliding_window = true is not supported for qwen2_moe"));
  EXPECT_THAT(ErrorOfText(qwen2 + R"(, "num_key_value_heads": 2, "num_experts": 2})"),
              HasSubstr("num_experts_per_tok is missing (HF's default 4 exceeds num_experts = 2)"));
}

// GptOssConfig's defaults: head_dim 64, YaRN over 4096 positions (factor 32, no truncation),
// sliding and full layers alternating from a 128 window, top 4 of 128 experts, clamp 7.
TEST(ModelConfigRulesTest, GptOssDefaultsAndUnsupportedFields) {
  const std::string base = R"({"model_type": "gpt_oss", "hidden_size": 64,
      "intermediate_size": 32, "num_hidden_layers": 3, "num_attention_heads": 4,
      "vocab_size": 32, "max_position_embeddings": 131072)";
  EXPECT_THAT(ErrorOfText(base + "}"),
              HasSubstr("num_key_value_heads is missing (required for gpt_oss: HF's default is "
                        "8"));
  const std::string with_kv = base + R"(, "num_key_value_heads": 2)";
  const ModelConfig c = ParseModelConfig(with_kv + "}");
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.rope_theta, 150000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeType::kYarn);
  EXPECT_EQ(c.rope_scaling.factor, 32.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 4096);
  EXPECT_FALSE(c.rope_scaling.truncate);
  EXPECT_NEAR(c.rope_scaling.attention_factor, 0.1 * std::log(32.0) + 1.0, 1e-15);
  EXPECT_EQ(c.sliding_window, 128);
  EXPECT_EQ(c.layer_types,
            (std::vector<LayerAttention>{LayerAttention::kSliding, LayerAttention::kFull,
                                         LayerAttention::kSliding}));
  EXPECT_EQ(c.moe.num_experts, 128);
  EXPECT_EQ(c.moe.num_experts_per_tok, 4);
  EXPECT_EQ(c.moe.moe_intermediate_size, 32);
  EXPECT_TRUE(c.moe.softmax_after_topk);
  EXPECT_EQ(c.moe.swiglu_limit, 7.0);
  EXPECT_EQ(c.moe.swiglu_alpha, 1.702);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_TRUE(c.o_proj_bias);
  EXPECT_EQ(ParseModelConfig(ToJson(c).dump()), c);
  EXPECT_THAT(ErrorOfText(with_kv + R"(, "layer_types": ["full_attention"]})"),
              HasSubstr("must have num_hidden_layers = 3 entries, has 1"));
  EXPECT_THAT(
      ErrorOfText(with_kv + R"(, "layer_types": ["full_attention", "global", "full_attention"]})"),
      HasSubstr("layer_types[1] = \"global\" must be \"sliding_attention\" or \"full_attention\""));
  EXPECT_THAT(ErrorOfText(with_kv + R"(, "experts_per_token": 2})"),
              HasSubstr("experts_per_token = 2 differs from num_experts_per_tok = 4"));
  EXPECT_THAT(ErrorOfText(with_kv + R"(, "swiglu_limit": 0})"), HasSubstr("swiglu_limit = 0"));
  EXPECT_THAT(ErrorOfText(with_kv + R"(, "num_local_experts": 2})"),
              HasSubstr("num_experts_per_tok is missing (HF's default 4 exceeds "
                        "num_local_experts = 2)"));
}

TEST(ModelConfigShippedTest, EveryShippedConfigRoundTrips) {
  for (const char* name : {"tiny-llama.json",        "tiny-mistral.json",    "tiny-qwen2.json",
                           "tiny-llama-yarn.json",   "tiny-llama-long.json", "tiny-qwen3.json",
                           "tiny-gemma2.json",       "tiny-gemma3.json",     "tiny-mixtral.json",
                           "tiny-qwen2-moe.json",    "tiny-qwen3-moe.json",  "llama-3.1-8b.json",
                           "mistral-7b-v0.1.json",   "qwen2-7b.json",        "qwen3-8b.json",
                           "gemma-2-9b.json",        "gemma-3-1b-it.json",   "mixtral-8x7b.json",
                           "qwen1.5-moe-a2.7b.json", "qwen3-30b-a3b.json",   "tiny-gpt-oss.json",
                           "gpt-oss-20b.json"}) {
    SCOPED_TRACE(name);
    const ModelConfig c = LoadModelConfig(ConfigPath(name));
    EXPECT_EQ(ParseModelConfig(ToJson(c).dump()), c);
  }
}

// openai/gpt-oss-20b's config.json ships HF's Mxfp4Config: read, recorded, written back.
TEST(ModelConfigQuantizationTest, GptOssShipsMxfp4) {
  const ModelConfig c = LoadModelConfig(ConfigPath("gpt-oss-20b.json"));
  ASSERT_TRUE(c.quantization.has_value());
  EXPECT_EQ(c.quantization->quant_method, "mxfp4");
  EXPECT_EQ(c.quantization->modules_to_not_convert,
            (std::vector<std::string>{"model.layers.*.self_attn", "model.layers.*.mlp.router",
                                      "model.embed_tokens", "lm_head"}));
  EXPECT_FALSE(c.quantization->dequantize);
  const json written = ToJson(c);
  EXPECT_EQ(written["quantization_config"]["quant_method"], "mxfp4");
  EXPECT_EQ(ParseModelConfig(written.dump()), c);
  // Without it: a float checkpoint.
  EXPECT_FALSE(LoadModelConfig(ConfigPath("tiny-gpt-oss.json")).quantization.has_value());
  EXPECT_FALSE(
      ToJson(LoadModelConfig(ConfigPath("tiny-gpt-oss.json"))).contains("quantization_config"));
  // dequantize round-trips; null is "none".
  json with = Llama();
  with["quantization_config"] = {{"quant_method", "mxfp4"}, {"dequantize", true}};
  const ModelConfig d = Parse(with);
  ASSERT_TRUE(d.quantization.has_value());
  EXPECT_TRUE(d.quantization->dequantize);
  EXPECT_TRUE(d.quantization->modules_to_not_convert.empty());
  EXPECT_EQ(ParseModelConfig(ToJson(d).dump()), d);
  EXPECT_FALSE(Parse(With(Llama(), "quantization_config", nullptr)).quantization.has_value());
}

TEST(ModelConfigQuantizationTest, BadFieldsAreNamed) {
  EXPECT_THAT(ErrorOf(With(Llama(), "quantization_config", json{{"bits", 4}})),
              HasSubstr("quantization_config.quant_method is missing"));
  EXPECT_THAT(ErrorOf(With(Llama(), "quantization_config", json{{"quant_method", "gptq"}})),
              HasSubstr("quantization_config.quant_method = \"gptq\" is not supported (mxfp4"));
  EXPECT_THAT(ErrorOf(With(Llama(), "quantization_config", "mxfp4")),
              HasSubstr("quantization_config = \"mxfp4\" must be an object or null"));
  EXPECT_THAT(ErrorOf(With(Llama(), "quantization_config",
                           json{{"quant_method", "mxfp4"}, {"modules_to_not_convert", "lm_head"}})),
              HasSubstr("quantization_config.modules_to_not_convert = \"lm_head\" must be a "
                        "list of module paths"));
  EXPECT_THAT(
      ErrorOf(With(Llama(), "quantization_config",
                   json{{"quant_method", "mxfp4"}, {"modules_to_not_convert", {"lm_head", 3}}})),
      HasSubstr("quantization_config.modules_to_not_convert[1] = 3 must be a module path"));
  EXPECT_THAT(ErrorOf(With(Llama(), "quantization_config",
                           json{{"quant_method", "mxfp4"}, {"dequantize", "yes"}})),
              HasSubstr("quantization_config.dequantize"));
}

TEST(ModelConfigQuantizationTest, ModulesNotConvertedMatchAsHfDoes) {
  QuantizationConfig q;
  q.modules_to_not_convert = {"model.layers.*.self_attn", "model.layers.*.mlp.router",
                              "model.embed_tokens", "lm_head"};
  EXPECT_TRUE(ModuleNotConverted(q, "model.layers.0.self_attn.q_proj.weight"));
  EXPECT_TRUE(ModuleNotConverted(q, "model.layers.17.mlp.router.bias"));
  EXPECT_TRUE(ModuleNotConverted(q, "model.embed_tokens.weight"));
  EXPECT_TRUE(ModuleNotConverted(q, "lm_head.weight"));
  EXPECT_FALSE(ModuleNotConverted(q, "model.layers.0.mlp.experts.gate_up_proj"));
  EXPECT_FALSE(ModuleNotConverted(q, "model.layers.0.mlp.experts.down_proj"));
  EXPECT_FALSE(ModuleNotConverted(q, "model.layers.0.self_attn_x.weight"));  // whole names only
  EXPECT_FALSE(ModuleNotConverted(QuantizationConfig{}, "lm_head.weight"));
}

TEST(ModelConfigDefaultsTest, AsTransformersFillsThem) {
  const ModelConfig c = Parse(Llama());
  EXPECT_EQ(c.num_key_value_heads, 4);  // num_attention_heads
  EXPECT_EQ(c.head_dim, 16);            // hidden_size / num_attention_heads
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_EQ(c.rope_scaling, RopeScaling{});
  EXPECT_EQ(c.hidden_act, HiddenAct::kSilu);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.sliding_window, std::nullopt);
}

TEST(ModelConfigDefaultsTest, NullMeansDefault) {
  json config = Llama();
  config["num_key_value_heads"] = nullptr;
  config["head_dim"] = nullptr;
  config["rope_theta"] = nullptr;
  config["rope_scaling"] = nullptr;
  config["attention_bias"] = nullptr;
  EXPECT_EQ(Parse(config), Parse(Llama()));
  // mistral and qwen2 read an explicit null as num_attention_heads too.
  config = With(Llama(), "model_type", "mistral");
  config["num_key_value_heads"] = nullptr;
  EXPECT_EQ(Parse(config).num_key_value_heads, 4);
}

TEST(ModelConfigDefaultsTest, GivenHeadDimNeedNotDivideHiddenSize) {
  json config = With(Llama(), "hidden_size", 100);
  config["head_dim"] = 32;
  EXPECT_EQ(Parse(config).head_dim, 32);
}

TEST(ModelConfigDefaultsTest, LlamaBiasesAndActivations) {
  json config = With(Llama(), "attention_bias", true);
  config["mlp_bias"] = true;
  config["hidden_act"] = "gelu_pytorch_tanh";
  const ModelConfig c = Parse(config);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_TRUE(c.o_proj_bias);  // LlamaAttention's o_proj shares attention_bias
  EXPECT_TRUE(c.mlp_bias);
  EXPECT_EQ(c.hidden_act, HiddenAct::kGeluPytorchTanh);
  EXPECT_EQ(Parse(With(Llama(), "hidden_act", "gelu")).hidden_act, HiddenAct::kGelu);
}

TEST(ModelConfigDefaultsTest, MistralAndQwen2IgnoreLlamaBiasFields) {
  json config = With(Llama(), "num_key_value_heads", 2);
  config["attention_bias"] = true;
  config["mlp_bias"] = true;
  config["model_type"] = "mistral";
  ModelConfig c = Parse(config);
  EXPECT_FALSE(c.qkv_bias || c.o_proj_bias || c.mlp_bias);
  config["model_type"] = "qwen2";
  c = Parse(config);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_proj_bias || c.mlp_bias);
}

TEST(ModelConfigDefaultsTest, SlidingWindow) {
  json mistral = With(Llama(), "model_type", "mistral");
  mistral["num_key_value_heads"] = 2;
  EXPECT_EQ(Parse(mistral).sliding_window, 4096);  // MistralConfig's default
  EXPECT_EQ(Parse(With(mistral, "sliding_window", nullptr)).sliding_window, std::nullopt);
  EXPECT_EQ(Parse(With(mistral, "sliding_window", 8)).sliding_window, 8);
  // Llama has no sliding window, whatever the file says.
  EXPECT_EQ(Parse(With(Llama(), "sliding_window", 8)).sliding_window, std::nullopt);

  json qwen2 = With(mistral, "model_type", "qwen2");
  EXPECT_EQ(Parse(qwen2).sliding_window, std::nullopt);  // use_sliding_window is false
  EXPECT_EQ(Parse(qwen2).max_window_layers, 28);
  qwen2["use_sliding_window"] = true;
  qwen2["sliding_window"] = 32;
  qwen2["max_window_layers"] = 1;
  const ModelConfig c = Parse(qwen2);
  EXPECT_EQ(c.sliding_window, 32);
  EXPECT_EQ(SlidingWindowOfLayer(c, 0), std::nullopt);  // below max_window_layers
  EXPECT_EQ(SlidingWindowOfLayer(c, 1), 32);
  qwen2["layer_types"] = {"full_attention", "sliding_attention"};
  EXPECT_EQ(Parse(qwen2), c);
}

TEST(ModelConfigDefaultsTest, UnknownFieldsAreIgnored) {
  json config = Llama();
  config["torch_dtype"] = "bfloat16";
  config["some_future_field"] = json::array({1, 2, 3});
  EXPECT_EQ(Parse(config), Parse(Llama()));
}

// HF's llama-type attention rotates the whole head; a partial rotary factor is refused, not
// ignored, whether transformers 4 (top level) or 5 (rope_parameters) writes it.
TEST(ModelConfigRopeTest, PartialRotaryFactorIsRejected) {
  EXPECT_EQ(Parse(With(Llama(), "partial_rotary_factor", 1.0)), Parse(Llama()));
  EXPECT_EQ(Parse(With(Llama(), "partial_rotary_factor", nullptr)), Parse(Llama()));
  EXPECT_THAT(ErrorOf(With(Llama(), "partial_rotary_factor", 0.5)),
              ::testing::AllOf(HasSubstr("partial_rotary_factor = 0.5 is not supported"),
                               HasSubstr("HF's llama rotates all head_dim = 16 dims"),
                               HasSubstr("only 1.0 is accepted")));
  EXPECT_THAT(
      ErrorOf(
          With(Llama(), "rope_parameters",
               {{"rope_type", "default"}, {"rope_theta", 1e4}, {"partial_rotary_factor", 0.25}})),
      HasSubstr("rope_parameters.partial_rotary_factor = 0.25 is not supported"));
  EXPECT_THAT(ErrorOf(With(Llama(), "partial_rotary_factor", "half")),
              HasSubstr("partial_rotary_factor = \"half\""));
}

TEST(ModelConfigRopeTest, DefaultTypeIsNoScaling) {
  const ModelConfig c = Parse(With(Llama(), "rope_scaling", {{"rope_type", "default"}}));
  EXPECT_EQ(c.rope_scaling, RopeScaling{});
}

TEST(ModelConfigRopeTest, LinearAndDynamic) {
  ModelConfig c = Parse(With(Llama(), "rope_scaling", {{"rope_type", "linear"}, {"factor", 2}}));
  EXPECT_EQ(c.rope_scaling.type, RopeType::kLinear);
  EXPECT_EQ(c.rope_scaling.factor, 2.0);
  EXPECT_EQ(c.rope_scaling.attention_factor, 1.0);
  // The legacy key "type" still names the type.
  c = Parse(With(Llama(), "rope_scaling", {{"type", "dynamic"}, {"factor", 4.0}}));
  EXPECT_EQ(c.rope_scaling.type, RopeType::kDynamic);
  EXPECT_EQ(c.rope_scaling.factor, 4.0);
}

TEST(ModelConfigRopeTest, YarnDefaults) {
  const ModelConfig c =
      Parse(With(Llama(), "rope_scaling", {{"rope_type", "yarn"}, {"factor", 4}}));
  const RopeScaling& s = c.rope_scaling;
  EXPECT_EQ(s.type, RopeType::kYarn);
  EXPECT_EQ(s.factor, 4.0);
  EXPECT_EQ(s.original_max_position_embeddings, 256);  // max_position_embeddings
  EXPECT_EQ(s.beta_fast, 32.0);
  EXPECT_EQ(s.beta_slow, 1.0);
  EXPECT_TRUE(s.truncate);
  EXPECT_DOUBLE_EQ(s.attention_factor, 0.1 * std::log(4.0) + 1.0);
}

TEST(ModelConfigRopeTest, YarnGivenFields) {
  json rope = {{"rope_type", "yarn"},    {"factor", 4.0},  {"original_max_position_embeddings", 64},
               {"beta_fast", 16},        {"beta_slow", 2}, {"truncate", false},
               {"attention_factor", 1.5}};
  const RopeScaling s = Parse(With(Llama(), "rope_scaling", rope)).rope_scaling;
  EXPECT_EQ(s.original_max_position_embeddings, 64);
  EXPECT_EQ(s.beta_fast, 16.0);
  EXPECT_EQ(s.beta_slow, 2.0);
  EXPECT_FALSE(s.truncate);
  EXPECT_EQ(s.attention_factor, 1.5);
}

TEST(ModelConfigRopeTest, YarnMscaleRatio) {
  json rope = {{"rope_type", "yarn"}, {"factor", 40}, {"mscale", 1.0}, {"mscale_all_dim", 0.5}};
  const RopeScaling s = Parse(With(Llama(), "rope_scaling", rope)).rope_scaling;
  const double l = std::log(40.0);
  EXPECT_DOUBLE_EQ(s.attention_factor, (0.1 * l + 1.0) / (0.05 * l + 1.0));
  // Equal mscales cancel (DeepSeek-V2-Lite).
  rope["mscale_all_dim"] = 1.0;
  EXPECT_DOUBLE_EQ(Parse(With(Llama(), "rope_scaling", rope)).rope_scaling.attention_factor, 1.0);
  // One of them zero: HF falls back to the plain factor.
  rope["mscale"] = 0;
  EXPECT_DOUBLE_EQ(Parse(With(Llama(), "rope_scaling", rope)).rope_scaling.attention_factor,
                   0.1 * l + 1.0);
}

TEST(ModelConfigRopeTest, Llama3) {
  json rope = {{"rope_type", "llama3"},
               {"factor", 32.0},
               {"low_freq_factor", 1.0},
               {"high_freq_factor", 4.0},
               {"original_max_position_embeddings", 128}};
  const RopeScaling s = Parse(With(Llama(), "rope_scaling", rope)).rope_scaling;
  EXPECT_EQ(s.type, RopeType::kLlama3);
  EXPECT_EQ(s.factor, 32.0);
  EXPECT_EQ(s.low_freq_factor, 1.0);
  EXPECT_EQ(s.high_freq_factor, 4.0);
  EXPECT_EQ(s.original_max_position_embeddings, 128);
  EXPECT_EQ(s.attention_factor, 1.0);
}

TEST(ModelConfigRopeTest, Transformers5RopeParameters) {
  json config = With(Llama(), "rope_parameters",
                     {{"rope_type", "linear"}, {"factor", 2.0}, {"rope_theta", 500000.0}});
  config["rope_theta"] = 1234.0;  // the rope_parameters value wins
  ModelConfig c = Parse(config);
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeType::kLinear);
  // Without a type, rope_parameters only carries rope_theta.
  c = Parse(With(Llama(), "rope_parameters", {{"rope_theta", 500000.0}}));
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeType::kDefault);
}

TEST(ModelConfigErrorTest, MissingField) {
  json config = Llama();
  config.erase("hidden_size");
  EXPECT_EQ(ErrorOf(config), "config.json: hidden_size is missing");
  config = Llama();
  config.erase("model_type");
  EXPECT_EQ(ErrorOf(config),
            "config.json: model_type is missing (llama, mistral, qwen2, qwen3, gemma2, "
            "gemma3_text, mixtral, qwen2_moe, qwen3_moe, gpt_oss)");
}

TEST(ModelConfigErrorTest, MissingKvHeadsForMistralAndQwen2) {
  EXPECT_THAT(ErrorOf(With(Llama(), "model_type", "mistral")),
              HasSubstr("num_key_value_heads is missing (required for mistral: HF's default is 8"));
  EXPECT_THAT(ErrorOf(With(Llama(), "model_type", "qwen2")),
              HasSubstr("num_key_value_heads is missing (required for qwen2: HF's default is 32"));
}

TEST(ModelConfigErrorTest, WrongType) {
  EXPECT_EQ(ErrorOf(With(Llama(), "hidden_size", "64")),
            "config.json: hidden_size = \"64\" must be an integer");
  EXPECT_EQ(ErrorOf(With(Llama(), "hidden_size", 64.0)),
            "config.json: hidden_size = 64.0 must be an integer");
  EXPECT_EQ(ErrorOf(With(Llama(), "tie_word_embeddings", 1)),
            "config.json: tie_word_embeddings = 1 must be true or false");
  EXPECT_EQ(ErrorOf(With(Llama(), "rms_norm_eps", "1e-5")),
            "config.json: rms_norm_eps = \"1e-5\" must be a number");
  EXPECT_EQ(ErrorOf(With(Llama(), "model_type", json::array({"llama"}))),
            "config.json: model_type = [...] must be a string");
  EXPECT_EQ(ErrorOf(With(Llama(), "rope_scaling", 8)),
            "config.json: rope_scaling = 8 must be an object or null");
  EXPECT_EQ(ErrorOfText("[1, 2]"),
            "config.json: the top level must be a JSON object, not an array");
}

TEST(ModelConfigErrorTest, NonDivisibleHeads) {
  json config = With(Llama(), "hidden_size", 4096);
  config["num_attention_heads"] = 32;
  config["num_key_value_heads"] = 5;
  EXPECT_EQ(ErrorOf(config),
            "config.json: num_key_value_heads = 5 must divide num_attention_heads = 32");
  EXPECT_EQ(ErrorOf(With(Llama(), "hidden_size", 66)),
            "config.json: hidden_size = 66 must be divisible by num_attention_heads = 4 when "
            "head_dim is not given");
  EXPECT_EQ(ErrorOf(With(Llama(), "head_dim", 15)),
            "config.json: head_dim = 15 must be even (rotary embedding turns pairs)");
}

TEST(ModelConfigErrorTest, NonPositiveOrHugeSize) {
  EXPECT_EQ(ErrorOf(With(Llama(), "intermediate_size", -1)),
            "config.json: intermediate_size = -1 must be positive");
  EXPECT_EQ(ErrorOf(With(Llama(), "num_hidden_layers", 0)),
            "config.json: num_hidden_layers = 0 must be positive");
  EXPECT_EQ(ErrorOf(With(Llama(), "vocab_size", 4294967296)),
            "config.json: vocab_size = 4294967296 must be at most 2147483647");
  EXPECT_EQ(ErrorOfText(R"({"model_type": "llama", "hidden_size": 18446744073709551615})"),
            "config.json: hidden_size = 18446744073709551615 must be at most 2147483647");
}

TEST(ModelConfigErrorTest, BadNumbers) {
  EXPECT_EQ(ErrorOf(With(Llama(), "rms_norm_eps", 0)), "config.json: rms_norm_eps = 0 must be > 0");
  EXPECT_EQ(ErrorOf(With(Llama(), "rope_theta", 1)), "config.json: rope_theta = 1 must be > 1");
}

TEST(ModelConfigErrorTest, UnsupportedModelType) {
  EXPECT_EQ(ErrorOf(With(Llama(), "model_type", "gemma")),
            "config.json: model_type = \"gemma\" is not supported (llama, mistral, qwen2, qwen3, "
            "gemma2, gemma3_text, mixtral, qwen2_moe, qwen3_moe, gpt_oss)");
}

TEST(ModelConfigErrorTest, UnknownRopeType) {
  EXPECT_EQ(ErrorOf(With(Llama(), "rope_scaling", {{"rope_type", "longrope"}})),
            "config.json: rope_scaling.rope_type = \"longrope\" is not a supported rope type "
            "(default, linear, dynamic, yarn, llama3)");
  EXPECT_EQ(ErrorOf(With(Llama(), "rope_scaling", {{"type", "ntk"}})),
            "config.json: rope_scaling.type = \"ntk\" is not a supported rope type (default, "
            "linear, dynamic, yarn, llama3)");
  EXPECT_EQ(ErrorOf(With(Llama(), "rope_scaling", {{"factor", 2.0}})),
            "config.json: rope_scaling.rope_type is missing (or the legacy \"type\")");
}

TEST(ModelConfigErrorTest, BadRopeFields) {
  EXPECT_EQ(ErrorOf(With(Llama(), "rope_scaling", {{"rope_type", "linear"}, {"factor", 0.5}})),
            "config.json: rope_scaling.factor = 0.5 must be >= 1");
  EXPECT_EQ(ErrorOf(With(Llama(), "rope_scaling", {{"rope_type", "yarn"}})),
            "config.json: rope_scaling.factor is missing");
  EXPECT_EQ(ErrorOf(With(Llama(), "rope_scaling",
                         {{"rope_type", "yarn"}, {"factor", 2}, {"beta_fast", 0.5}})),
            "config.json: rope_scaling.beta_fast = 0.5 must be >= beta_slow = 1.0");
  EXPECT_EQ(ErrorOf(With(Llama(), "rope_scaling",
                         {{"rope_type", "yarn"}, {"factor", 2}, {"attention_factor", -1}})),
            "config.json: rope_scaling.attention_factor = -1 must be > 0");
  json llama3 = {{"rope_type", "llama3"},
                 {"factor", 8.0},
                 {"low_freq_factor", 4.0},
                 {"high_freq_factor", 4.0},
                 {"original_max_position_embeddings", 64}};
  EXPECT_EQ(ErrorOf(With(Llama(), "rope_scaling", llama3)),
            "config.json: rope_scaling.high_freq_factor = 4.0 must be greater than "
            "low_freq_factor = 4.0");
  llama3["low_freq_factor"] = 1.0;
  llama3["original_max_position_embeddings"] = 256;
  EXPECT_EQ(ErrorOf(With(Llama(), "rope_scaling", llama3)),
            "config.json: rope_scaling.original_max_position_embeddings = 256 must be less than "
            "max_position_embeddings = 256");
  llama3.erase("original_max_position_embeddings");
  EXPECT_EQ(ErrorOf(With(Llama(), "rope_scaling", llama3)),
            "config.json: rope_scaling.original_max_position_embeddings is missing");
  json dynamic = With(Llama(), "rope_scaling", {{"rope_type", "dynamic"}, {"factor", 2}});
  dynamic["head_dim"] = 2;
  EXPECT_EQ(ErrorOf(dynamic), "config.json: head_dim = 2 must be > 2 for dynamic rope scaling");
}

TEST(ModelConfigErrorTest, UnknownActivation) {
  EXPECT_EQ(ErrorOf(With(Llama(), "hidden_act", "relu")),
            "config.json: hidden_act = \"relu\" is not a supported activation (silu, gelu, "
            "gelu_pytorch_tanh)");
}

TEST(ModelConfigErrorTest, InvalidSlidingWindow) {
  json mistral = With(Llama(), "model_type", "mistral");
  mistral["num_key_value_heads"] = 2;
  EXPECT_EQ(ErrorOf(With(mistral, "sliding_window", 0)),
            "config.json: sliding_window = 0 must be a positive integer or null");
  EXPECT_EQ(ErrorOf(With(mistral, "sliding_window", -16)),
            "config.json: sliding_window = -16 must be a positive integer or null");
  EXPECT_EQ(ErrorOf(With(mistral, "sliding_window", "16")),
            "config.json: sliding_window = \"16\" must be a positive integer or null");
  json qwen2 = With(mistral, "model_type", "qwen2");
  qwen2["use_sliding_window"] = true;
  EXPECT_EQ(ErrorOf(With(qwen2, "sliding_window", 0.5)),
            "config.json: sliding_window = 0.5 must be a positive integer or null");
  // Unused (use_sliding_window false), as HF ignores it.
  qwen2["use_sliding_window"] = false;
  EXPECT_EQ(ErrorOf(With(qwen2, "sliding_window", 0)), "no error");
}

TEST(ModelConfigErrorTest, LayerTypesOtherThanHfsPattern) {
  json qwen2 = With(Llama(), "model_type", "qwen2");
  qwen2["num_key_value_heads"] = 2;
  qwen2["layer_types"] = {"full_attention", "sliding_attention"};
  EXPECT_EQ(ErrorOf(qwen2),
            "config.json: layer_types[1] = \"sliding_attention\" differs from "
            "\"full_attention\", which use_sliding_window, sliding_window and "
            "max_window_layers give");
  qwen2["layer_types"] = {"full_attention"};
  EXPECT_EQ(ErrorOf(qwen2),
            "config.json: layer_types = [...] must have num_hidden_layers = 2 entries, has 1");
}

TEST(ModelConfigErrorTest, MalformedJsonGivesByteOffset) {
  // The stray comma is byte 18 (0-based).
  EXPECT_THAT(ErrorOfText(R"({"hidden_size": 6,, "x": 1})"),
              StartsWith("config.json: malformed JSON at byte 18: parse error at line 1, "
                         "column 19: syntax error"));
  EXPECT_THAT(ErrorOfText(""), StartsWith("config.json: malformed JSON at byte 0: "));
  EXPECT_THAT(ErrorOfText("{\"a\": 1} x"), StartsWith("config.json: malformed JSON at byte 9: "));
  EXPECT_THAT(
      ErrorOfText("{\"rope_theta\": 1e400}"),
      StartsWith("config.json: malformed JSON at byte 19: number overflow parsing '1e400'"));
  EXPECT_THAT(ErrorOfText("{\n  \"a\": trux\n}"),
              StartsWith("config.json: malformed JSON at byte 12: parse error at line 2, "
                         "column 11"));
}

TEST(ModelConfigErrorTest, LongValuesAreCut) {
  const std::string error = ErrorOf(With(Llama(), "model_type", std::string(500, 'x')));
  EXPECT_THAT(error, HasSubstr("model_type = \"xxxx"));
  EXPECT_THAT(error, HasSubstr("xxx... is not supported"));
  // The cut value and the message around it, whatever the list of supported types.
  EXPECT_LT(error.size(), 100u + SupportedModelTypes().size());
}

TEST(ModelConfigErrorTest, SourceAndPathNameTheFile) {
  EXPECT_THAT(ErrorOf(With(Llama(), "hidden_size", 0)), StartsWith("config.json: "));
  try {
    ParseModelConfig("{}", "models/x/config.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "models/x/config.json: model_type is missing (llama, mistral, qwen2, qwen3, "
                 "gemma2, gemma3_text, mixtral, qwen2_moe, qwen3_moe, gpt_oss)");
  }
  const std::string missing = ConfigPath("no-such-config.json");
  try {
    LoadModelConfig(missing);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": cannot open: No such file or directory");
  }
  const std::string directory = ConfigPath("");
  try {
    LoadModelConfig(directory);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), directory + ": is a directory");
  }
  const std::string path = testing_support::TestDir() + "/broken.json";
  std::ofstream(path) << "{\"model_type\": \"llama\", \"hidden_size\": -3}";
  try {
    LoadModelConfig(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ": hidden_size = -3 must be positive");
  }
}

TEST(ModelConfigTest, SlidingWindowOfLayerChecksTheLayer) {
  const ModelConfig c = LoadModelConfig(ConfigPath("tiny-mistral.json"));
  EXPECT_THROW(SlidingWindowOfLayer(c, 2), Error);
  EXPECT_THROW(SlidingWindowOfLayer(c, -1), Error);
}

TEST(ModelConfigToJsonTest, RoundTripsEveryVariant) {
  std::vector<json> configs = {
      Llama(),
      With(With(Llama(), "attention_bias", true), "mlp_bias", true),
      With(Llama(), "rope_scaling", {{"rope_type", "linear"}, {"factor", 3.0}}),
      With(Llama(), "rope_scaling", {{"rope_type", "dynamic"}, {"factor", 1.5}}),
      With(Llama(), "rope_scaling",
           {{"rope_type", "yarn"},
            {"factor", 4.0},
            {"truncate", false},
            {"mscale", 0.7},
            {"mscale_all_dim", 0.3}}),
      With(With(Llama(), "hidden_act", "gelu"), "rms_norm_eps", 1.0 / 3.0),
  };
  json mistral = With(With(Llama(), "model_type", "mistral"), "num_key_value_heads", 1);
  configs.push_back(mistral);
  configs.push_back(With(mistral, "sliding_window", nullptr));
  json qwen2 = With(mistral, "model_type", "qwen2");
  configs.push_back(qwen2);
  qwen2["use_sliding_window"] = true;
  qwen2["max_window_layers"] = 1;
  configs.push_back(qwen2);
  for (const json& config : configs) {
    SCOPED_TRACE(config.dump());
    const ModelConfig c = Parse(config);
    EXPECT_EQ(ParseModelConfig(ToJson(c).dump()), c);
  }
}

TEST(ModelConfigToJsonTest, WritesWhatTransformersReads) {
  const json llama = ToJson(LoadModelConfig(ConfigPath("llama-3.1-8b.json")));
  EXPECT_EQ(llama["architectures"], json::array({"LlamaForCausalLM"}));
  EXPECT_EQ(llama["rope_scaling"]["rope_type"], "llama3");
  EXPECT_EQ(llama["head_dim"], 128);
  EXPECT_FALSE(llama.contains("sliding_window"));
  const json mistral =
      ToJson(Parse(With(With(With(Llama(), "model_type", "mistral"), "num_key_value_heads", 2),
                        "sliding_window", nullptr)));
  // An absent window would read back as MistralConfig's 4096.
  EXPECT_TRUE(mistral.contains("sliding_window"));
  EXPECT_TRUE(mistral["sliding_window"].is_null());
  const json qwen2 = ToJson(LoadModelConfig(ConfigPath("qwen2-7b.json")));
  EXPECT_EQ(qwen2["use_sliding_window"], false);
  EXPECT_FALSE(qwen2.contains("attention_bias"));
}

TEST(ModelConfigTest, Names) {
  EXPECT_EQ(HiddenActName(HiddenAct::kGeluPytorchTanh), "gelu_pytorch_tanh");
  EXPECT_EQ(RopeTypeName(RopeType::kLlama3), "llama3");
  EXPECT_EQ(::testing::PrintToString(RopeType::kYarn), "yarn");
}

}  // namespace
}  // namespace equiv
