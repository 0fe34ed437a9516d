// The component mappings of the Gemma families' built-in ports onto the HF reference: the
// same texts ship as configs/mappings/gemma2-port.json and gemma3_text-port.json for users to
// copy and adapt (tests/generators/builtin_port_mapping_test.cc keeps them equal). Gemma 3's maps
// the global rotary onto the full-attention layers' and the local one onto the sliding layers'.
#include "libequiv/families/gemma/gemma_family.h"

namespace equiv {

namespace {

constexpr std::string_view kGemma2Mapping = R"json(
{
  "version": 1,
  "variables": {"i": "num_hidden_layers"},
  "mapping": [
    {
      "source": ["model.embed_tokens"],
      "target": ["model.embed_tokens"],
      "reasoning": "nn.Embedding -> ParallelEmbedding: the vocabulary is sharded over ranks, the lookup is the same; both scale by sqrt(hidden_size) after it, in the model forward"
    },
    {
      "source": ["model.layers.{i}.input_layernorm"],
      "target": ["model.layers.{i}.input_layernorm"],
      "reasoning": "Gemma2RMSNorm -> CustomRMSNorm with the (1 + w) weight: float32 inside, one rounding"
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
      "reasoning": "the whole attention: fused QKV, rotary, blockwise flash attention with the logit soft-cap and the layer's window, query_pre_attn_scalar^-0.5, row-parallel o_proj with an all-reduce"
    },
    {
      "source": [],
      "target": ["model.layers.{i}.self_attn.o_proj"],
      "reasoning": "no counterpart: GroupQueryAttention_O is an NxD wrapper around the row-parallel o_proj.o_proj; HF's o_proj is covered by the attention case"
    },
    {
      "source": ["model.layers.{i}.post_attention_layernorm"],
      "target": ["model.layers.{i}.post_attention_layernorm"],
      "reasoning": "Gemma2RMSNorm -> CustomRMSNorm with the (1 + w) weight: float32 inside, one rounding"
    },
    {
      "source": ["model.layers.{i}.pre_feedforward_layernorm"],
      "target": ["model.layers.{i}.pre_feedforward_layernorm"],
      "reasoning": "Gemma2RMSNorm -> CustomRMSNorm with the (1 + w) weight, before the MLP"
    },
    {
      "source": ["model.layers.{i}.post_feedforward_layernorm"],
      "target": ["model.layers.{i}.post_feedforward_layernorm"],
      "reasoning": "Gemma2RMSNorm -> CustomRMSNorm with the (1 + w) weight, on the MLP output before the residual add"
    },
    {
      "source": ["model.layers.{i}.mlp"],
      "target": ["model.layers.{i}.mlp"],
      "reasoning": "gate/up column-parallel, down row-parallel: partial sums rounded per rank and all-reduced"
    },
    {
      "source": ["model.layers.{i}"],
      "target": ["model.layers.{i}"],
      "reasoning": "the decoder layer: four norms, attention, MLP and both residual adds"
    },
    {
      "source": ["model.norm"],
      "target": ["model.norm"],
      "reasoning": "Gemma2RMSNorm -> CustomRMSNorm with the (1 + w) weight on the last hidden state"
    },
    {
      "source": ["lm_head"],
      "target": ["lm_head"],
      "reasoning": "Linear -> ColumnParallelLinear over the vocabulary (the tied embedding table), logits gathered from the ranks; the final soft-cap is the model's, after it"
    }
  ]
}
)json";

constexpr std::string_view kGemma3Mapping = R"json(
{
  "version": 1,
  "variables": {"i": "num_hidden_layers", "g": "full_attention_layers", "s": "sliding_attention_layers"},
  "mapping": [
    {
      "source": ["model.embed_tokens"],
      "target": ["model.embed_tokens"],
      "reasoning": "Gemma3TextScaledWordEmbedding -> ParallelEmbedding with the scale: the vocabulary is sharded over ranks, the lookup is the same; both multiply by sqrt(hidden_size) held in the hidden dtype inside the embedding module"
    },
    {
      "source": ["model.layers.{i}.input_layernorm"],
      "target": ["model.layers.{i}.input_layernorm"],
      "reasoning": "Gemma3RMSNorm -> CustomRMSNorm with the (1 + w) weight: float32 inside, one rounding"
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
      "reasoning": "Gemma3RMSNorm over each query head, (1 + w) -> the attention's q_layernorm (CustomRMSNorm with the (1 + w) weight), on every rank's heads before rotary"
    },
    {
      "source": ["model.layers.{i}.self_attn.k_norm"],
      "target": ["model.layers.{i}.self_attn.k_layernorm"],
      "reasoning": "Gemma3RMSNorm over each key head, (1 + w) -> the attention's k_layernorm (CustomRMSNorm with the (1 + w) weight), on every rank's heads before rotary"
    },
    {
      "source": ["model.rotary_emb"],
      "target": ["model.layers.{g}.self_attn.rotary_emb"],
      "reasoning": "HF's global rotary embedding (rope_theta, rope_scaling) serves the full-attention layers; the port has one rotary embedding per attention layer"
    },
    {
      "source": ["model.rotary_emb_local"],
      "target": ["model.layers.{s}.self_attn.rotary_emb"],
      "reasoning": "HF's local rotary embedding (rope_local_base_freq, no scaling) serves the sliding layers; the port has one rotary embedding per attention layer"
    },
    {
      "source": ["model.layers.{i}.self_attn"],
      "target": ["model.layers.{i}.self_attn"],
      "reasoning": "the whole attention: fused QKV, (1 + w) q/k norms, the layer's rotary (local on sliding layers), blockwise flash attention with the layer's window and no logit soft-cap, query_pre_attn_scalar^-0.5, row-parallel o_proj with an all-reduce"
    },
    {
      "source": [],
      "target": ["model.layers.{i}.self_attn.o_proj"],
      "reasoning": "no counterpart: GroupQueryAttention_O is an NxD wrapper around the row-parallel o_proj.o_proj; HF's o_proj is covered by the attention case"
    },
    {
      "source": ["model.layers.{i}.post_attention_layernorm"],
      "target": ["model.layers.{i}.post_attention_layernorm"],
      "reasoning": "Gemma3RMSNorm -> CustomRMSNorm with the (1 + w) weight: float32 inside, one rounding"
    },
    {
      "source": ["model.layers.{i}.pre_feedforward_layernorm"],
      "target": ["model.layers.{i}.pre_feedforward_layernorm"],
      "reasoning": "Gemma3RMSNorm -> CustomRMSNorm with the (1 + w) weight, before the MLP"
    },
    {
      "source": ["model.layers.{i}.post_feedforward_layernorm"],
      "target": ["model.layers.{i}.post_feedforward_layernorm"],
      "reasoning": "Gemma3RMSNorm -> CustomRMSNorm with the (1 + w) weight, on the MLP output before the residual add"
    },
    {
      "source": ["model.layers.{i}.mlp"],
      "target": ["model.layers.{i}.mlp"],
      "reasoning": "gate/up column-parallel, down row-parallel: partial sums rounded per rank and all-reduced"
    },
    {
      "source": ["model.layers.{i}"],
      "target": ["model.layers.{i}"],
      "reasoning": "the decoder layer: four norms, attention, MLP and both residual adds"
    },
    {
      "source": ["model.norm"],
      "target": ["model.norm"],
      "reasoning": "Gemma3RMSNorm -> CustomRMSNorm with the (1 + w) weight on the last hidden state"
    },
    {
      "source": ["lm_head"],
      "target": ["lm_head"],
      "reasoning": "Linear -> ColumnParallelLinear over the vocabulary (the tied embedding table), logits gathered from the ranks; the final soft-cap, when the config has one, is the model's, after it"
    }
  ]
}
)json";

}  // namespace

std::string_view GemmaFamily::BuiltinPortMappingJson() const {
  return Gemma3() ? kGemma3Mapping : kGemma2Mapping;
}

}  // namespace equiv
