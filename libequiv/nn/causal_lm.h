// LlamaModel + lm_head: logits for a token sequence, the reference end to end.
#ifndef EQUIV_LIBEQUIV_NN_CAUSAL_LM_H_
#define EQUIV_LIBEQUIV_NN_CAUSAL_LM_H_

#include <cstdint>
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

  CausalLmWeights Rounded(Precision precision) const;
};

// lm_head (no bias) on final-normed hidden states: logits [positions, vocab], rounded.
Matrix LmHead(const Matrix& hidden, const CausalLmWeights& weights, Precision precision);

// Logits [ids, vocab] for positions 0 .. ids.size() - 1.
Matrix CausalLmLogits(std::span<const int64_t> ids, const CausalLmWeights& weights,
                      const ModelConfig& config, Precision precision);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_CAUSAL_LM_H_
