// The component mappings of the qwen2_moe and qwen3_moe families' built-in port onto the HF
// reference: the same texts ship as configs/mappings/qwen2_moe-port.json and
// qwen3_moe-port.json (tests/generators/builtin_port_mapping_test.cc keeps them equal).
#include "libequiv/families/qwen_moe/qwen_moe_family.h"

namespace equiv {

std::string_view QwenMoeFamily::BuiltinPortMappingJson() const {
  static constexpr std::string_view kQwen2Moe = R"json(
{
  "version": 1,
  "variables": {"i": "num_hidden_layers"},
  "mapping": [
    {
      "source": ["model.embed_tokens"],
      "target": ["model.embed_tokens"],
      "reasoning": "nn.Embedding -> ParallelEmbedding: the vocabulary is sharded over ranks, the lookup is the same"
    },
    {
      "source": ["model.layers.{i}.input_layernorm"],
      "target": ["model.layers.{i}.input_layernorm"],
      "reasoning": "RMSNorm -> CustomRMSNorm: one fused kernel, float32 inside, one rounding"
    },
    {
      "source": [
        "model.layers.{i}.self_attn.q_proj",
        "model.layers.{i}.self_attn.k_proj",
        "model.layers.{i}.self_attn.v_proj"
      ],
      "target": ["model.layers.{i}.self_attn.qkv_proj"],
      "reasoning": "three Linear -> one fused column-parallel projection (Wqkv, or q/k/v_proj unfused); output columns q | k | v"
    },
    {
      "source": ["model.rotary_emb"],
      "target": ["model.layers.{i}.self_attn.rotary_emb"],
      "reasoning": "HF computes cos/sin once per model; the port has one rotary embedding per attention layer"
    },
    {
      "source": ["model.layers.{i}.self_attn"],
      "target": ["model.layers.{i}.self_attn"],
      "reasoning": "the whole attention: fused QKV, rotary, blockwise flash attention, row-parallel o_proj with an all-reduce"
    },
    {
      "source": [],
      "target": ["model.layers.{i}.self_attn.o_proj"],
      "reasoning": "no counterpart: GroupQueryAttention_O is an NxD wrapper around the row-parallel o_proj.o_proj; HF's o_proj is covered by the attention case"
    },
    {
      "source": ["model.layers.{i}.post_attention_layernorm"],
      "target": ["model.layers.{i}.post_attention_layernorm"],
      "reasoning": "RMSNorm -> CustomRMSNorm: one fused kernel, float32 inside, one rounding"
    },
    {
      "source": ["model.layers.{i}.mlp.gate"],
      "target": ["model.layers.{i}.mlp.router"],
      "reasoning": "Linear -> RouterTopK's linear_router, replicated on every rank so that every rank routes alike"
    },
    {
      "source": ["model.layers.{i}.mlp.experts"],
      "target": ["model.layers.{i}.mlp.expert_mlps"],
      "reasoning": "the experts' gate_proj/up_proj/down_proj -> ExpertMLPs with fused gate_up_proj and down_proj, experts spread over the expert-parallel ranks, each tensor-parallel within its group"
    },
    {
      "source": ["model.layers.{i}.mlp.shared_expert"],
      "target": ["model.layers.{i}.mlp.shared_experts"],
      "reasoning": "Qwen2MoeMLP -> SharedExperts: gate/up column-parallel, down row-parallel over all ranks, run on every token"
    },
    {
      "source": ["model.layers.{i}.mlp.shared_expert_gate"],
      "target": ["model.layers.{i}.mlp.shared_expert_gate"],
      "reasoning": "Linear(hidden, 1), replicated on every rank; the sigmoid is the MoE block's"
    },
    {
      "source": ["model.layers.{i}.mlp"],
      "target": ["model.layers.{i}.mlp"],
      "reasoning": "the sparse MoE block: routing in float32 (renormalized only if norm_topk_prob), tokens dispatched to their experts and combined by all-to-all, contributions added in expert order, then the sigmoid-gated shared expert added"
    },
    {
      "source": ["model.layers.{i}"],
      "target": ["model.layers.{i}"],
      "reasoning": "the decoder layer: norms, attention, the MoE block and both residual adds"
    },
    {
      "source": ["model.norm"],
      "target": ["model.norm"],
      "reasoning": "RMSNorm -> CustomRMSNorm on the last hidden state"
    },
    {
      "source": ["lm_head"],
      "target": ["lm_head"],
      "reasoning": "Linear -> ColumnParallelLinear over the vocabulary, logits gathered from the ranks"
    }
  ]
}
)json";
  static constexpr std::string_view kQwen3Moe = R"json(
{
  "version": 1,
  "variables": {"i": "num_hidden_layers"},
  "mapping": [
    {
      "source": ["model.embed_tokens"],
      "target": ["model.embed_tokens"],
      "reasoning": "nn.Embedding -> ParallelEmbedding: the vocabulary is sharded over ranks, the lookup is the same"
    },
    {
      "source": ["model.layers.{i}.input_layernorm"],
      "target": ["model.layers.{i}.input_layernorm"],
      "reasoning": "RMSNorm -> CustomRMSNorm: one fused kernel, float32 inside, one rounding"
    },
    {
      "source": [
        "model.layers.{i}.self_attn.q_proj",
        "model.layers.{i}.self_attn.k_proj",
        "model.layers.{i}.self_attn.v_proj"
      ],
      "target": ["model.layers.{i}.self_attn.qkv_proj"],
      "reasoning": "three Linear -> one fused column-parallel projection (Wqkv, or q/k/v_proj unfused); output columns q | k | v"
    },
    {
      "source": ["model.layers.{i}.self_attn.q_norm"],
      "target": ["model.layers.{i}.self_attn.q_layernorm"],
      "reasoning": "Qwen3RMSNorm over each query head -> the attention's q_layernorm (CustomRMSNorm), on every rank's heads before rotary"
    },
    {
      "source": ["model.layers.{i}.self_attn.k_norm"],
      "target": ["model.layers.{i}.self_attn.k_layernorm"],
      "reasoning": "Qwen3RMSNorm over each key head -> the attention's k_layernorm (CustomRMSNorm), on every rank's heads before rotary"
    },
    {
      "source": ["model.rotary_emb"],
      "target": ["model.layers.{i}.self_attn.rotary_emb"],
      "reasoning": "HF computes cos/sin once per model; the port has one rotary embedding per attention layer"
    },
    {
      "source": ["model.layers.{i}.self_attn"],
      "target": ["model.layers.{i}.self_attn"],
      "reasoning": "the whole attention: fused QKV, the per-head q/k norms, rotary, blockwise flash attention, row-parallel o_proj with an all-reduce"
    },
    {
      "source": [],
      "target": ["model.layers.{i}.self_attn.o_proj"],
      "reasoning": "no counterpart: GroupQueryAttention_O is an NxD wrapper around the row-parallel o_proj.o_proj; HF's o_proj is covered by the attention case"
    },
    {
      "source": ["model.layers.{i}.post_attention_layernorm"],
      "target": ["model.layers.{i}.post_attention_layernorm"],
      "reasoning": "RMSNorm -> CustomRMSNorm: one fused kernel, float32 inside, one rounding"
    },
    {
      "source": ["model.layers.{i}.mlp.gate"],
      "target": ["model.layers.{i}.mlp.router"],
      "reasoning": "Linear -> RouterTopK's linear_router, replicated on every rank so that every rank routes alike"
    },
    {
      "source": ["model.layers.{i}.mlp.experts"],
      "target": ["model.layers.{i}.mlp.expert_mlps"],
      "reasoning": "the experts' gate_proj/up_proj/down_proj -> ExpertMLPs with fused gate_up_proj and down_proj, experts spread over the expert-parallel ranks, each tensor-parallel within its group"
    },
    {
      "source": ["model.layers.{i}.mlp"],
      "target": ["model.layers.{i}.mlp"],
      "reasoning": "the sparse MoE block: routing in float32, renormalized as norm_topk_prob says, tokens dispatched to their experts and combined by all-to-all, contributions added in expert order"
    },
    {
      "source": ["model.layers.{i}"],
      "target": ["model.layers.{i}"],
      "reasoning": "the decoder layer: norms, attention, the MoE block and both residual adds"
    },
    {
      "source": ["model.norm"],
      "target": ["model.norm"],
      "reasoning": "RMSNorm -> CustomRMSNorm on the last hidden state"
    },
    {
      "source": ["lm_head"],
      "target": ["lm_head"],
      "reasoning": "Linear -> ColumnParallelLinear over the vocabulary, logits gathered from the ranks"
    }
  ]
}
)json";
  return version_ == 2 ? kQwen2Moe : kQwen3Moe;
}

}  // namespace equiv
