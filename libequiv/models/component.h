// The components of a llama-family causal LM that reference and port both run, one call each,
// so a test can feed the same input to both and compare.
#ifndef EQUIV_LIBEQUIV_MODELS_COMPONENT_H_
#define EQUIV_LIBEQUIV_MODELS_COMPONENT_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include "libequiv/nn/numerics.h"

namespace equiv {

// In bottom-up order. Inputs and outputs (n positions):
//   kEmbedding          ids -> [n, hidden]
//   kInputNorm, kPostAttentionNorm, kFinalNorm   hidden -> hidden
//   kQkvProj            hidden -> [n, (heads + 2 kv_heads) * head_dim], q | k | v columns
//   kRotary             [n, (heads + kv_heads) * head_dim] q | k columns, positions -> same
//   kAttention          hidden, positions -> hidden (the whole self_attn module)
//   kMlp                hidden -> hidden
//   kDecoderLayer       hidden, positions -> hidden
//   kLmHead             final-normed hidden -> [n, vocab]
//   kCausalLm           ids (positions 0..n-1) -> [n, vocab]
enum class Component {
  kEmbedding,
  kInputNorm,
  kQkvProj,
  kRotary,
  kAttention,
  kPostAttentionNorm,
  kMlp,
  kDecoderLayer,
  kFinalNorm,
  kLmHead,
  kCausalLm,
};

// "embedding", "input_layernorm", "qkv_proj", "rotary", "attention", "post_attention_layernorm",
// "mlp", "decoder_layer", "final_norm", "lm_head", "causal_lm".
std::string_view ComponentName(Component component);
std::optional<Component> ComponentFromName(std::string_view name);
void PrintTo(Component component, std::ostream* os);
// Whether the component belongs to a decoder layer (takes a layer index).
bool IsPerLayer(Component component);

struct ComponentInput {
  nn::Matrix hidden;               // the activations in, or q | k for kRotary
  std::vector<int64_t> ids;        // kEmbedding, kCausalLm
  std::vector<int64_t> positions;  // kRotary, kAttention, kDecoderLayer; one per row
};

// Rows of a (possibly bucket-padded) output that correspond to the n input positions.
nn::Matrix AlignRows(const nn::Matrix& output, int64_t n);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_COMPONENT_H_
