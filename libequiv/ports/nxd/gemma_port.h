// The built-in port of Gemma-like decoders (Gemma 2, Gemma 3 text) on the simulated device,
// from the NxD-like port's building blocks: the same state-dict conversion (fused QKV per
// rank, column/row-parallel shards, the vocabulary-parallel embedding), HeadSharding, the
// device attention kernel (with its logit soft-cap), the TP gated MLP and the bf16 KV cache.
// Gemma's own numerics are its steps (gemma_steps.h): the (1 + w) norm, four norms per layer,
// the embedding scale, query_pre_attn_scalar, the soft-caps, per-layer sliding windows and
// Gemma 3's local rotary for sliding layers. Both graphs (context encoding into the cache,
// token generation over it) run one decoder-layer body. Patches are not supported.
// Families make it (families/gemma/); nothing else names this type.
#ifndef EQUIV_LIBEQUIV_PORTS_NXD_GEMMA_PORT_H_
#define EQUIV_LIBEQUIV_PORTS_NXD_GEMMA_PORT_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/device/kv_cache.h"
#include "libequiv/models/port.h"
#include "libequiv/nn/gemma.h"
#include "libequiv/ports/nxd/gemma_steps.h"
#include "libequiv/ports/nxd/head_sharding.h"
#include "libequiv/ports/nxd/nxd_weights.h"

namespace equiv::nxd {

struct GemmaNaming {
  std::string class_prefix;  // "NeuronGemma2": NeuronGemma2ForCausalLM, NeuronGemma2Attention
  bool qk_norm = false;      // self_attn.q_layernorm and k_layernorm (Gemma 3)
  // The embedding module scales by sqrt(hidden) itself (Gemma 3's ScaledWordEmbedding); else
  // the model's forward scales after it (Gemma 2).
  bool embedding_scales = false;
};

// NeuronGemmaXForCausalLM > model (embed_tokens, layers of NeuronGemmaXDecoderLayer with
// self_attn.qkv_proj, o_proj, rotary_emb, [q_layernorm, k_layernorm], mlp and four norms),
// norm; lm_head. Shapes are the unsharded ones.
ModuleNode GemmaModuleTree(const ModelConfig& config, const device::DeviceConfig& device,
                           const GemmaNaming& naming);

class GemmaPort : public Port {
 public:
  // `weights` float32 as the reference holds them; `steps` DefaultGemmaSteps() with any faults
  // applied. Validates the device against the config; throws equiv::Error naming what does
  // not fit.
  GemmaPort(const ModelConfig& config, const nn::GemmaWeights& weights,
            const device::DeviceConfig& device, GemmaSteps steps, GemmaNaming naming);

  nn::Matrix Run(const ComponentCall& call, const ComponentInput& input) const override;
  nn::Matrix ContextEncoding(std::span<const int64_t> prompt) override;
  nn::Matrix TokenGeneration(int64_t token) override;
  ModuleNode Tree() const override;

 private:
  struct AttentionPass {
    std::vector<int64_t> query_positions;
    std::vector<int64_t> rotary_positions;
    int64_t rotary_seq_len = 0;
    int64_t n_real = 0;
    bool fill_cache = false;
    bool from_cache = false;
    std::vector<int64_t> key_positions;
  };

  nn::Matrix Norm(std::string_view kind, int64_t layer, const nn::Matrix& x) const;
  nn::Matrix HeadNorm(std::string_view kind, int64_t layer, const nn::Matrix& x) const;
  std::vector<QkvShard> Qkv(int64_t layer, const nn::Matrix& x) const;
  nn::RotaryTables RotaryTables(int64_t layer, std::span<const int64_t> positions,
                                int64_t seq_len) const;
  nn::Matrix AttendRank(const nn::Matrix& q, nn::Matrix k, nn::Matrix v,
                        std::vector<int64_t> query_positions,
                        std::span<const int64_t> key_positions, int64_t layer) const;
  nn::Matrix Attention(int64_t layer, const nn::Matrix& x, const AttentionPass& pass) const;
  nn::Matrix Mlp(int64_t layer, const nn::Matrix& x) const;
  nn::Matrix DecoderLayer(int64_t layer, const nn::Matrix& x, const AttentionPass& pass) const;
  nn::Matrix EmbedScaled(std::span<const int64_t> ids) const;
  nn::Matrix Head(const nn::Matrix& hidden) const;  // final norm, lm_head, final logits
  nn::Matrix Forward(std::span<const int64_t> ids, int64_t n_real, bool fill_cache) const;
  int64_t BucketFor(int64_t n) const;
  void ClearCaches();

  ModelConfig config_;  // as the port reads config.json (the steps' read_config)
  device::DeviceConfig device_;
  GemmaSteps steps_;
  GemmaNaming naming_;
  HeadSharding heads_;
  NxdWeights weights_;  // input_norm, post_norm (post_attention_layernorm), the shards
  std::vector<Vector> pre_ff_norms_, post_ff_norms_;
  mutable std::vector<std::vector<device::KvCache>> caches_;  // [layer][rank]
  int64_t cache_length_ = 0;
};

}  // namespace equiv::nxd

#endif  // EQUIV_LIBEQUIV_PORTS_NXD_GEMMA_PORT_H_
