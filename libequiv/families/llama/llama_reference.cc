#include "libequiv/families/llama/llama_reference.h"

#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "libequiv/nn/attention.h"
#include "libequiv/nn/rms_norm.h"
#include "libequiv/nn/rotary.h"
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

LlamaReference::LlamaReference(const ModelConfig& config, const nn::CausalLmWeights& weights,
                               nn::Precision precision)
    : config_(config), precision_(precision), weights_(weights.Rounded(precision)) {
  weights_.Pack(precision);
}

std::unique_ptr<ReferenceDecoder> LlamaReference::StartDecoding() const {
  return MakeKvCachedDecoder([this](std::span<const int64_t> ids, nn::CausalLmCache& cache) {
    return nn::CausalLmStep(ids, weights_, config_, precision_, cache);
  });
}

nn::Matrix LlamaReference::Run(std::string_view kind, int64_t layer,
                               const ComponentInput& input) const {
  const std::string name(kind);
  if (PerLayer(kind) && (layer < 0 || layer >= config_.num_hidden_layers)) {
    throw Error("reference " + name + ": layer " + std::to_string(layer) + " is outside [0, " +
                std::to_string(config_.num_hidden_layers) + ")");
  }
  const nn::Precision p = precision_;
  const nn::Matrix x = nn::Rounded(p, input.hidden);
  const auto& w = PerLayer(kind) ? weights_.layers[layer] : weights_.layers.front();
  const double eps = config_.rms_norm_eps;
  if (kind == "embedding") return nn::Embedding(weights_.embed_tokens, input.ids);
  if (kind == "input_layernorm") return nn::RmsNorm(x, w.input_layernorm, eps, p);
  if (kind == "post_attention_layernorm") {
    return nn::RmsNorm(x, w.post_attention_layernorm, eps, p);
  }
  if (kind == "final_norm") return nn::RmsNorm(x, weights_.norm, eps, p);
  if (kind == "q_norm" || kind == "k_norm") {
    const nn::Vector& weight = kind == "q_norm" ? w.self_attn.q_norm : w.self_attn.k_norm;
    if (weight.size() == 0) throw Error("reference " + name + ": this model has no " + name);
    return nn::HeadRmsNorm(x, weight, eps, p);
  }
  if (kind == "qkv_proj") {
    const nn::Matrix q = nn::Linear(x, w.self_attn.q_proj, p);
    const nn::Matrix k = nn::Linear(x, w.self_attn.k_proj, p);
    const nn::Matrix v = nn::Linear(x, w.self_attn.v_proj, p);
    nn::Matrix out(x.rows(), q.cols() + k.cols() + v.cols());
    out << q, k, v;
    return out;
  }
  if (kind == "rotary") {
    const int64_t d = config_.head_dim;
    const int64_t q_cols = config_.num_attention_heads * d;
    if (x.cols() != q_cols + config_.num_key_value_heads * d) {
      throw Error("reference rotary: input has " + std::to_string(x.cols()) +
                  " columns, q | k needs " +
                  std::to_string(q_cols + config_.num_key_value_heads * d));
    }
    const nn::RotaryTables tables = nn::RotaryCosSin(
        nn::ComputeRotaryFrequencies(config_, SeqLenOf(input.positions)), input.positions, p);
    nn::Matrix out(x.rows(), x.cols());
    out << nn::ApplyRotary(x.leftCols(q_cols), d, tables, p),
        nn::ApplyRotary(x.rightCols(x.cols() - q_cols), d, tables, p);
    return out;
  }
  if (kind == "attention") {
    return nn::Attention(x, input.positions, w.self_attn, nn::AttentionSpecOf(config_, layer),
                         nn::ComputeRotaryFrequencies(config_, SeqLenOf(input.positions)), p);
  }
  if (kind == "mlp") return nn::GatedMlp(x, w.mlp, config_.hidden_act, p);
  if (kind == "decoder_layer") return nn::DecoderLayer(x, input.positions, w, config_, layer, p);
  if (kind == "lm_head") return nn::LmHead(x, weights_, p);
  if (kind == "causal_lm") return Logits(input.ids);
  throw Error("reference: the llama family has no component \"" + name + "\"");
}

nn::Matrix LlamaReference::Logits(std::span<const int64_t> ids) const {
  return nn::CausalLmLogits(ids, weights_, config_, precision_);
}

}  // namespace equiv
