#include "libequiv/ports/nxd/internal/nxd_weights.h"

#include <utility>

namespace equiv::nxd {

NxdWeights ConvertWeights(const nn::CausalLmWeights& weights, const ModelConfig& config,
                          const device::DeviceConfig& device, const HeadSharding& heads,
                          const NxdSteps& steps) {
  const nn::CausalLmWeights hf = weights.Rounded(device.activation_dtype);
  const int64_t d = config.head_dim;
  const int64_t q_rows = heads.heads_per_rank() * d;
  NxdWeights out;
  out.embed.emplace(hf.embed_tokens, device);
  for (const nn::DecoderLayerWeights& w : hf.layers) {
    NxdLayer layer;
    layer.input_norm = w.input_layernorm;
    layer.post_norm = w.post_attention_layernorm;
    layer.q_norm = w.self_attn.q_norm;
    layer.k_norm = w.self_attn.k_norm;
    layer.sinks = w.self_attn.sinks;
    layer.pre_ff_norm = w.pre_feedforward_layernorm;
    layer.post_ff_norm = w.post_feedforward_layernorm;
    const nn::AttentionWeights& a = w.self_attn;
    const bool bias = a.q_proj.has_bias() && steps.load_qkv_bias;
    std::vector<Matrix> q, k, v, fused;
    std::vector<Vector> qb, kb, vb, fused_b;
    for (int64_t r = 0; r < heads.tp(); ++r) {
      q.push_back(a.q_proj.weight.middleRows(r * q_rows, q_rows));
      k.push_back(heads.KvRows(a.k_proj.weight, r));
      v.push_back(heads.KvRows(a.v_proj.weight, r));
      qb.push_back(bias ? Vector(a.q_proj.bias.segment(r * q_rows, q_rows)) : Vector());
      kb.push_back(bias ? heads.KvSegment(a.k_proj.bias, r) : Vector());
      vb.push_back(bias ? heads.KvSegment(a.v_proj.bias, r) : Vector());
      fused.push_back(steps.pack_qkv(q[r], k[r], v[r]));
      fused_b.push_back(bias ? steps.pack_qkv_bias(qb[r], kb[r], vb[r]) : Vector());
    }
    if (device.fused_qkv) {
      layer.qkv.emplace(std::move(fused), std::move(fused_b), device);
    } else {
      layer.q.emplace(std::move(q), std::move(qb), device);
      layer.k.emplace(std::move(k), std::move(kb), device);
      layer.v.emplace(std::move(v), std::move(vb), device);
    }
    layer.o_proj.emplace(a.o_proj.weight, a.o_proj.bias, device);
    // A mixture-of-experts port converts its expert blocks itself (nxd_moe_weights.h).
    if (w.mlp.gate_proj.weight.size() > 0) {
      layer.mlp.gate.emplace(w.mlp.gate_proj.weight, w.mlp.gate_proj.bias, device);
      layer.mlp.up.emplace(w.mlp.up_proj.weight, w.mlp.up_proj.bias, device);
      layer.mlp.down.emplace(w.mlp.down_proj.weight, w.mlp.down_proj.bias, device);
      layer.mlp.down_full = w.mlp.down_proj;
    }
    out.layers.push_back(std::move(layer));
  }
  out.final_norm = hf.norm;
  out.lm_head.emplace(steps.lm_head(hf.lm_head, config), Vector(), device);
  return out;
}

}  // namespace equiv::nxd
