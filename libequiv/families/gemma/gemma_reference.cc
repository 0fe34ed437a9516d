#include "libequiv/families/gemma/gemma_reference.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "libequiv/nn/linear.h"
#include "libequiv/nn/mlp.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

int64_t SeqLenOf(const std::vector<int64_t>& positions) {
  return positions.empty() ? 0 : *std::max_element(positions.begin(), positions.end()) + 1;
}

bool PerLayer(std::string_view kind) {
  return kind != "embedding" && kind != "final_norm" && kind != "lm_head" && kind != "causal_lm";
}

}  // namespace

GemmaReference::GemmaReference(const ModelConfig& config, const nn::CausalLmWeights& weights,
                               nn::Precision precision)
    : config_(config), precision_(precision), weights_(weights.Rounded(precision)) {
  weights_.Pack(precision);
}

std::unique_ptr<ReferenceDecoder> GemmaReference::StartDecoding() const {
  return MakeKvCachedDecoder([this](std::span<const int64_t> ids, nn::CausalLmCache& cache) {
    return nn::GemmaStep(ids, weights_, config_, precision_, cache);
  });
}

nn::Matrix GemmaReference::Run(std::string_view kind, int64_t layer,
                               const ComponentInput& input) const {
  const std::string name(kind);
  if (PerLayer(kind) && (layer < 0 || layer >= config_.num_hidden_layers)) {
    throw Error("reference " + name + ": layer " + std::to_string(layer) + " is outside [0, " +
                std::to_string(config_.num_hidden_layers) + ")");
  }
  const nn::Precision p = precision_;
  const bool gemma3 = config_.model_type == "gemma3_text";
  const nn::Matrix x = nn::Rounded(p, input.hidden);
  const nn::DecoderLayerWeights& w =
      PerLayer(kind) ? weights_.layers[layer] : weights_.layers.front();
  const double eps = config_.rms_norm_eps;
  if (kind == "embedding") {
    const nn::Matrix e = nn::Embedding(weights_.embed_tokens, input.ids);
    return gemma3 ? nn::ScaleEmbeddings(e, config_.hidden_size, p) : e;
  }
  if (kind == "input_layernorm") return nn::GemmaRmsNorm(x, w.input_layernorm, eps, p);
  if (kind == "post_attention_layernorm") {
    return nn::GemmaRmsNorm(x, w.post_attention_layernorm, eps, p);
  }
  if (kind == "pre_feedforward_layernorm") {
    return nn::GemmaRmsNorm(x, w.pre_feedforward_layernorm, eps, p);
  }
  if (kind == "post_feedforward_layernorm") {
    return nn::GemmaRmsNorm(x, w.post_feedforward_layernorm, eps, p);
  }
  if (kind == "final_norm") return nn::GemmaRmsNorm(x, weights_.norm, eps, p);
  if (kind == "q_norm" || kind == "k_norm") {
    const nn::Vector& weight = kind == "q_norm" ? w.self_attn.q_norm : w.self_attn.k_norm;
    if (weight.size() == 0) throw Error("reference " + name + ": this model has no " + name);
    return nn::GemmaHeadRmsNorm(x, weight, eps, p);
  }
  if (kind == "qkv_proj") {
    const nn::Matrix q = nn::Linear(x, w.self_attn.q_proj, p);
    const nn::Matrix k = nn::Linear(x, w.self_attn.k_proj, p);
    const nn::Matrix v = nn::Linear(x, w.self_attn.v_proj, p);
    nn::Matrix out(x.rows(), q.cols() + k.cols() + v.cols());
    out << q, k, v;
    return out;
  }
  if (kind == "rotary" || kind == "rotary_local") {
    if (kind == "rotary_local" && !config_.rope_local_base_freq) {
      throw Error("reference rotary_local: this model has no local rotary embedding");
    }
    const int64_t d = config_.head_dim;
    const int64_t q_cols = config_.num_attention_heads * d;
    if (x.cols() != q_cols + config_.num_key_value_heads * d) {
      throw Error("reference " + name + ": input has " + std::to_string(x.cols()) +
                  " columns, q | k needs " +
                  std::to_string(q_cols + config_.num_key_value_heads * d));
    }
    // model.rotary_emb is the global embedding whatever the layer; rotary_emb_local the local.
    const ModelConfig rope = kind == "rotary" ? config_ : nn::LocalRopeConfig(config_);
    const nn::RotaryTables tables = nn::RotaryCosSin(
        nn::ComputeRotaryFrequencies(rope, SeqLenOf(input.positions)), input.positions, p);
    nn::Matrix out(x.rows(), x.cols());
    out << nn::ApplyRotary(x.leftCols(q_cols), d, tables, p),
        nn::ApplyRotary(x.rightCols(x.cols() - q_cols), d, tables, p);
    return out;
  }
  if (kind == "attention") {
    return nn::Attention(x, input.positions, w.self_attn, nn::GemmaAttentionSpecOf(config_, layer),
                         nn::RotaryFrequenciesOfLayer(config_, layer, SeqLenOf(input.positions)),
                         p);
  }
  if (kind == "mlp") return nn::GatedMlp(x, w.mlp, config_.hidden_act, p);
  if (kind == "decoder_layer") {
    return nn::GemmaDecoderLayer(x, input.positions, w, config_, layer, p);
  }
  if (kind == "lm_head") return nn::LmHead(x, weights_, p);
  if (kind == "causal_lm") return Logits(input.ids);
  throw Error("reference: the " + config_.model_type + " family has no component \"" + name + "\"");
}

nn::Matrix GemmaReference::Logits(std::span<const int64_t> ids) const {
  return nn::GemmaLogits(ids, weights_, config_, precision_);
}

}  // namespace equiv
