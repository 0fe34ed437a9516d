// The llama family's reading of config.json beyond the shared fields: the kv heads default,
// biases, sliding windows (docs/model-config.md).
#include <string>

#include "libequiv/families/llama/llama_family.h"

namespace equiv {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultSlidingWindow = 4096;  // MistralConfig, Qwen2Config
constexpr int64_t kDefaultMaxWindowLayers = 28;  // Qwen2Config

// A window is a positive integer; null means none.
std::optional<int64_t> SlidingWindow(const ConfigFields& top) {
  if (!top.Has("sliding_window")) return kDefaultSlidingWindow;
  const json* value = top.Get("sliding_window");
  if (value == nullptr) return std::nullopt;
  const bool positive = value->is_number_unsigned()
                            ? value->get<uint64_t>() > 0
                            : value->is_number_integer() && value->get<int64_t>() > 0;
  if (!positive) top.Fail("sliding_window", *value, "must be a positive integer or null");
  return top.Size("sliding_window", *value);
}

// qwen2's explicit layer_types must be the pattern HF derives, the only one the models build.
void CheckLayerTypes(const ConfigFields& top, const ModelConfig& config) {
  const json* types = top.Get("layer_types");
  if (types == nullptr) return;
  if (!types->is_array()) top.Fail("layer_types", *types, "must be an array");
  if (static_cast<int64_t>(types->size()) != config.num_hidden_layers) {
    top.Fail("layer_types", *types,
             "must have num_hidden_layers = " + std::to_string(config.num_hidden_layers) +
                 " entries, has " + std::to_string(types->size()));
  }
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const std::string expected =
        SlidingWindowOfLayer(config, i) ? "sliding_attention" : "full_attention";
    const json& entry = (*types)[static_cast<std::size_t>(i)];
    if (!entry.is_string() || entry.get_ref<const std::string&>() != expected) {
      top.Fail("layer_types[" + std::to_string(i) + "]", entry,
               "differs from \"" + expected +
                   "\", which use_sliding_window, sliding_window and max_window_layers give");
    }
  }
}

}  // namespace

void ReadQwenWindows(const ConfigFields& top, ModelConfig& c) {
  if (const json* layers = top.Get("max_window_layers")) {
    c.max_window_layers = top.Int("max_window_layers", *layers, 0, kMaxConfigSize);
  } else {
    c.max_window_layers = kDefaultMaxWindowLayers;
  }
  if (top.Bool("use_sliding_window", false)) c.sliding_window = SlidingWindow(top);
  CheckLayerTypes(top, c);
}

void WriteQwenWindows(const ModelConfig& c, json& j) {
  j["use_sliding_window"] = c.sliding_window.has_value();
  j["sliding_window"] = c.sliding_window ? json(*c.sliding_window) : json(nullptr);
  j["max_window_layers"] = c.max_window_layers;
}

void ReadKeyValueHeads(const ConfigFields& top, ModelConfig& c, std::string_view required) {
  if (const json* kv = top.Get("num_key_value_heads")) {
    c.num_key_value_heads = top.Size("num_key_value_heads", *kv);
  } else if (!required.empty() && !top.Has("num_key_value_heads")) {
    top.FailMissing("num_key_value_heads", required);
  } else {
    c.num_key_value_heads = c.num_attention_heads;
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    top.Fail("num_key_value_heads", json(c.num_key_value_heads),
             "must divide num_attention_heads = " + std::to_string(c.num_attention_heads));
  }
}

void LlamaFamily::ReadConfig(const ConfigFields& top, ModelConfig& c) const {
  // Absent: llama uses num_attention_heads, but MistralConfig and Qwen2Config default to their
  // 7B values (8 and 32), which would silently fit a small model badly. Null: all three use
  // num_attention_heads.
  ReadKeyValueHeads(top, c,
                    c.model_type == "llama" ? ""
                    : c.model_type == "mistral"
                        ? "required for mistral: HF's default is 8, not num_attention_heads"
                        : "required for qwen2: HF's default is 32, not num_attention_heads");
  if (c.model_type == "llama") {
    // LlamaAttention puts attention_bias on all four projections; no sliding window.
    c.qkv_bias = c.o_proj_bias = top.Bool("attention_bias", false);
    c.mlp_bias = top.Bool("mlp_bias", false);
  } else if (c.model_type == "mistral") {
    c.sliding_window = SlidingWindow(top);
  } else {              // qwen2
    c.qkv_bias = true;  // Qwen2Attention: bias on q, k, v, never on o
    ReadQwenWindows(top, c);
  }
}

void LlamaFamily::WriteConfig(const ModelConfig& c, json& j) const {
  j["architectures"] = json::array({ClassPrefix(c) + "ForCausalLM"});
  if (c.model_type == "llama") {
    j["attention_bias"] = c.qkv_bias;
    j["mlp_bias"] = c.mlp_bias;
  } else if (c.model_type == "mistral") {
    // Absent would mean HF's 4096.
    j["sliding_window"] = c.sliding_window ? json(*c.sliding_window) : json(nullptr);
  } else {
    WriteQwenWindows(c, j);
  }
}

}  // namespace equiv
