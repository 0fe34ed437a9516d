#include "libequiv/families/gpt_oss/gpt_oss_reference.h"

#include <string>
#include <utility>

#include "libequiv/nn/rms_norm.h"
#include "libequiv/tensor/error.h"

namespace equiv {

GptOssReference::GptOssReference(const ModelConfig& config, const nn::CausalLmWeights& dense,
                                 const std::vector<nn::MoeWeights>& moe, nn::Precision precision)
    : config_(config), precision_(precision), dense_(config, dense, precision) {
  norms_.norm = nn::Rounded(precision, dense.norm);
  for (const nn::DecoderLayerWeights& layer : dense.layers) {
    nn::DecoderLayerWeights w;
    w.input_layernorm = nn::Rounded(precision, layer.input_layernorm);
    w.post_attention_layernorm = nn::Rounded(precision, layer.post_attention_layernorm);
    norms_.layers.push_back(std::move(w));
  }
  for (const nn::MoeWeights& w : moe) {
    moe_.push_back(w.Rounded(precision));
    moe_.back().Pack(precision);
  }
}

nn::Matrix GptOssReference::Norm(std::string_view kind, int64_t layer, const nn::Matrix& x) const {
  const nn::Vector& weight = kind == "final_norm" ? norms_.norm
                             : kind == "input_layernorm"
                                 ? norms_.layers[layer].input_layernorm
                                 : norms_.layers[layer].post_attention_layernorm;
  return nn::RmsNormOneRounding(x, weight, config_.rms_norm_eps, precision_);
}

nn::Matrix GptOssReference::Moe(int64_t layer, const nn::Matrix& x) const {
  return nn::GptOssMoe(x, moe_[layer], nn::RoutingRuleOf(config_), nn::SwigluClampOf(config_),
                       precision_);
}

void GptOssReference::CheckLayer(std::string_view kind, int64_t layer) const {
  if (layer < 0 || layer >= config_.num_hidden_layers) {
    throw Error("reference " + std::string(kind) + ": layer " + std::to_string(layer) +
                " is outside [0, " + std::to_string(config_.num_hidden_layers) + ")");
  }
}

GptOssReference::AttentionHalf GptOssReference::Attend(
    int64_t layer, const nn::Matrix& x, const std::vector<int64_t>& positions) const {
  const nn::Matrix attn =
      dense_.Run("attention", layer, {Norm("input_layernorm", layer, x), {}, positions});
  nn::Matrix h = nn::Rounded(precision_, nn::Matrix(x + attn));
  nn::Matrix moe_in = Norm("post_attention_layernorm", layer, h);
  return {std::move(h), std::move(moe_in)};
}

// GptOssDecoderLayer: h = x + attn(norm1(x)); out = h + mlp(norm2(h)), each add rounded.
nn::Matrix GptOssReference::Layer(int64_t layer, const nn::Matrix& x,
                                  const std::vector<int64_t>& positions,
                                  std::vector<nn::Matrix>* router_logits) const {
  const AttentionHalf half = Attend(layer, x, positions);
  if (router_logits != nullptr) {
    router_logits->push_back(nn::Linear(half.moe_in, moe_[layer].gate, precision_));
  }
  return nn::Rounded(precision_, nn::Matrix(half.h + Moe(layer, half.moe_in)));
}

nn::Matrix GptOssReference::RouterLogitsWithin(std::string_view kind, int64_t layer,
                                               const ComponentInput& input) const {
  if (kind != "decoder_layer") return {};
  CheckLayer(kind, layer);
  const nn::Matrix x = nn::Rounded(precision_, input.hidden);
  return nn::Linear(Attend(layer, x, input.positions).moe_in, moe_[layer].gate, precision_);
}

nn::Matrix GptOssReference::Run(std::string_view kind, int64_t layer,
                                const ComponentInput& input) const {
  const bool norm = kind == "input_layernorm" || kind == "post_attention_layernorm";
  const bool own =
      kind == "router" || kind == "experts" || kind == "moe" || kind == "decoder_layer" || norm;
  if (kind == "mlp") {
    throw Error("reference mlp: gpt_oss's MLPs are mixtures of experts (router, experts, moe)");
  }
  if (kind == "causal_lm") return Logits(input.ids);
  if (kind == "final_norm") return Norm(kind, -1, nn::Rounded(precision_, input.hidden));
  if (!own) return dense_.Run(kind, layer, input);
  CheckLayer(kind, layer);
  const nn::Matrix x = nn::Rounded(precision_, input.hidden);
  if (norm) return Norm(kind, layer, x);
  if (kind == "router") return nn::Linear(x, moe_[layer].gate, precision_);
  if (kind == "experts") {
    return nn::EveryClampedExpert(x, moe_[layer], nn::SwigluClampOf(config_), precision_);
  }
  if (kind == "moe") return Moe(layer, x);
  return Layer(layer, x, input.positions);
}

nn::Matrix GptOssReference::Forward(std::span<const int64_t> ids,
                                    std::vector<nn::Matrix>* router_logits) const {
  const std::vector<int64_t> id_list(ids.begin(), ids.end());
  std::vector<int64_t> positions(id_list.size());
  for (std::size_t i = 0; i < positions.size(); ++i) positions[i] = static_cast<int64_t>(i);
  nn::Matrix h = dense_.Run("embedding", -1, {nn::Matrix(), id_list, {}});
  for (int64_t layer = 0; layer < config_.num_hidden_layers; ++layer) {
    h = Layer(layer, h, positions, router_logits);
  }
  return h;
}

nn::Matrix GptOssReference::Logits(std::span<const int64_t> ids) const {
  return dense_.Run("lm_head", -1, {Norm("final_norm", -1, Forward(ids, nullptr)), {}, {}});
}

std::vector<nn::Matrix> GptOssReference::RouterLogits(std::span<const int64_t> ids) const {
  std::vector<nn::Matrix> router_logits;
  Forward(ids, &router_logits);
  return router_logits;
}

}  // namespace equiv
