#include "libequiv/models/state_dict.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string_view>
#include <utility>

#include "libequiv/io/safetensors.h"
#include "libequiv/random/counter_rng.h"
#include "libequiv/random/random_tensor.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

// FNV-1a: a stable per-name stream, independent of the other parameters.
uint64_t NameHash(std::string_view name) {
  uint64_t h = 1469598103934665603ull;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::vector<ParameterSpec> ExpectedParameters(const ModelConfig& c) {
  const int64_t q = c.num_attention_heads * c.head_dim;
  const int64_t kv = c.num_key_value_heads * c.head_dim;
  std::vector<ParameterSpec> specs = {{"model.embed_tokens.weight", {c.vocab_size, c.hidden_size}}};
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string layer = "model.layers." + std::to_string(i) + ".";
    const auto linear = [&](const std::string& name, int64_t out, int64_t in, bool bias) {
      specs.push_back({layer + name + ".weight", {out, in}});
      if (bias) specs.push_back({layer + name + ".bias", {out}});
    };
    specs.push_back({layer + "input_layernorm.weight", {c.hidden_size}});
    linear("self_attn.q_proj", q, c.hidden_size, c.qkv_bias);
    linear("self_attn.k_proj", kv, c.hidden_size, c.qkv_bias);
    linear("self_attn.v_proj", kv, c.hidden_size, c.qkv_bias);
    linear("self_attn.o_proj", c.hidden_size, q, c.o_proj_bias);
    specs.push_back({layer + "post_attention_layernorm.weight", {c.hidden_size}});
    linear("mlp.gate_proj", c.intermediate_size, c.hidden_size, c.mlp_bias);
    linear("mlp.up_proj", c.intermediate_size, c.hidden_size, c.mlp_bias);
    linear("mlp.down_proj", c.hidden_size, c.intermediate_size, c.mlp_bias);
  }
  specs.push_back({"model.norm.weight", {c.hidden_size}});
  if (!c.tie_word_embeddings) specs.push_back({"lm_head.weight", {c.vocab_size, c.hidden_size}});
  return specs;
}

StateDict InitStateDict(const ModelConfig& config, uint64_t seed) {
  StateDict weights;
  for (const ParameterSpec& spec : ExpectedParameters(config)) {
    const uint64_t stream = Mix64(seed ^ NameHash(spec.name));
    const Shape shape(spec.shape);
    Tensor t;
    if (EndsWith(spec.name, "layernorm.weight") || spec.name == "model.norm.weight") {
      t = RandomNormal(shape, stream, DType::kF32, 1.0, 0.1);
    } else if (EndsWith(spec.name, ".bias")) {
      t = RandomNormal(shape, stream, DType::kF32, 0.0, 0.1);
    } else if (spec.name == "model.embed_tokens.weight") {
      t = RandomNormal(shape, stream, DType::kF32, 0.0, 1.0);
    } else {
      const double fan_in = static_cast<double>(spec.shape[1]);
      t = RandomNormal(shape, stream, DType::kF32, 0.0, 1.0 / std::sqrt(fan_in));
    }
    weights.emplace(spec.name, std::move(t));
  }
  return weights;
}

StateDict LoadStateDict(const std::string& path, const ModelConfig& config) {
  const SafetensorsFile file = SafetensorsFile::Open(path);
  const std::vector<ParameterSpec> specs = ExpectedParameters(config);
  std::set<std::string> expected;
  StateDict weights;
  for (const ParameterSpec& spec : specs) {
    expected.insert(spec.name);
    if (!file.contains(spec.name)) {
      throw Error(path + ": parameter " + spec.name + " " + ShapeText(spec.shape) + " is missing");
    }
    const TensorView view = [&] {
      try {
        return file.View(spec.name);
      } catch (const Error& e) {
        throw Error(path + ": parameter " + spec.name + ": " + e.what());
      }
    }();
    if (view.shape().dims() != spec.shape) {
      throw Error(path + ": parameter " + spec.name + " has shape " +
                  ShapeText(view.shape().dims()) + ", the config needs " + ShapeText(spec.shape));
    }
    Tensor t(view.shape(), DType::kF32);
    std::vector<double> values(static_cast<std::size_t>(view.size()));
    view.Decode(0, view.size(), values.data());
    for (std::size_t i = 0; i < values.size(); ++i) {
      t.f32()[i] = static_cast<float>(values[i]);
    }
    weights.emplace(spec.name, std::move(t));
  }
  for (const SafetensorsEntry& entry : file.entries()) {
    const bool tied_head = entry.name == "lm_head.weight" && config.tie_word_embeddings;
    if (!expected.contains(entry.name) && !EndsWith(entry.name, "rotary_emb.inv_freq") &&
        !tied_head) {
      throw Error(path + ": unexpected tensor " + entry.name +
                  " (not a parameter of this config's model)");
    }
  }
  return weights;
}

void SaveStateDict(const StateDict& weights, const std::string& path) {
  std::vector<std::pair<std::string, TensorView>> tensors;
  for (const auto& [name, tensor] : weights) tensors.emplace_back(name, tensor.view());
  WriteSafetensors(path, tensors, {{"format", "pt"}});
}

nn::Matrix MatrixParameter(const StateDict& weights, const std::string& name) {
  const auto it = weights.find(name);
  if (it == weights.end()) throw Error("parameter " + name + " is missing");
  const Tensor& t = it->second;
  if (t.shape().rank() != 2) {
    throw Error("parameter " + name + " has shape " + ShapeText(t.shape().dims()) +
                ", expected a matrix");
  }
  const std::vector<float> values = t.ToFloats();
  return Eigen::Map<const nn::Matrix>(values.data(), t.shape().dims()[0], t.shape().dims()[1]);
}

nn::Vector VectorParameter(const StateDict& weights, const std::string& name) {
  const auto it = weights.find(name);
  if (it == weights.end()) throw Error("parameter " + name + " is missing");
  const Tensor& t = it->second;
  if (t.shape().rank() != 1) {
    throw Error("parameter " + name + " has shape " + ShapeText(t.shape().dims()) +
                ", expected a vector");
  }
  const std::vector<float> values = t.ToFloats();
  return Eigen::Map<const nn::Vector>(values.data(), t.shape().dims()[0]);
}

nn::CausalLmWeights ReferenceWeights(const StateDict& weights, const ModelConfig& config) {
  const auto linear = [&](const std::string& name, bool bias) {
    return nn::LinearWeights{MatrixParameter(weights, name + ".weight"),
                             bias ? VectorParameter(weights, name + ".bias") : nn::Vector()};
  };
  nn::CausalLmWeights out;
  out.embed_tokens = MatrixParameter(weights, "model.embed_tokens.weight");
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const std::string layer = "model.layers." + std::to_string(i) + ".";
    nn::DecoderLayerWeights w;
    w.input_layernorm = VectorParameter(weights, layer + "input_layernorm.weight");
    w.self_attn = {linear(layer + "self_attn.q_proj", config.qkv_bias),
                   linear(layer + "self_attn.k_proj", config.qkv_bias),
                   linear(layer + "self_attn.v_proj", config.qkv_bias),
                   linear(layer + "self_attn.o_proj", config.o_proj_bias)};
    w.post_attention_layernorm =
        VectorParameter(weights, layer + "post_attention_layernorm.weight");
    w.mlp = {linear(layer + "mlp.gate_proj", config.mlp_bias),
             linear(layer + "mlp.up_proj", config.mlp_bias),
             linear(layer + "mlp.down_proj", config.mlp_bias)};
    out.layers.push_back(std::move(w));
  }
  out.norm = VectorParameter(weights, "model.norm.weight");
  out.lm_head =
      config.tie_word_embeddings ? out.embed_tokens : MatrixParameter(weights, "lm_head.weight");
  return out;
}

}  // namespace equiv
