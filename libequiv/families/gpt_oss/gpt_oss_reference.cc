#include "libequiv/families/gpt_oss/gpt_oss_reference.h"

#include <utility>

#include "libequiv/nn/rms_norm.h"

namespace equiv {

GptOssReference::GptOssReference(const ModelConfig& config, const nn::CausalLmWeights& dense,
                                 const std::vector<nn::MoeWeights>& moe, nn::Precision precision)
    : MixtralReference(config, dense, moe, precision) {
  norms_.norm = nn::Rounded(precision, dense.norm);
  for (const nn::DecoderLayerWeights& layer : dense.layers) {
    nn::DecoderLayerWeights w;
    w.input_layernorm = nn::Rounded(precision, layer.input_layernorm);
    w.post_attention_layernorm = nn::Rounded(precision, layer.post_attention_layernorm);
    norms_.layers.push_back(std::move(w));
  }
}

nn::Matrix GptOssReference::Norm(std::string_view kind, int64_t layer, const nn::Matrix& x) const {
  const nn::Vector& weight = kind == "final_norm" ? norms_.norm
                             : kind == "input_layernorm"
                                 ? norms_.layers[layer].input_layernorm
                                 : norms_.layers[layer].post_attention_layernorm;
  return nn::RmsNormOneRounding(x, weight, config().rms_norm_eps, precision());
}

nn::Matrix GptOssReference::Moe(int64_t layer, const nn::Matrix& x) const {
  return nn::GptOssMoe(x, moe(layer), nn::RoutingRuleOf(config()), nn::SwigluClampOf(config()),
                       precision());
}

nn::Matrix GptOssReference::Experts(int64_t layer, const nn::Matrix& x) const {
  return nn::EveryClampedExpert(x, moe(layer), nn::SwigluClampOf(config()), precision());
}

}  // namespace equiv
