// Greedy decoding on the reference (Reference::StartDecoding: the prompt once, then one
// position per new token through its KV cache) and on the port (context encoding, then token
// generation through its KV cache), counting token-forwards.
//
//   int64_t forwards = 0;
//   std::vector<int64_t> ref = ReferenceGreedy(fp32, prompt, 32, &forwards);
//   std::vector<int64_t> port_tokens = PortGreedy(port, prompt, 32, &forwards);
#ifndef EQUIV_LIBEQUIV_E2E_GREEDY_H_
#define EQUIV_LIBEQUIV_E2E_GREEDY_H_

#include <cstdint>
#include <span>
#include <vector>

#include "libequiv/models/port.h"
#include "libequiv/models/reference.h"
#include "libequiv/nn/numerics.h"

namespace equiv {

// The index of the largest logit of `row` (the lowest among ties; NaN never wins).
int64_t ArgMax(const nn::Matrix& logits, int64_t row);

// The `new_tokens` tokens the model picks greedily after `prompt` (not including it).
// `token_forwards`, when set, grows by the tokens each forward pass processes.
std::vector<int64_t> ReferenceGreedy(const Reference& model, std::span<const int64_t> prompt,
                                     int64_t new_tokens, int64_t* token_forwards = nullptr);

// A greedy generation with the logits it ran: `logits` [prompt + new_tokens - 1, vocab] are
// those of every position of the generated sequence but its last (whose prediction nothing
// needs): what Logits gives over that sequence, row by row.
// `router_logits`: the routers' logits at the same positions, from the same forwards
// (ReferenceDecoder::RouterLogits; empty for a family without routing).
struct ReferenceGeneration {
  std::vector<int64_t> tokens;
  nn::Matrix logits;
  std::vector<nn::Matrix> router_logits;
};
ReferenceGeneration ReferenceGenerate(const Reference& model, std::span<const int64_t> prompt,
                                      int64_t new_tokens, int64_t* token_forwards = nullptr);
// Context encoding counts its bucket-padded length, each token generation one.
std::vector<int64_t> PortGreedy(Port& port, std::span<const int64_t> prompt, int64_t new_tokens,
                                int64_t* token_forwards = nullptr);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_E2E_GREEDY_H_
