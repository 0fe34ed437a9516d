// The component mapping of the gpt_oss family's built-in port onto the HF reference: the same
// text ships as configs/mappings/gpt_oss-port.json (tests/generators/builtin_port_mapping_test.cc
// keeps the two equal).
#include "libequiv/families/gpt_oss/gpt_oss_family.h"

namespace equiv {

std::string_view GptOssFamily::BuiltinPortMappingJson() const {
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
      "reasoning": "GptOssRMSNorm -> CustomRMSNorm: one fused kernel, float32 inside, one rounding"
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
      "reasoning": "the whole attention: fused biased QKV, YaRN rotary, blockwise flash attention with the per-head sinks, row-parallel o_proj with an all-reduce"
    },
    {
      "source": [],
      "target": ["model.layers.{i}.self_attn.o_proj"],
      "reasoning": "no counterpart: GroupQueryAttention_O is an NxD wrapper around the row-parallel o_proj.o_proj; HF's o_proj is covered by the attention case"
    },
    {
      "source": ["model.layers.{i}.post_attention_layernorm"],
      "target": ["model.layers.{i}.post_attention_layernorm"],
      "reasoning": "GptOssRMSNorm -> CustomRMSNorm: one fused kernel, float32 inside, one rounding"
    },
    {
      "source": ["model.layers.{i}.mlp.router"],
      "target": ["model.layers.{i}.mlp.router"],
      "reasoning": "the biased router Linear -> RouterTopK's linear_router (bias kept), replicated on every rank so that every rank routes alike"
    },
    {
      "source": ["model.layers.{i}.mlp.experts"],
      "target": ["model.layers.{i}.mlp.expert_mlps"],
      "reasoning": "the stacked experts (interleaved gate_up_proj, down_proj, biases) -> ExpertMLPs with a de-interleaved fused gate_up_proj, down_proj and biases, the clamped SwiGLU, experts spread over the expert-parallel ranks, each tensor-parallel within its group"
    },
    {
      "source": ["model.layers.{i}.mlp"],
      "target": ["model.layers.{i}.mlp"],
      "reasoning": "the MoE block: top-k of the logits then softmax over those k, tokens dispatched to their experts and combined by all-to-all, contributions added in expert order"
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
