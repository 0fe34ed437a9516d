#include "libequiv/config/model_config.h"

#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using nlohmann::json;

std::string Show(const json& value) { return ShowConfigValue(value); }

// HF's defaults where the three configuration classes agree.
constexpr double kDefaultRmsNormEps = 1e-6;
constexpr double kDefaultRopeTheta = 10000.0;
constexpr double kDefaultBetaFast = 32.0;  // YaRN paper, HF
constexpr double kDefaultBetaSlow = 1.0;

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

double GetMscale(double scale, double mscale) {
  return scale <= 1 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

double Factor(const ConfigFields& rope) {
  const json* value = rope.Get("factor");
  if (value == nullptr) rope.FailMissing("factor");
  const double factor = rope.Number("factor", *value);
  if (!(factor >= 1)) rope.Fail("factor", *value, "must be >= 1");
  return factor;
}

void ParseYarn(const ConfigFields& rope, const ModelConfig& config, RopeScaling& s) {
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

void ParseLlama3(const ConfigFields& rope, const ModelConfig& config, RopeScaling& s) {
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

// HF's rope init reads partial_rotary_factor (inv_freq for the first int(head_dim * factor)
// dims), but the apply_rotary_pos_emb of these families rotates the whole head, with no
// pass-through part: with a factor below 1 HF's q * cos does not broadcast. So only 1 is
// accepted, rather than computing something no HF model of the type computes.
void RejectPartialRotary(const ConfigFields& fields, const ModelConfig& config) {
  const json* factor = fields.Get("partial_rotary_factor");
  if (factor == nullptr || fields.Number("partial_rotary_factor", *factor) == 1.0) return;
  fields.Fail("partial_rotary_factor", *factor,
              "is not supported: HF's " + config.model_type +
                  " rotates all head_dim = " + std::to_string(config.head_dim) +
                  " dims of every head (apply_rotary_pos_emb has no pass-through part); only "
                  "1.0 is accepted");
}

// rope_scaling (transformers 4) or rope_parameters (transformers 5), and rope_theta.
void ParseRope(const ConfigFields& top, ModelConfig& config) {
  std::string key = "rope_scaling";
  const json* rope = top.Get(key);
  if (rope == nullptr) {
    key = "rope_parameters";
    rope = top.Get(key);
  }
  if (rope != nullptr && !rope->is_object()) top.Fail(key, *rope, "must be an object or null");

  // transformers 5 keeps rope_theta inside rope_parameters, and there it wins.
  const json no_rope = json::object();
  const ConfigFields rope_fields(rope != nullptr ? *rope : no_rope, top.source(), key + ".");
  if (const json* theta = rope_fields.Get("rope_theta")) {
    config.rope_theta = rope_fields.Number("rope_theta", *theta);
    if (!(config.rope_theta > 1)) rope_fields.Fail("rope_theta", *theta, "must be > 1");
  } else if (const json* top_theta = top.Get("rope_theta")) {
    config.rope_theta = top.Number("rope_theta", *top_theta);
    if (!(config.rope_theta > 1)) top.Fail("rope_theta", *top_theta, "must be > 1");
  }
  RejectPartialRotary(top, config);
  if (rope == nullptr) return;
  RejectPartialRotary(rope_fields, config);  // transformers 5 keeps it in rope_parameters

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

// quantization_config: HF's Mxfp4Config, the only quant_method read.
QuantizationConfig ParseQuantization(const ConfigFields& top, const json& value) {
  if (!value.is_object()) top.Fail("quantization_config", value, "must be an object or null");
  const ConfigFields q(value, top.source(), "quantization_config.");
  QuantizationConfig out;
  const json* method = q.Get("quant_method");
  if (method == nullptr) q.FailMissing("quant_method", "\"mxfp4\" is the one read");
  out.quant_method = q.String("quant_method", *method);
  if (out.quant_method != "mxfp4") {
    q.Fail("quant_method", *method,
           "is not supported (mxfp4, as GPT-OSS ships its experts; give the checkpoint "
           "dequantized, without quantization_config, for another)");
  }
  if (const json* modules = q.Get("modules_to_not_convert")) {
    if (!modules->is_array()) {
      q.Fail("modules_to_not_convert", *modules, "must be a list of module paths");
    }
    for (std::size_t i = 0; i < modules->size(); ++i) {
      const json& m = (*modules)[i];
      const std::string key = "modules_to_not_convert[" + std::to_string(i) + "]";
      if (!m.is_string() || m.get<std::string>().empty()) {
        q.Fail(key, m, "must be a module path (\"model.layers.*.self_attn\")");
      }
      out.modules_to_not_convert.push_back(m.get<std::string>());
    }
  }
  out.dequantize = q.Bool("dequantize", false);
  return out;
}

// fnmatch-style: '*' matches any run of characters (dots too), everything else itself.
bool GlobMatches(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

bool ModuleNotConverted(const QuantizationConfig& quantization, std::string_view parameter) {
  for (const std::string& pattern : quantization.modules_to_not_convert) {
    // The parameter's module path or any prefix of it ending before a dot.
    for (std::size_t end = parameter.find('.'); end != std::string_view::npos;
         end = parameter.find('.', end + 1)) {
      if (GlobMatches(pattern, parameter.substr(0, end))) return true;
    }
    if (GlobMatches(pattern, parameter)) return true;
  }
  return false;
}

ModelConfig ReadSharedConfigFields(const ConfigFields& top) {
  ModelConfig c;
  const json* type = top.Get("model_type");
  if (type == nullptr) top.FailMissing("model_type");
  c.model_type = top.String("model_type", *type);

  c.hidden_size = top.RequiredSize("hidden_size");
  c.intermediate_size = top.RequiredSize("intermediate_size");
  c.num_hidden_layers = top.RequiredSize("num_hidden_layers");
  c.num_attention_heads = top.RequiredSize("num_attention_heads");
  c.vocab_size = top.RequiredSize("vocab_size");
  c.max_position_embeddings = top.RequiredSize("max_position_embeddings");
  // The family reads num_key_value_heads (defaults differ); until then, as many as heads.
  c.num_key_value_heads = c.num_attention_heads;

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
  if (const json* q = top.Get("quantization_config")) c.quantization = ParseQuantization(top, *q);
  return c;
}

nlohmann::json SharedConfigJson(const ModelConfig& c) {
  json j = {
      {"model_type", c.model_type},
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
  if (c.quantization) {
    json q = {{"quant_method", c.quantization->quant_method},
              {"modules_to_not_convert", c.quantization->modules_to_not_convert}};
    if (c.quantization->dequantize) q["dequantize"] = true;
    j["quantization_config"] = q;
  }
  return j;
}

std::optional<int64_t> SlidingWindowOfLayer(const ModelConfig& config, int64_t layer) {
  if (layer < 0 || layer >= config.num_hidden_layers) {
    throw Error("SlidingWindowOfLayer: layer " + std::to_string(layer) + " is not in [0, " +
                std::to_string(config.num_hidden_layers) + ")");
  }
  if (!config.layer_types.empty()) {
    const bool sliding =
        config.layer_types.at(static_cast<std::size_t>(layer)) == LayerAttention::kSliding;
    return sliding ? config.sliding_window : std::nullopt;
  }
  if (!config.sliding_window || layer < config.max_window_layers) return std::nullopt;
  return config.sliding_window;
}

std::string_view HiddenActName(HiddenAct act) { return NameOf(kHiddenActs, act); }
std::string_view RopeTypeName(RopeType type) { return NameOf(kRopeTypes, type); }

void PrintTo(HiddenAct act, std::ostream* os) { *os << HiddenActName(act); }
void PrintTo(RopeType type, std::ostream* os) { *os << RopeTypeName(type); }
void PrintTo(const ModelConfig& config, std::ostream* os) {
  *os << SharedConfigJson(config).dump();
}

}  // namespace equiv
