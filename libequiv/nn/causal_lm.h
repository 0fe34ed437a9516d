// LlamaModel + lm_head: logits for a token sequence, the reference end to end.
#ifndef EQUIV_LIBEQUIV_NN_CAUSAL_LM_H_
#define EQUIV_LIBEQUIV_NN_CAUSAL_LM_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/nn/decoder_layer.h"

namespace equiv::nn {

struct CausalLmWeights {
  Matrix embed_tokens;  // [vocab, hidden]
  std::vector<DecoderLayerWeights> layers;
  Vector norm;
  Matrix lm_head;  // [vocab, hidden]; a copy of embed_tokens when the embeddings are tied
  // lm_head packed for MatmulNT by Pack (LinearWeights::packed); packed per call without it.
  std::shared_ptr<const PackedMatrix> lm_head_packed = {};

  CausalLmWeights Rounded(Precision precision) const;  // rounded, not packed
  // Packs every matmul weight once for MatmulNT; do it after the weights' last change.
  void Pack(Precision precision);
};

// lm_head (no bias) on final-normed hidden states: logits [positions, vocab], rounded.
Matrix LmHead(const Matrix& hidden, const CausalLmWeights& weights, Precision precision);

// Logits [ids, vocab] for positions 0 .. ids.size() - 1.
Matrix CausalLmLogits(std::span<const int64_t> ids, const CausalLmWeights& weights,
                      const ModelConfig& config, Precision precision);

// An incremental forward: every layer's KV cache. Positions 0 .. length() - 1 have run.
struct CausalLmCache {
  std::vector<LayerKvCache> layers;
  // A mixture of experts' router logits at positions 0 .. length() - 1, [length(), experts] per
  // MoE layer, when its step records them (MixtralReference's); empty otherwise.
  std::vector<Matrix> router_logits;
  int64_t length() const { return layers.empty() ? 0 : layers.front().length(); }
};
// Logits [ids, vocab] of ids at positions cache.length() .., appended to the cache: the rows
// CausalLmLogits gives for the whole sequence, bit for bit (every op computes a row from that
// row alone, and attention reads the same keys in the same order).
Matrix CausalLmStep(std::span<const int64_t> ids, const CausalLmWeights& weights,
                    const ModelConfig& config, Precision precision, CausalLmCache& cache);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_CAUSAL_LM_H_
