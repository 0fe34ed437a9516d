#include "libequiv/models/port_patch.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

// Port module paths below model.layers.N (as PortModuleTree names them), and what they run.
constexpr std::array<std::pair<std::string_view, Component>, 7> kLayerModules = {{
    {"", Component::kDecoderLayer},
    {".mlp", Component::kMlp},
    {".input_layernorm", Component::kInputNorm},
    {".post_attention_layernorm", Component::kPostAttentionNorm},
    {".self_attn", Component::kAttention},
    {".self_attn.qkv_proj", Component::kQkvProj},
    {".self_attn.rotary_emb", Component::kRotary},
}};

constexpr std::array<std::pair<std::string_view, Component>, 3> kModelModules = {{
    {"model.embed_tokens", Component::kEmbedding},
    {"model.norm", Component::kFinalNorm},
    {"lm_head", Component::kLmHead},
}};

std::optional<int64_t> LayerIndex(std::string_view text) {
  if (text == "{i}") return -1;
  if (text.empty() || text.size() > 6) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

PatchTarget ParsePatchTarget(std::string_view name, const ModelConfig& config) {
  const auto fail = [&](const std::string& why) {
    return Error("patch \"" + std::string(name) + "\": " + why);
  };
  if (const std::optional<Component> c = ComponentFromName(name)) {
    if (*c == Component::kCausalLm) throw fail("causal_lm is the whole model, not a component");
    return {*c, std::nullopt};
  }
  for (const auto& [path, component] : kModelModules) {
    if (name == path) return {component, std::nullopt};
  }
  constexpr std::string_view kLayers = "model.layers.";
  if (name.starts_with(kLayers)) {
    const std::string_view rest = name.substr(kLayers.size());
    const std::size_t dot = std::min(rest.find('.'), rest.size());
    const std::optional<int64_t> layer = LayerIndex(rest.substr(0, dot));
    if (!layer) throw fail("\"" + std::string(rest.substr(0, dot)) + "\" is no layer index");
    if (*layer >= config.num_hidden_layers) {
      throw fail("layer " + std::to_string(*layer) + " is outside [0, " +
                 std::to_string(config.num_hidden_layers) + ")");
    }
    const std::string_view module = rest.substr(dot);
    for (const auto& [suffix, component] : kLayerModules) {
      if (module == suffix) {
        return {component, *layer < 0 ? std::nullopt : std::optional<int64_t>(*layer)};
      }
    }
  }
  throw fail(
      "names no port component; use a component name (input_layernorm, qkv_proj, rotary, "
      "attention, post_attention_layernorm, mlp, decoder_layer, embedding, final_norm, "
      "lm_head) or a module path (model.layers.{i}.self_attn.rotary_emb, model.layers.3.mlp, "
      "model.norm, lm_head, ...)");
}

ScopedPatch::ScopedPatch(LlamaPort& port, std::string_view name, ComponentOverride replacement)
    : port_(port), target_(ParsePatchTarget(name, port.config())) {
  port_.SetOverride(target_.component, target_.layer, std::move(replacement));
}

ScopedPatch::~ScopedPatch() { port_.ClearOverride(target_.component, target_.layer); }

}  // namespace equiv
