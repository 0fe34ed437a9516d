#include "libequiv/models/model_config.h"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <utility>

#include "libequiv/io/json_reader.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/text_file.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using nlohmann::json;

// Every size fits in int32, so the product of two sizes fits in int64.
constexpr int64_t kMaxSize = std::numeric_limits<int32_t>::max();
constexpr std::size_t kMaxShownChars = 48;

std::string Show(const json& value) { return ShowJson(value, kMaxShownChars); }
std::string KindOf(const json& value) { return JsonKindOf(value); }

// HF's defaults where the three configuration classes agree.
constexpr double kDefaultRmsNormEps = 1e-6;
constexpr double kDefaultRopeTheta = 10000.0;
constexpr int64_t kDefaultSlidingWindow = 4096;  // MistralConfig, Qwen2Config
constexpr int64_t kDefaultMaxWindowLayers = 28;  // Qwen2Config
constexpr double kDefaultBetaFast = 32.0;        // YaRN paper, HF
constexpr double kDefaultBetaSlow = 1.0;

constexpr std::array<std::pair<ModelType, std::string_view>, 3> kModelTypes = {{
    {ModelType::kLlama, "llama"},
    {ModelType::kMistral, "mistral"},
    {ModelType::kQwen2, "qwen2"},
}};
constexpr std::array<std::pair<HiddenAct, std::string_view>, 3> kHiddenActs = {{
    {HiddenAct::kSilu, "silu"},
    {HiddenAct::kGelu, "gelu"},
    {HiddenAct::kGeluPytorchTanh, "gelu_pytorch_tanh"},
}};
constexpr std::array<std::pair<RopeType, std::string_view>, 5> kRopeTypes = {{
    {RopeType::kDefault, "default"},
    {RopeType::kLinear, "linear"},
    {RopeType::kDynamic, "dynamic"},
    {RopeType::kYarn, "yarn"},
    {RopeType::kLlama3, "llama3"},
}};

template <typename Enum, std::size_t N>
std::string_view NameOf(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum e) {
  for (const auto& [value, name] : table) {
    if (value == e) return name;
  }
  return "unknown";
}

template <typename Enum, std::size_t N>
std::optional<Enum> ValueOf(const std::array<std::pair<Enum, std::string_view>, N>& table,
                            std::string_view name) {
  for (const auto& [value, n] : table) {
    if (n == name) return value;
  }
  return std::nullopt;
}

template <typename Enum, std::size_t N>
std::string NameList(const std::array<std::pair<Enum, std::string_view>, N>& table) {
  std::string list;
  for (const auto& [value, name] : table) {
    if (!list.empty()) list += ", ";
    list += name;
  }
  return list;
}

std::string Show(double value) { return Show(json(value)); }

// The fields of one JSON object (the top level, or rope_scaling) with errors that name them.
class Fields {
 public:
  Fields(const json& object, std::string_view source, std::string prefix)
      : object_(object), source_(source), prefix_(std::move(prefix)) {}

  // nullptr when absent or null: HF treats an explicit null as "use the default".
  const json* Get(std::string_view key) const {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  bool Has(std::string_view key) const { return object_.find(key) != object_.end(); }

  [[noreturn]] void Fail(std::string_view key, const json& value, std::string_view problem) const {
    throw Error(std::string(source_) + ": " + prefix_ + std::string(key) + " = " + Show(value) +
                " " + std::string(problem));
  }
  [[noreturn]] void FailMissing(std::string_view key, std::string_view why = {}) const {
    std::string message = std::string(source_) + ": " + prefix_ + std::string(key) + " is missing";
    if (!why.empty()) message += " (" + std::string(why) + ")";
    throw Error(message);
  }

  int64_t Int(std::string_view key, const json& value, int64_t min, int64_t max) const {
    if (!value.is_number_integer()) Fail(key, value, "must be an integer");
    const bool too_big = value.is_number_unsigned()
                             ? value.get<uint64_t>() > static_cast<uint64_t>(max)
                             : value.get<int64_t>() > max;
    if (too_big) Fail(key, value, "must be at most " + std::to_string(max));
    const int64_t result = value.get<int64_t>();
    if (result < min) {
      Fail(key, value,
           min == 1 ? std::string("must be positive") : "must be >= " + std::to_string(min));
    }
    return result;
  }
  int64_t Size(std::string_view key, const json& value) const {
    return Int(key, value, 1, kMaxSize);
  }
  int64_t RequiredSize(std::string_view key) const {
    const json* value = Get(key);
    if (value == nullptr) FailMissing(key);
    return Size(key, *value);
  }

  double Number(std::string_view key, const json& value) const {
    if (!value.is_number()) Fail(key, value, "must be a number");
    const double result = value.get<double>();
    if (!std::isfinite(result)) Fail(key, value, "must be finite");
    return result;
  }
  double Positive(std::string_view key, const json& value) const {
    const double result = Number(key, value);
    if (!(result > 0)) Fail(key, value, "must be > 0");
    return result;
  }

  bool Bool(std::string_view key, bool default_value) const {
    const json* value = Get(key);
    if (value == nullptr) return default_value;
    if (!value->is_boolean()) Fail(key, *value, "must be true or false");
    return value->get<bool>();
  }

  const std::string& String(std::string_view key, const json& value) const {
    if (!value.is_string()) Fail(key, value, "must be a string");
    return value.get_ref<const std::string&>();
  }

  std::string_view source() const { return source_; }

 private:
  const json& object_;
  std::string_view source_;
  std::string prefix_;
};

double GetMscale(double scale, double mscale) {
  return scale <= 1 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

double Factor(const Fields& rope) {
  const json* value = rope.Get("factor");
  if (value == nullptr) rope.FailMissing("factor");
  const double factor = rope.Number("factor", *value);
  if (!(factor >= 1)) rope.Fail("factor", *value, "must be >= 1");
  return factor;
}

void ParseYarn(const Fields& rope, const ModelConfig& config, RopeScaling& s) {
  s.factor = Factor(rope);
  // transformers 5 fills original_max_position_embeddings from max_position_embeddings.
  const json* original = rope.Get("original_max_position_embeddings");
  s.original_max_position_embeddings =
      original != nullptr ? rope.Size("original_max_position_embeddings", *original)
                          : config.max_position_embeddings;
  const json* fast = rope.Get("beta_fast");
  const json* slow = rope.Get("beta_slow");
  s.beta_fast = fast != nullptr ? rope.Positive("beta_fast", *fast) : kDefaultBetaFast;
  s.beta_slow = slow != nullptr ? rope.Positive("beta_slow", *slow) : kDefaultBetaSlow;
  if (s.beta_fast < s.beta_slow) {
    rope.Fail("beta_fast", json(s.beta_fast), "must be >= beta_slow = " + Show(s.beta_slow));
  }
  s.truncate = rope.Bool("truncate", true);
  if (const json* given = rope.Get("attention_factor")) {
    s.attention_factor = rope.Positive("attention_factor", *given);
    return;
  }
  // HF: mscale and mscale_all_dim count only when both are non-zero (DeepSeek's convention).
  const json* m = rope.Get("mscale");
  const json* m_all = rope.Get("mscale_all_dim");
  const double mscale = m != nullptr ? rope.Number("mscale", *m) : 0.0;
  const double mscale_all_dim = m_all != nullptr ? rope.Number("mscale_all_dim", *m_all) : 0.0;
  s.attention_factor = (mscale != 0 && mscale_all_dim != 0)
                           ? GetMscale(s.factor, mscale) / GetMscale(s.factor, mscale_all_dim)
                           : GetMscale(s.factor, 1.0);
  if (!(std::isfinite(s.attention_factor) && s.attention_factor > 0)) {
    rope.Fail("mscale_all_dim", json(mscale_all_dim),
              "gives attention_factor = " + Show(s.attention_factor) + ", which must be > 0");
  }
}

void ParseLlama3(const Fields& rope, const ModelConfig& config, RopeScaling& s) {
  s.factor = Factor(rope);
  const json* low = rope.Get("low_freq_factor");
  const json* high = rope.Get("high_freq_factor");
  if (low == nullptr) rope.FailMissing("low_freq_factor");
  if (high == nullptr) rope.FailMissing("high_freq_factor");
  s.low_freq_factor = rope.Positive("low_freq_factor", *low);
  s.high_freq_factor = rope.Number("high_freq_factor", *high);
  // The smoothing divides by high - low.
  if (!(s.high_freq_factor > s.low_freq_factor)) {
    rope.Fail("high_freq_factor", *high,
              "must be greater than low_freq_factor = " + Show(s.low_freq_factor));
  }
  s.original_max_position_embeddings = rope.RequiredSize("original_max_position_embeddings");
  if (s.original_max_position_embeddings >= config.max_position_embeddings) {
    rope.Fail("original_max_position_embeddings", json(s.original_max_position_embeddings),
              "must be less than max_position_embeddings = " +
                  std::to_string(config.max_position_embeddings));
  }
}

// rope_scaling (transformers 4) or rope_parameters (transformers 5), and rope_theta.
void ParseRope(const Fields& top, ModelConfig& config) {
  std::string key = "rope_scaling";
  const json* rope = top.Get(key);
  if (rope == nullptr) {
    key = "rope_parameters";
    rope = top.Get(key);
  }
  if (rope != nullptr && !rope->is_object()) top.Fail(key, *rope, "must be an object or null");

  // transformers 5 keeps rope_theta inside rope_parameters, and there it wins.
  const json no_rope = json::object();
  const Fields rope_fields(rope != nullptr ? *rope : no_rope, top.source(), key + ".");
  if (const json* theta = rope_fields.Get("rope_theta")) {
    config.rope_theta = rope_fields.Number("rope_theta", *theta);
    if (!(config.rope_theta > 1)) rope_fields.Fail("rope_theta", *theta, "must be > 1");
  } else if (const json* top_theta = top.Get("rope_theta")) {
    config.rope_theta = top.Number("rope_theta", *top_theta);
    if (!(config.rope_theta > 1)) top.Fail("rope_theta", *top_theta, "must be > 1");
  }
  if (rope == nullptr) return;

  RopeScaling& s = config.rope_scaling;
  std::string type_key = "rope_type";
  const json* type = rope_fields.Get(type_key);
  if (type == nullptr) {
    type_key = "type";  // the legacy name
    type = rope_fields.Get(type_key);
  }
  if (type == nullptr) {
    // A rope_scaling without a type is ambiguous (transformers 4 fails on it, 5 ignores it).
    if (key == "rope_scaling") rope_fields.FailMissing("rope_type", "or the legacy \"type\"");
    s.type = RopeType::kDefault;
  } else {
    const std::optional<RopeType> parsed = ValueOf(kRopeTypes, rope_fields.String(type_key, *type));
    if (!parsed) {
      rope_fields.Fail(type_key, *type,
                       "is not a supported rope type (" + NameList(kRopeTypes) + ")");
    }
    s.type = *parsed;
  }

  switch (s.type) {
    case RopeType::kDefault:
      break;
    case RopeType::kLinear:
      s.factor = Factor(rope_fields);
      break;
    case RopeType::kDynamic:
      s.factor = Factor(rope_fields);
      // HF raises the base to dim / (dim - 2).
      if (config.head_dim <= 2) {
        top.Fail("head_dim", json(config.head_dim), "must be > 2 for dynamic rope scaling");
      }
      break;
    case RopeType::kYarn:
      ParseYarn(rope_fields, config, s);
      break;
    case RopeType::kLlama3:
      ParseLlama3(rope_fields, config, s);
      break;
  }
}

// A window is a positive integer; null means none.
std::optional<int64_t> SlidingWindow(const Fields& top) {
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
void CheckLayerTypes(const Fields& top, const ModelConfig& config) {
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

ModelConfig FromJson(const json& doc, std::string_view source) {
  if (!doc.is_object()) {
    throw Error(std::string(source) + ": the top level must be a JSON object, not " + KindOf(doc));
  }
  const Fields top(doc, source, "");
  ModelConfig c;

  const json* type = top.Get("model_type");
  if (type == nullptr) top.FailMissing("model_type", NameList(kModelTypes));
  const std::optional<ModelType> model_type = ValueOf(kModelTypes, top.String("model_type", *type));
  if (!model_type) {
    top.Fail("model_type", *type, "is not supported (" + NameList(kModelTypes) + ")");
  }
  c.model_type = *model_type;

  c.hidden_size = top.RequiredSize("hidden_size");
  c.intermediate_size = top.RequiredSize("intermediate_size");
  c.num_hidden_layers = top.RequiredSize("num_hidden_layers");
  c.num_attention_heads = top.RequiredSize("num_attention_heads");
  c.vocab_size = top.RequiredSize("vocab_size");
  c.max_position_embeddings = top.RequiredSize("max_position_embeddings");

  // Absent: llama uses num_attention_heads, but MistralConfig and Qwen2Config default to their
  // 7B values (8 and 32), which would silently fit a small model badly. Null: all three use
  // num_attention_heads.
  if (const json* kv = top.Get("num_key_value_heads")) {
    c.num_key_value_heads = top.Size("num_key_value_heads", *kv);
  } else if (c.model_type != ModelType::kLlama && !top.Has("num_key_value_heads")) {
    top.FailMissing("num_key_value_heads",
                    c.model_type == ModelType::kMistral
                        ? "required for mistral: HF's default is 8, not num_attention_heads"
                        : "required for qwen2: HF's default is 32, not num_attention_heads");
  } else {
    c.num_key_value_heads = c.num_attention_heads;
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    top.Fail("num_key_value_heads", json(c.num_key_value_heads),
             "must divide num_attention_heads = " + std::to_string(c.num_attention_heads));
  }

  if (const json* head_dim = top.Get("head_dim")) {
    c.head_dim = top.Size("head_dim", *head_dim);
  } else {
    if (c.hidden_size % c.num_attention_heads != 0) {
      top.Fail("hidden_size", json(c.hidden_size),
               "must be divisible by num_attention_heads = " +
                   std::to_string(c.num_attention_heads) + " when head_dim is not given");
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim % 2 != 0) {
    top.Fail("head_dim", json(c.head_dim), "must be even (rotary embedding turns pairs)");
  }

  c.rms_norm_eps = kDefaultRmsNormEps;
  if (const json* eps = top.Get("rms_norm_eps"))
    c.rms_norm_eps = top.Positive("rms_norm_eps", *eps);

  c.rope_theta = kDefaultRopeTheta;
  ParseRope(top, c);

  if (const json* act = top.Get("hidden_act")) {
    const std::optional<HiddenAct> parsed = ValueOf(kHiddenActs, top.String("hidden_act", *act));
    if (!parsed) {
      top.Fail("hidden_act", *act, "is not a supported activation (" + NameList(kHiddenActs) + ")");
    }
    c.hidden_act = *parsed;
  }

  c.tie_word_embeddings = top.Bool("tie_word_embeddings", false);
  switch (c.model_type) {
    case ModelType::kLlama:
      // LlamaAttention puts attention_bias on all four projections; no sliding window.
      c.qkv_bias = c.o_proj_bias = top.Bool("attention_bias", false);
      c.mlp_bias = top.Bool("mlp_bias", false);
      break;
    case ModelType::kMistral:
      c.sliding_window = SlidingWindow(top);
      break;
    case ModelType::kQwen2:
      c.qkv_bias = true;  // Qwen2Attention: bias on q, k, v, never on o
      if (const json* layers = top.Get("max_window_layers")) {
        c.max_window_layers = top.Int("max_window_layers", *layers, 0, kMaxSize);
      } else {
        c.max_window_layers = kDefaultMaxWindowLayers;
      }
      if (top.Bool("use_sliding_window", false)) c.sliding_window = SlidingWindow(top);
      CheckLayerTypes(top, c);
      break;
  }
  return c;
}

}  // namespace

ModelConfig ModelConfigFromJson(const nlohmann::json& json, std::string_view source) {
  try {
    return FromJson(json, source);
  } catch (const nlohmann::json::exception& e) {
    // Not expected (types are checked before every access); keeps the one-exception contract.
    throw Error(std::string(source) + ": " + e.what());
  }
}

ModelConfig ParseModelConfig(std::string_view json_text, std::string_view source) {
  return ModelConfigFromJson(ParseJson(json_text, source), source);
}

ModelConfig LoadModelConfig(const std::string& path) {
  return ParseModelConfig(ReadTextFile(path), path);
}

nlohmann::json ToJson(const ModelConfig& c) {
  static constexpr std::array<std::pair<ModelType, std::string_view>, 3> kArchitectures = {{
      {ModelType::kLlama, "LlamaForCausalLM"},
      {ModelType::kMistral, "MistralForCausalLM"},
      {ModelType::kQwen2, "Qwen2ForCausalLM"},
  }};
  json j = {
      {"architectures", json::array({NameOf(kArchitectures, c.model_type)})},
      {"model_type", ModelTypeName(c.model_type)},
      {"hidden_size", c.hidden_size},
      {"intermediate_size", c.intermediate_size},
      {"num_hidden_layers", c.num_hidden_layers},
      {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_key_value_heads},
      {"head_dim", c.head_dim},
      {"vocab_size", c.vocab_size},
      {"max_position_embeddings", c.max_position_embeddings},
      {"rms_norm_eps", c.rms_norm_eps},
      {"rope_theta", c.rope_theta},
      {"hidden_act", HiddenActName(c.hidden_act)},
      {"tie_word_embeddings", c.tie_word_embeddings},
  };

  const RopeScaling& s = c.rope_scaling;
  json rope = {{"rope_type", RopeTypeName(s.type)}};
  switch (s.type) {
    case RopeType::kDefault:
      rope = nullptr;
      break;
    case RopeType::kLinear:
    case RopeType::kDynamic:
      rope["factor"] = s.factor;
      break;
    case RopeType::kYarn:
      rope["factor"] = s.factor;
      rope["original_max_position_embeddings"] = s.original_max_position_embeddings;
      rope["beta_fast"] = s.beta_fast;
      rope["beta_slow"] = s.beta_slow;
      rope["attention_factor"] = s.attention_factor;
      if (!s.truncate) rope["truncate"] = false;  // older transformers do not know the key
      break;
    case RopeType::kLlama3:
      rope["factor"] = s.factor;
      rope["low_freq_factor"] = s.low_freq_factor;
      rope["high_freq_factor"] = s.high_freq_factor;
      rope["original_max_position_embeddings"] = s.original_max_position_embeddings;
      break;
  }
  j["rope_scaling"] = rope;

  const json window = c.sliding_window ? json(*c.sliding_window) : json(nullptr);
  switch (c.model_type) {
    case ModelType::kLlama:
      j["attention_bias"] = c.qkv_bias;
      j["mlp_bias"] = c.mlp_bias;
      break;
    case ModelType::kMistral:
      j["sliding_window"] = window;  // absent would mean HF's 4096
      break;
    case ModelType::kQwen2:
      j["use_sliding_window"] = c.sliding_window.has_value();
      j["sliding_window"] = window;
      j["max_window_layers"] = c.max_window_layers;
      break;
  }
  return j;
}

std::optional<int64_t> SlidingWindowOfLayer(const ModelConfig& config, int64_t layer) {
  if (layer < 0 || layer >= config.num_hidden_layers) {
    throw Error("SlidingWindowOfLayer: layer " + std::to_string(layer) + " is not in [0, " +
                std::to_string(config.num_hidden_layers) + ")");
  }
  if (!config.sliding_window || layer < config.max_window_layers) return std::nullopt;
  return config.sliding_window;
}

std::string_view ModelTypeName(ModelType type) { return NameOf(kModelTypes, type); }
std::string_view HiddenActName(HiddenAct act) { return NameOf(kHiddenActs, act); }
std::string_view RopeTypeName(RopeType type) { return NameOf(kRopeTypes, type); }

void PrintTo(ModelType type, std::ostream* os) { *os << ModelTypeName(type); }
void PrintTo(HiddenAct act, std::ostream* os) { *os << HiddenActName(act); }
void PrintTo(RopeType type, std::ostream* os) { *os << RopeTypeName(type); }
void PrintTo(const ModelConfig& config, std::ostream* os) { *os << ToJson(config).dump(); }

}  // namespace equiv
