// The component mapping of the mixtral family's built-in port onto the HF reference: the same
// text ships as configs/mappings/mixtral-port.json (tests/generators/builtin_port_mapping_test.cc
// keeps the two equal).
#include "libequiv/families/mixtral/mixtral_family.h"

namespace equiv {

std::string_view MixtralFamily::BuiltinPortMappingJson() const {
  return R"json(
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
      "source": ["model.layers.{i}.block_sparse_moe.gate"],
      "target": ["model.layers.{i}.mlp.router"],
      "reasoning": "Linear -> RouterTopK's linear_router, replicated on every rank so that every rank routes alike"
    },
    {
      "source": ["model.layers.{i}.block_sparse_moe.experts"],
      "target": ["model.layers.{i}.mlp.expert_mlps"],
      "reasoning": "the experts' w1/w3/w2 -> ExpertMLPs with fused gate_up_proj and down_proj, experts spread over the expert-parallel ranks, each tensor-parallel within its group"
    },
    {
      "source": ["model.layers.{i}.block_sparse_moe"],
      "target": ["model.layers.{i}.mlp"],
      "reasoning": "the sparse MoE block: routing in float32, tokens dispatched to their experts and combined by all-to-all, contributions added in expert order"
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
}

}  // namespace equiv
