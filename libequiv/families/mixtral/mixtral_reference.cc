#include "libequiv/families/mixtral/mixtral_reference.h"

#include <memory>
#include <numeric>
#include <string>
#include <utility>

#include "libequiv/nn/attention.h"
#include "libequiv/nn/decoder_layer.h"
#include "libequiv/nn/rotary.h"
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

MixtralReference::AttentionHalf MixtralReference::Attend(int64_t layer, const nn::Matrix& x,
                                                         std::span<const int64_t> positions,
                                                         nn::LayerKvCache* cache) const {
  // The llama reference's attention (its "attention" kind without a cache).
  const nn::RotaryFrequencies rotary =
      nn::ComputeRotaryFrequencies(config_, nn::RotarySeqLen(positions, x.rows(), cache));
  const nn::Matrix attn = nn::SelfAttention(
      Norm("input_layernorm", layer, x), positions, dense_.weights().layers[layer].self_attn,
      nn::AttentionSpecOf(config_, layer), rotary, precision_, cache);
  nn::Matrix h = nn::Rounded(precision_, nn::Matrix(x + attn));
  nn::Matrix moe_in = Norm("post_attention_layernorm", layer, h);
  return {std::move(h), std::move(moe_in)};
}

// MixtralDecoderLayer: h = x + attn(norm1(x)); out = h + moe(norm2(h)), each add rounded.
nn::Matrix MixtralReference::Layer(int64_t layer, const nn::Matrix& x,
                                   std::span<const int64_t> positions,
                                   std::vector<nn::Matrix>* router_logits,
                                   nn::LayerKvCache* cache) const {
  const nn::Precision p = precision_;
  const AttentionHalf half = Attend(layer, x, positions, cache);
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

Reference::RoutedOutput MixtralReference::RunWithRouterLogits(std::string_view kind, int64_t layer,
                                                              const ComponentInput& input) const {
  if (kind != "decoder_layer") return Reference::RunWithRouterLogits(kind, layer, input);
  CheckLayer(kind, layer);
  std::vector<nn::Matrix> router_logits;
  nn::Matrix output =
      Layer(layer, nn::Rounded(precision_, input.hidden), input.positions, &router_logits);
  return {std::move(output), std::move(router_logits.front())};
}

nn::Matrix MixtralReference::Forward(std::span<const int64_t> ids,
                                     std::vector<nn::Matrix>* router_logits,
                                     nn::CausalLmCache* cache) const {
  const std::vector<int64_t> id_list(ids.begin(), ids.end());
  std::vector<int64_t> positions(id_list.size());
  std::iota(positions.begin(), positions.end(), cache == nullptr ? 0 : cache->length());
  nn::Matrix h = dense_.Run("embedding", -1, {nn::Matrix(), id_list, {}});
  if (cache != nullptr) cache->layers.resize(static_cast<std::size_t>(config_.num_hidden_layers));
  for (int64_t layer = 0; layer < config_.num_hidden_layers; ++layer) {
    h = Layer(layer, h, positions, router_logits,
              cache == nullptr ? nullptr : &cache->layers[static_cast<std::size_t>(layer)]);
  }
  return h;
}

nn::Matrix MixtralReference::Head(const nn::Matrix& hidden) const {
  return dense_.Run("lm_head", -1, {Norm("final_norm", -1, hidden), {}, {}});
}

nn::Matrix MixtralReference::Logits(std::span<const int64_t> ids) const {
  return Head(Forward(ids, nullptr));
}

nn::Matrix MixtralReference::Step(std::span<const int64_t> ids, nn::CausalLmCache& cache) const {
  std::vector<nn::Matrix> router_logits;
  const nn::Matrix hidden = Forward(ids, &router_logits, &cache);
  cache.router_logits.resize(router_logits.size());
  for (std::size_t layer = 0; layer < router_logits.size(); ++layer) {
    nn::Matrix& all = cache.router_logits[layer];
    const nn::Matrix& rows = router_logits[layer];
    const Eigen::Index old_rows = all.rows();
    all.conservativeResize(old_rows + rows.rows(), rows.cols());
    all.bottomRows(rows.rows()) = rows;
  }
  return Head(hidden);
}

std::unique_ptr<ReferenceDecoder> MixtralReference::StartDecoding() const {
  return MakeKvCachedDecoder(
      [this](std::span<const int64_t> ids, nn::CausalLmCache& cache) { return Step(ids, cache); });
}

std::vector<nn::Matrix> MixtralReference::RouterLogits(std::span<const int64_t> ids) const {
  std::vector<nn::Matrix> router_logits;
  Forward(ids, &router_logits);
  return router_logits;
}

}  // namespace equiv
