"""The components of a llama-family causal LM, by HuggingFace module path.

The names are the component kinds of equiv's llama family table
(libequiv/families/llama/llama_components.cc), which `equiv inputs` names its folders by; the
patterns are the HF module paths of LlamaForCausalLM (also Mistral, Qwen2; not Qwen3's q_norm
and k_norm). `component_of` maps a module path to its kind and layer.
"""

import re

# (kind, HF path pattern, what it takes): "ids", "hidden", or "hidden+positions".
COMPONENTS = (
    ("embedding", r"model\.embed_tokens", "ids"),
    ("input_layernorm", r"model\.layers\.(\d+)\.input_layernorm", "hidden"),
    ("qkv_proj", r"model\.layers\.(\d+)\.self_attn\.[qkv]_proj", "hidden"),
    ("rotary", r"model\.(?:layers\.(\d+)\.self_attn\.)?rotary_emb", "hidden+positions"),
    ("attention", r"model\.layers\.(\d+)\.self_attn", "hidden+positions"),
    ("post_attention_layernorm", r"model\.layers\.(\d+)\.post_attention_layernorm", "hidden"),
    ("mlp", r"model\.layers\.(\d+)\.mlp", "hidden"),
    ("decoder_layer", r"model\.layers\.(\d+)", "hidden+positions"),
    ("final_norm", r"model\.norm", "hidden"),
    ("lm_head", r"lm_head", "hidden"),
    ("causal_lm", r"", "ids"),
)


def component_of(path):
    """(kind, layer or None, takes) of an HF module path; ValueError for an unknown path."""
    for kind, pattern, takes in COMPONENTS:
        m = re.fullmatch(pattern, path)
        if m:
            layer = next((int(g) for g in m.groups() if g is not None), None)
            return kind, layer, takes
    known = ", ".join(p.replace("(\\d+)", "N").replace("\\.", ".") or "'' (the model)"
                      for _, p, _ in COMPONENTS)
    raise ValueError(f"module path {path!r} is no llama-family component ({known}); "
                     f"pass components={{path: kind}} for another architecture")
