#include "libequiv/models/component.h"

#include <array>
#include <string>
#include <utility>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

constexpr std::array<std::pair<Component, std::string_view>, 11> kNames = {{
    {Component::kEmbedding, "embedding"},
    {Component::kInputNorm, "input_layernorm"},
    {Component::kQkvProj, "qkv_proj"},
    {Component::kRotary, "rotary"},
    {Component::kAttention, "attention"},
    {Component::kPostAttentionNorm, "post_attention_layernorm"},
    {Component::kMlp, "mlp"},
    {Component::kDecoderLayer, "decoder_layer"},
    {Component::kFinalNorm, "final_norm"},
    {Component::kLmHead, "lm_head"},
    {Component::kCausalLm, "causal_lm"},
}};

}  // namespace

std::string_view ComponentName(Component component) {
  for (const auto& [c, name] : kNames) {
    if (c == component) return name;
  }
  return "unknown";
}

std::optional<Component> ComponentFromName(std::string_view name) {
  for (const auto& [c, n] : kNames) {
    if (n == name) return c;
  }
  return std::nullopt;
}

void PrintTo(Component component, std::ostream* os) { *os << ComponentName(component); }

bool IsPerLayer(Component component) {
  switch (component) {
    case Component::kInputNorm:
    case Component::kQkvProj:
    case Component::kRotary:
    case Component::kAttention:
    case Component::kPostAttentionNorm:
    case Component::kMlp:
    case Component::kDecoderLayer:
      return true;
    default:
      return false;
  }
}

nn::Matrix AlignRows(const nn::Matrix& output, int64_t n) {
  if (n < 0 || n > output.rows()) {
    throw Error("AlignRows: output has " + std::to_string(output.rows()) +
                " rows, fewer than the " + std::to_string(n) + " input positions");
  }
  return output.topRows(n);
}

}  // namespace equiv
