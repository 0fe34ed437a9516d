// The sparse mixture-of-experts block of HF's MixtralSparseMoeBlock, Qwen2MoeSparseMoeBlock
// and Qwen3MoeSparseMoeBlock (transformers 4.51-4.56): the router, the top-k routing and the
// weighted sum of the experts.
//
//   Matrix logits = Linear(x, moe.gate, p);                    // the router, [n, experts]
//   Routing r = Route(logits, RoutingRuleOf(config), p);        // top-k ids and weights
//   Matrix y = SparseMoe(x, moe, RoutingRuleOf(config), config.hidden_act, p);
#ifndef EQUIV_LIBEQUIV_NN_MOE_H_
#define EQUIV_LIBEQUIV_NN_MOE_H_

#include <cstdint>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/nn/linear.h"
#include "libequiv/nn/mlp.h"

namespace equiv::nn {

struct MoeWeights {
  LinearWeights gate;                // the router [num_experts, hidden], no bias
  std::vector<MlpWeights> experts;   // SwiGLU MLPs; Mixtral's w1, w3, w2 are gate, up, down
  MlpWeights shared_expert;          // Qwen2-MoE; empty without a shared expert
  LinearWeights shared_expert_gate;  // [1, hidden]; empty without a shared expert

  bool has_shared_expert() const { return shared_expert_gate.weight.size() > 0; }
  MoeWeights Rounded(Precision precision) const;  // rounded, not packed
  // Packs the router's, every expert's and the shared expert's weights once for MatmulNT.
  void Pack(Precision precision);
};

// How a router's probabilities become routing weights.
struct RoutingRule {
  int64_t top_k = 2;
  bool renormalize = true;  // Mixtral always; Qwen's norm_topk_prob
  // GPT-OSS: the top-k of the logits first, then a softmax over those k in the precision.
  bool softmax_after_topk = false;
};
RoutingRule RoutingRuleOf(const ModelConfig& config);

// Each row's top-k experts, the most probable first (ties: the lower index), and their weights.
struct Routing {
  int64_t top_k = 0;
  std::vector<int64_t> experts;  // [rows * top_k], row-major
  Matrix weights;                // [rows, top_k], in the precision
  int64_t Expert(int64_t row, int64_t slot) const { return experts[row * top_k + slot]; }
};

// HF's routing: softmax(logits, dim=-1, dtype=float32), topk, divided by their float32 sum when
// the rule renormalizes, then cast to the precision (.to(hidden_states.dtype)). With
// softmax_after_topk (GptOssTopKRouter): topk of the logits, softmax over the k values
// (dtype = the logits', float32 inside, one rounding). Throws equiv::Error when top_k is
// outside [1, experts].
Routing Route(const Matrix& logits, const RoutingRule& rule, Precision precision);

// The block's output [n, hidden]: router logits, Route, each expert on its tokens, times the
// token's weight (rounded), added into a zero buffer expert by expert in ascending index order
// (index_add_, one rounding per add); then Qwen2-MoE's shared expert times
// sigmoid(shared_expert_gate(x)), added (rounded).
Matrix SparseMoe(const Matrix& x, const MoeWeights& moe, const RoutingRule& rule, HiddenAct act,
                 Precision precision);

// The shared expert's gated output alone: sigmoid(shared_expert_gate(x)) * shared_expert(x).
Matrix GatedSharedExpert(const Matrix& x, const MoeWeights& moe, HiddenAct act,
                         Precision precision);

// Every expert on every token, side by side: [n, experts x hidden], expert e's output in
// columns [e * hidden, (e + 1) * hidden) (what the `experts` ModuleList computes for each of
// its children; the routing does not enter).
Matrix EveryExpert(const Matrix& x, const MoeWeights& moe, HiddenAct act, Precision precision);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_MOE_H_
