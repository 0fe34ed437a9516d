#include "libequiv/families/mixtral/mixtral_reference.h"

#include <string>
#include <utility>

#include "libequiv/tensor/error.h"

namespace equiv {

MixtralReference::MixtralReference(const ModelConfig& config, const nn::CausalLmWeights& dense,
                                   const std::vector<nn::MoeWeights>& moe, nn::Precision precision)
    : config_(config), precision_(precision), dense_(config, dense, precision) {
  for (const nn::MoeWeights& w : moe) {
    moe_.push_back(w.Rounded(precision));
    moe_.back().Pack(precision);  // the experts' matmuls run on nn::MatmulNT's packed weights
  }
}

void MixtralReference::CheckLayer(std::string_view kind, int64_t layer) const {
  if (layer < 0 || layer >= config_.num_hidden_layers) {
    throw Error("reference " + std::string(kind) + ": layer " + std::to_string(layer) +
                " is outside [0, " + std::to_string(config_.num_hidden_layers) + ")");
  }
}

nn::Matrix MixtralReference::Norm(std::string_view kind, int64_t layer, const nn::Matrix& x) const {
  return dense_.Run(kind, layer, {x, {}, {}});
}

nn::Matrix MixtralReference::Moe(int64_t layer, const nn::Matrix& x) const {
  return nn::SparseMoe(x, moe_[layer], nn::RoutingRuleOf(config_), config_.hidden_act, precision_);
}

nn::Matrix MixtralReference::Experts(int64_t layer, const nn::Matrix& x) const {
  return nn::EveryExpert(x, moe_[layer], config_.hidden_act, precision_);
}

MixtralReference::AttentionHalf MixtralReference::Attend(
    int64_t layer, const nn::Matrix& x, const std::vector<int64_t>& positions) const {
  const nn::Matrix attn =
      dense_.Run("attention", layer, {Norm("input_layernorm", layer, x), {}, positions});
  nn::Matrix h = nn::Rounded(precision_, nn::Matrix(x + attn));
  nn::Matrix moe_in = Norm("post_attention_layernorm", layer, h);
  return {std::move(h), std::move(moe_in)};
}

// MixtralDecoderLayer: h = x + attn(norm1(x)); out = h + moe(norm2(h)), each add rounded.
nn::Matrix MixtralReference::Layer(int64_t layer, const nn::Matrix& x,
                                   const std::vector<int64_t>& positions,
                                   std::vector<nn::Matrix>* router_logits) const {
  const nn::Precision p = precision_;
  const AttentionHalf half = Attend(layer, x, positions);
  if (router_logits != nullptr) {
    router_logits->push_back(nn::Linear(half.moe_in, moe_[layer].gate, p));
  }
  return nn::Rounded(p, nn::Matrix(half.h + Moe(layer, half.moe_in)));
}

nn::Matrix MixtralReference::Run(std::string_view kind, int64_t layer,
                                 const ComponentInput& input) const {
  const bool shared = kind == "shared_expert" || kind == "shared_expert_gate";
  const bool norm = kind == "input_layernorm" || kind == "post_attention_layernorm";
  const bool own = kind == "router" || kind == "experts" || kind == "moe" ||
                   kind == "decoder_layer" || shared || norm;
  if (kind == "mlp") {
    throw Error("reference mlp: " + config_.model_type +
                "'s MLPs are mixtures of experts (router, experts, moe)");
  }
  if (kind == "causal_lm") return Logits(input.ids);
  if (kind == "final_norm") return Norm(kind, -1, nn::Rounded(precision_, input.hidden));
  if (!own) return dense_.Run(kind, layer, input);
  CheckLayer(kind, layer);
  if (shared && !moe_[layer].has_shared_expert()) {
    throw Error("reference " + std::string(kind) + ": " + config_.model_type +
                " has no shared expert");
  }
  const nn::Matrix x = nn::Rounded(precision_, input.hidden);
  if (norm) return Norm(kind, layer, x);
  if (kind == "shared_expert") {
    return nn::GatedMlp(x, moe_[layer].shared_expert, config_.hidden_act, precision_);
  }
  if (kind == "shared_expert_gate")
    return nn::Linear(x, moe_[layer].shared_expert_gate, precision_);
  if (kind == "router") return nn::Linear(x, moe_[layer].gate, precision_);
  if (kind == "experts") return Experts(layer, x);
  if (kind == "moe") return Moe(layer, x);
  return Layer(layer, x, input.positions);
}

nn::Matrix MixtralReference::RouterLogitsWithin(std::string_view kind, int64_t layer,
                                                const ComponentInput& input) const {
  if (kind != "decoder_layer") return {};
  CheckLayer(kind, layer);
  const nn::Matrix x = nn::Rounded(precision_, input.hidden);
  return nn::Linear(Attend(layer, x, input.positions).moe_in, moe_[layer].gate, precision_);
}

nn::Matrix MixtralReference::Forward(std::span<const int64_t> ids,
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

nn::Matrix MixtralReference::Logits(std::span<const int64_t> ids) const {
  return dense_.Run("lm_head", -1, {Norm("final_norm", -1, Forward(ids, nullptr)), {}, {}});
}

std::vector<nn::Matrix> MixtralReference::RouterLogits(std::span<const int64_t> ids) const {
  std::vector<nn::Matrix> router_logits;
  Forward(ids, &router_logits);
  return router_logits;
}

}  // namespace equiv
