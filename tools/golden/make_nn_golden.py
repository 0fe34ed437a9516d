#!/usr/bin/python3
"""Writes tests/data/nn/<case>.safetensors: golden runs of the llama-family reference
components (libequiv/nn) made by PyTorch, checked by tests/libequiv/nn/golden_test.cc.

Run with Debian's interpreter (python3-torch; `transformers` and `safetensors` are not needed):
    /usr/bin/python3 tools/golden/make_nn_golden.py [--output-dir DIR] [--torch-kernels]

The modules below transcribe the HuggingFace modeling code operation by operation, in plain
PyTorch, as transformers 4.48-4.5x has it (src/transformers/models/llama/modeling_llama.py,
models/mistral/modeling_mistral.py, models/qwen2/modeling_qwen2.py, models/qwen3/
modeling_qwen3.py (from 4.51), models/mixtral/modeling_mixtral.py, models/qwen2_moe/
modeling_qwen2_moe.py and models/qwen3_moe/modeling_qwen3_moe.py (4.5x, before the fused
experts of 5.0), models/gpt_oss/modeling_gpt_oss.py (4.55-4.5x, GptOssMLP in eval mode),
modeling_rope_utils.py, activations.py): each function names
the HF function it follows. The eager attention path is used, with the additive causal mask HF
builds for it. Every case runs twice on the same fp32 weights and inputs: in float32, and in
bfloat16 with the weights and inputs `.to(bfloat16)`, as `from_pretrained(torch_dtype=
torch.bfloat16)` loads them. Only parameters are cast: the rotary `inv_freq` buffer stays
float32, as HF computes it at init (`model.to(bfloat16)` would round it too, which HF's own
loading does not do).

bf16 kernels. This transformers code requires PyTorch >= 2. The installed Debian PyTorch is
1.13, whose bf16 CPU kernels for silu and gelu(tanh) round every intermediate to bf16
(Vectorized<BFloat16> arithmetic), and whose `bf16 tensor * python float` rounds the scalar
to bf16 first. PyTorch 2.x computes these in float32 and rounds once (aten/src/ATen/native/cpu/
Activation.cpp silu_kernel and GeluKernelImpl for reduced floating types, BinaryOpsKernel.cpp
mul_kernel's "mul_cpu_reduced_float" path with original_scalar_value). So by default those
three ops run as PyTorch 2.x runs them: `op(x.float()).to(bfloat16)`, bit for bit the 2.x
kernel's formula. `--torch-kernels` uses the installed kernels instead (to measure the
difference; do not commit that output). Every other op runs on the installed PyTorch, whose
bf16 matmul, addmm, elementwise and softmax(dtype=float32) results agree with "compute in
float32, round once" (checked when this script was written).

Each file holds (names relative to the module, as in its HF state_dict):
  __metadata__: {"config": config.json text, "case": name, "generator": this script, "torch"}
  inputs (F32 / I64): `x` hidden states [12, hidden] (normal, three outlier channels x20;
    scaled to unit RMS per row for attention and MLP, which read RMSNorm outputs in a model)
    or the activation input [12, 160];
    `ids` I64 [12]; `positions` I64 [12]; for rotary and the qwen3 q/k norms
    `q` [12, heads * head_dim] and `k` [12, kv_heads * head_dim] (rows are positions, as the
    C++ Matrix holds them); `inv_freq` F32 [head_dim / 2] for the rotary cases that keep HF's
    buffer (compared bit for bit);
  weights (F32): `weight`, `bias`, `q_proj.weight`, `mlp.down_proj.weight`, ...; the causal LM
    uses full HF names (`model.embed_tokens.weight`, ..., `lm_head.weight` absent when tied);
  outputs: `out.fp32` (F32) and `out.bf16` (BF16); rotary cases `q_out.*`, `k_out.*`,
    `cos.*`, `sin.*` ([12, head_dim]); the q/k norm case `q_out.*`, `k_out.*`; the Mixtral,
    Qwen2-MoE and Qwen3-MoE MoE blocks `out.*`, `router_logits.*` ([12, experts]), `routing_weights.*` ([12, top_k]) and
    `selected_experts.fp32` / `.bf16` (I64 [12, top_k], torch.topk's order).
Layout as the reference safetensors writer makes it (see make_safetensors_golden.py).
"""

import argparse
import copy
import json
import math
import pathlib
import struct
import sys
import zlib

import torch
import torch.nn.functional as F
from torch import nn

SEQ = 12
GENERATOR = "tools/golden/make_nn_golden.py"
# Set by --torch-kernels: run every op on the installed PyTorch's own bf16 kernels.
TORCH_KERNELS = False

BASE_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 160,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 96,
    "max_position_embeddings": 128,
    "rms_norm_eps": 1e-05,
    "rope_theta": 10000.0,
    "hidden_act": "silu",
    "attention_bias": False,
    "mlp_bias": False,
    "tie_word_embeddings": False,
    "torch_dtype": "float32",
}

# configs/tiny-qwen3.json, copied so that editing that file does not move these goldens.
TINY_QWEN3 = {
    "architectures": ["Qwen3ForCausalLM"],
    "model_type": "qwen3",
    "hidden_size": 128,
    "intermediate_size": 320,
    "num_hidden_layers": 2,
    "num_attention_heads": 8,
    "num_key_value_heads": 2,
    "head_dim": 32,
    "vocab_size": 256,
    "max_position_embeddings": 256,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    "rope_scaling": None,
    "hidden_act": "silu",
    "attention_bias": False,
    "use_sliding_window": False,
    "sliding_window": None,
    "max_window_layers": 2,
    "tie_word_embeddings": False,
    "torch_dtype": "float32",
}

# configs/tiny-gemma2.json's shapes, copied likewise. The cases shrink its window to 5 < SEQ, and
# keep a final soft-cap of 15: their embeddings are N(0, 1) (logits about 10), which 15 bends
# as the shipped cap of 5 bends the unit-scale logits of the family's seeded weights.
TINY_GEMMA2 = {
    "architectures": ["Gemma2ForCausalLM"],
    "model_type": "gemma2",
    "hidden_size": 112,
    "intermediate_size": 320,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 32,
    "query_pre_attn_scalar": 24,
    "vocab_size": 256,
    "max_position_embeddings": 256,
    "rms_norm_eps": 1e-06,
    "rope_theta": 10000.0,
    "hidden_act": "gelu_pytorch_tanh",
    "hidden_activation": "gelu_pytorch_tanh",
    "attention_bias": False,
    "sliding_window": 16,
    "attn_logit_softcapping": 4.0,
    "final_logit_softcapping": 15.0,
    "tie_word_embeddings": True,
    "torch_dtype": "float32",
}


# configs/tiny-mixtral.json, copied so that editing that file does not move these goldens.
TINY_MIXTRAL = {
    "architectures": ["MixtralForCausalLM"],
    "model_type": "mixtral",
    "hidden_size": 128,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "num_local_experts": 4,
    "num_experts_per_tok": 2,
    "vocab_size": 256,
    "max_position_embeddings": 256,
    "rms_norm_eps": 1e-05,
    "rope_theta": 1000000.0,
    "hidden_act": "silu",
    "sliding_window": None,
    "tie_word_embeddings": False,
    "torch_dtype": "float32",
}


# configs/tiny-qwen2-moe.json, copied so that editing that file does not move these goldens.
TINY_QWEN2_MOE = {
    "architectures": ["Qwen2MoeForCausalLM"],
    "model_type": "qwen2_moe",
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "num_experts": 4,
    "num_experts_per_tok": 2,
    "moe_intermediate_size": 64,
    "shared_expert_intermediate_size": 128,
    "norm_topk_prob": False,
    "decoder_sparse_step": 1,
    "mlp_only_layers": [],
    "vocab_size": 256,
    "max_position_embeddings": 256,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    "hidden_act": "silu",
    "use_sliding_window": False,
    "sliding_window": None,
    "max_window_layers": 2,
    "tie_word_embeddings": False,
    "router_aux_loss_coef": 0.001,
    "output_router_logits": False,
    "torch_dtype": "float32",
}


# configs/tiny-qwen3-moe.json with top 2 (the shipped file routes top 1 since the teacher-forced
# routing_ties rule), copied so that editing that file does not move these goldens.
TINY_QWEN3_MOE = {
    "architectures": ["Qwen3MoeForCausalLM"],
    "model_type": "qwen3_moe",
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 8,
    "num_key_value_heads": 2,
    "head_dim": 32,
    "num_experts": 4,
    "num_experts_per_tok": 2,
    "moe_intermediate_size": 64,
    "norm_topk_prob": True,
    "decoder_sparse_step": 1,
    "mlp_only_layers": [],
    "vocab_size": 256,
    "max_position_embeddings": 256,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    "rope_scaling": None,
    "hidden_act": "silu",
    "attention_bias": False,
    "use_sliding_window": False,
    "sliding_window": None,
    "max_window_layers": 2,
    "tie_word_embeddings": False,
    "router_aux_loss_coef": 0.001,
    "output_router_logits": False,
    "torch_dtype": "float32",
}


# configs/tiny-gpt-oss.json as it was when these goldens were made (hidden 128; the shipped
# file now has 96, which keeps the detection matrix's clean runs clear of near-tied routing),
# copied so that editing that file does not move them: YaRN (factor 32, no truncation), sinks,
# alternating sliding/full layers, 4 experts top 2, swiglu_limit 1 so that the clamp bites at
# these scales. The cases shrink its window to 5 < SEQ.
TINY_GPT_OSS = {
    "architectures": ["GptOssForCausalLM"],
    "model_type": "gpt_oss",
    "hidden_size": 128,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 64,
    "num_local_experts": 4,
    "num_experts_per_tok": 2,
    "vocab_size": 256,
    "max_position_embeddings": 4096,
    "rms_norm_eps": 1e-05,
    "rope_theta": 150000.0,
    "rope_scaling": {"rope_type": "yarn", "factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0,
                     "truncate": False, "original_max_position_embeddings": 128},
    "hidden_act": "silu",
    "attention_bias": True,
    "sliding_window": 8,
    "layer_types": ["sliding_attention", "full_attention"],
    "swiglu_limit": 1.0,
    "tie_word_embeddings": False,
    "router_aux_loss_coef": 0.9,
    "output_router_logits": False,
    "torch_dtype": "float32",
}


# ---- PyTorch 2.x bf16 kernels where 1.13 differs (see the docstring) ----

def _float_once(op, x):
    if TORCH_KERNELS or x.dtype == torch.float32:
        return op(x)
    return op(x.float()).to(x.dtype)


def silu(x):  # nn.SiLU; torch 2.x silu_kernel: float(x) / (1 + exp(-float(x))), one rounding
    return _float_once(F.silu, x)


def gelu_tanh(x):  # torch 2.x GeluKernelImpl, GeluType::Tanh, reduced types: float inside
    return _float_once(lambda t: F.gelu(t, approximate="tanh"), x)


def mul_scalar(x, scalar):  # torch 2.x mul_kernel: bf16 * float(original scalar), one rounding
    return _float_once(lambda t: t * scalar, x)


def div_scalar(x, scalar):  # torch 2.x div_true_kernel: float(bf16) / float(original scalar)
    return _float_once(lambda t: t / scalar, x)


def tanh(x):  # unary ops on reduced types compute in float and round once
    return _float_once(torch.tanh, x)


def sigmoid(x):  # F.sigmoid; torch 2.x sigmoid_kernel, reduced types: float inside, one rounding
    return _float_once(torch.sigmoid, x)


def softmax_same_dtype(x, dim):  # F.softmax(x, dim, dtype=x.dtype): torch 2.x float inside
    return _float_once(lambda t: F.softmax(t, dim=dim), x)


def sum_dim0(x):  # Tensor.sum(dim=0); torch 2.x reduces reduced types in float, rounds once
    return _float_once(lambda t: t.sum(dim=0), x)

# activations.py ACT2FN: "silu" -> nn.SiLU, "gelu" -> GELUActivation (erf),
# "gelu_pytorch_tanh" -> PytorchGELUTanh (gelu(approximate="tanh")).
ACT2FN = {"silu": silu, "gelu": F.gelu, "gelu_pytorch_tanh": gelu_tanh}


# ---- configuration_{llama,mistral,qwen2,qwen3}.py: the attributes the modeling code reads ----

class Config:
    def __init__(self, d):
        self.model_type = d["model_type"]
        self.hidden_size = d["hidden_size"]
        self.intermediate_size = d["intermediate_size"]
        self.num_hidden_layers = d["num_hidden_layers"]
        self.num_attention_heads = d["num_attention_heads"]
        self.num_key_value_heads = d.get("num_key_value_heads") or self.num_attention_heads
        self.head_dim = d.get("head_dim") or self.hidden_size // self.num_attention_heads
        self.vocab_size = d["vocab_size"]
        self.max_position_embeddings = d["max_position_embeddings"]
        self.rms_norm_eps = d.get("rms_norm_eps", 1e-6)
        self.rope_theta = d.get("rope_theta", 10000.0)
        self.rope_scaling = d.get("rope_scaling")
        self.hidden_act = d.get("hidden_act", "silu")
        self.tie_word_embeddings = d.get("tie_word_embeddings", False)
        # LlamaAttention (and Qwen3Attention, its subclass): bias=config.attention_bias on q,
        # k, v and o; MistralAttention: none; Qwen2Attention: q, k, v bias=True, o_proj
        # bias=False. Only LlamaMLP reads mlp_bias (Qwen3MLP is GemmaMLP: no bias).
        # Qwen3MoeAttention: as Qwen3Attention; Qwen2MoeAttention: bias=config.qkv_bias (True)
        # on q, k, v, none on o.
        own_bias = self.model_type in ("llama", "qwen3", "qwen3_moe")
        self.qkv_bias = (d.get("attention_bias", False) if own_bias
                         else d.get("qkv_bias", True) if self.model_type == "qwen2_moe"
                         else self.model_type == "qwen2")
        self.o_bias = d.get("attention_bias", False) if own_bias else False
        self.mlp_bias = d.get("mlp_bias", False) if self.model_type == "llama" else False
        # Qwen3Attention: q_norm and k_norm, Qwen3RMSNorm(head_dim, eps=rms_norm_eps).
        self.qk_norm = self.model_type in ("qwen3", "qwen3_moe")
        self.qwen = self.model_type in ("qwen2", "qwen3")
        if self.model_type == "mistral":
            self.sliding_window = d.get("sliding_window", 4096)
        elif self.qwen and d.get("use_sliding_window", False):
            self.sliding_window = d.get("sliding_window", 4096)
        else:
            self.sliding_window = None
        self.max_window_layers = d.get("max_window_layers", 28)
        # MixtralConfig: sliding_window None unless given; num_local_experts, num_experts_per_tok.
        if self.model_type == "mixtral":
            self.sliding_window = d.get("sliding_window")
            self.num_local_experts = d.get("num_local_experts", 8)
            self.num_experts_per_tok = d.get("num_experts_per_tok", 2)
        # Qwen2MoeConfig, Qwen3MoeConfig (the tiny configs give every field; no dense layers).
        if self.model_type in ("qwen2_moe", "qwen3_moe"):
            self.num_experts = d["num_experts"]
            self.num_experts_per_tok = d["num_experts_per_tok"]
            self.moe_intermediate_size = d["moe_intermediate_size"]
            self.shared_expert_intermediate_size = d.get("shared_expert_intermediate_size", 0)
            self.norm_topk_prob = d.get("norm_topk_prob", False)

    def sliding_window_of_layer(self, layer_idx):
        # Mistral: every layer; Qwen2, Qwen3: layers >= max_window_layers (their layer_types).
        if self.qwen and layer_idx < self.max_window_layers:
            return None
        return self.sliding_window


# ---- modeling_rope_utils.py ----

def _compute_default_rope_parameters(config, device=None, seq_len=None):
    base = config.rope_theta
    dim = config.head_dim  # partial_rotary_factor 1
    attention_factor = 1.0
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    return inv_freq, attention_factor


def _compute_linear_scaling_rope_parameters(config, device=None, seq_len=None):
    factor = config.rope_scaling["factor"]
    inv_freq, attention_factor = _compute_default_rope_parameters(config, device, seq_len)
    inv_freq /= factor  # scaling the frequencies, not the positions (the current HF form)
    return inv_freq, attention_factor


def _compute_dynamic_ntk_parameters(config, device=None, seq_len=None):
    base = config.rope_theta
    dim = config.head_dim
    max_position_embeddings = config.max_position_embeddings
    factor = config.rope_scaling["factor"]
    attention_factor = 1.0
    # seq_len is a 0-dim int64 tensor at run time (torch.max(position_ids) + 1), so the base
    # below is float32 tensor arithmetic, as in HF.
    seq_len = seq_len if seq_len is not None and seq_len > max_position_embeddings \
        else max_position_embeddings
    base = base * ((factor * seq_len / max_position_embeddings) - (factor - 1)) ** (dim / (dim - 2))
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    return inv_freq, attention_factor


def _compute_yarn_parameters(config, device=None, seq_len=None):
    base = config.rope_theta
    dim = config.head_dim
    factor = config.rope_scaling["factor"]
    attention_factor = config.rope_scaling.get("attention_factor")
    mscale = config.rope_scaling.get("mscale")
    mscale_all_dim = config.rope_scaling.get("mscale_all_dim")
    original_max_position_embeddings = (
        config.rope_scaling.get("original_max_position_embeddings")
        or config.max_position_embeddings)

    def get_mscale(scale, mscale=1):
        if scale <= 1:
            return 1.0
        return 0.1 * mscale * math.log(scale) + 1.0

    if attention_factor is None:
        if mscale and mscale_all_dim:
            attention_factor = float(
                get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim))
        else:
            attention_factor = get_mscale(factor)

    beta_fast = config.rope_scaling.get("beta_fast") or 32
    beta_slow = config.rope_scaling.get("beta_slow") or 1

    def find_correction_dim(num_rotations, dim, base, max_position_embeddings):
        return (dim * math.log(max_position_embeddings / (num_rotations * 2 * math.pi))) / (
            2 * math.log(base))

    def find_correction_range(low_rot, high_rot, dim, base, max_position_embeddings, truncate):
        low = find_correction_dim(low_rot, dim, base, max_position_embeddings)
        high = find_correction_dim(high_rot, dim, base, max_position_embeddings)
        if truncate:
            low = math.floor(low)
            high = math.ceil(high)
        return max(low, 0), min(high, dim - 1)

    def linear_ramp_factor(min, max, dim):
        if min == max:
            max += 0.001  # Prevent singularity
        linear_func = (torch.arange(dim, dtype=torch.float32) - min) / (max - min)
        return torch.clamp(linear_func, 0, 1)

    pos_freqs = base ** (torch.arange(0, dim, 2).to(dtype=torch.float) / dim)
    inv_freq_extrapolation = 1.0 / pos_freqs
    inv_freq_interpolation = 1.0 / (factor * pos_freqs)
    truncate = config.rope_scaling.get("truncate", True)
    low, high = find_correction_range(beta_fast, beta_slow, dim, base,
                                      original_max_position_embeddings, truncate)
    inv_freq_extrapolation_factor = (
        1 - linear_ramp_factor(low, high, dim // 2).to(dtype=torch.float))
    inv_freq = (inv_freq_interpolation * (1 - inv_freq_extrapolation_factor)
                + inv_freq_extrapolation * inv_freq_extrapolation_factor)
    return inv_freq, attention_factor


def _compute_llama3_parameters(config, device=None, seq_len=None):
    inv_freq, attention_factor = _compute_default_rope_parameters(config, device, seq_len)
    factor = config.rope_scaling["factor"]
    low_freq_factor = config.rope_scaling["low_freq_factor"]
    high_freq_factor = config.rope_scaling["high_freq_factor"]
    old_context_len = config.rope_scaling["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = ((old_context_len / wavelen - low_freq_factor)
                     / (high_freq_factor - low_freq_factor))
    smoothed_inv_freq = ((1 - smooth_factor) * inv_freq_llama / factor
                         + smooth_factor * inv_freq_llama)
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    inv_freq_llama = torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)
    return inv_freq_llama, attention_factor


ROPE_INIT_FUNCTIONS = {
    "default": _compute_default_rope_parameters,
    "linear": _compute_linear_scaling_rope_parameters,
    "dynamic": _compute_dynamic_ntk_parameters,
    "yarn": _compute_yarn_parameters,
    "llama3": _compute_llama3_parameters,
}


# ---- modeling_llama.py ----

class LlamaRMSNorm(nn.Module):
    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states.to(input_dtype)


class LlamaRotaryEmbedding(nn.Module):
    """__init__, forward and the dynamic_rope_update decorator's dynamic_frequency_update."""

    def __init__(self, config):
        super().__init__()
        if config.rope_scaling is not None:
            self.rope_type = config.rope_scaling.get("rope_type", config.rope_scaling.get("type"))
        else:
            self.rope_type = "default"
        self.max_seq_len_cached = config.max_position_embeddings
        self.original_max_seq_len = config.max_position_embeddings
        self.config = config
        self.rope_init_fn = ROPE_INIT_FUNCTIONS[self.rope_type]
        inv_freq, self.attention_scaling = self.rope_init_fn(self.config)
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.original_inv_freq = self.inv_freq

    def _dynamic_frequency_update(self, position_ids):
        seq_len = torch.max(position_ids) + 1
        if seq_len > self.max_seq_len_cached:  # growth
            inv_freq, self.attention_scaling = self.rope_init_fn(self.config, seq_len=seq_len)
            self.register_buffer("inv_freq", inv_freq, persistent=False)
            self.max_seq_len_cached = seq_len
        if (seq_len < self.original_max_seq_len
                and self.max_seq_len_cached > self.original_max_seq_len):  # reset
            self.register_buffer("inv_freq", self.original_inv_freq, persistent=False)
            self.max_seq_len_cached = self.original_max_seq_len

    @torch.no_grad()
    def forward(self, x, position_ids):
        if "dynamic" in self.rope_type:
            self._dynamic_frequency_update(position_ids)
        inv_freq_expanded = self.inv_freq[None, :, None].float().expand(
            position_ids.shape[0], -1, 1)
        position_ids_expanded = position_ids[:, None, :].float()
        freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = emb.cos() * self.attention_scaling
        sin = emb.sin() * self.attention_scaling
        return cos.to(dtype=x.dtype), sin.to(dtype=x.dtype)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    q_embed = (q * cos) + (rotate_half(q) * sin)
    k_embed = (k * cos) + (rotate_half(k) * sin)
    return q_embed, k_embed


class LlamaMLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        hidden, inter, bias = config.hidden_size, config.intermediate_size, config.mlp_bias
        self.gate_proj = nn.Linear(hidden, inter, bias=bias)
        self.up_proj = nn.Linear(hidden, inter, bias=bias)
        self.down_proj = nn.Linear(inter, hidden, bias=bias)
        self.act_fn = ACT2FN[config.hidden_act]

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


# ---- modeling_mixtral.py ----

class MixtralBlockSparseTop2MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ffn_dim = config.intermediate_size
        self.hidden_dim = config.hidden_size
        self.w1 = nn.Linear(self.hidden_dim, self.ffn_dim, bias=False)
        self.w2 = nn.Linear(self.ffn_dim, self.hidden_dim, bias=False)
        self.w3 = nn.Linear(self.hidden_dim, self.ffn_dim, bias=False)
        self.act_fn = ACT2FN[config.hidden_act]

    def forward(self, hidden_states):
        current_hidden_states = self.act_fn(self.w1(hidden_states)) * self.w3(hidden_states)
        return self.w2(current_hidden_states)


class MixtralSparseMoeBlock(nn.Module):
    """forward also returns what the golden records: routing weights and selected experts."""

    def __init__(self, config):
        super().__init__()
        self.hidden_dim = config.hidden_size
        self.num_experts = config.num_local_experts
        self.top_k = config.num_experts_per_tok
        self.gate = nn.Linear(self.hidden_dim, self.num_experts, bias=False)
        self.experts = nn.ModuleList(
            [MixtralBlockSparseTop2MLP(config) for _ in range(self.num_experts)])

    def route(self, hidden_states):
        batch_size, sequence_length, hidden_dim = hidden_states.shape
        hidden_states = hidden_states.view(-1, hidden_dim)
        router_logits = self.gate(hidden_states)
        routing_weights = F.softmax(router_logits, dim=1, dtype=torch.float)
        routing_weights, selected_experts = torch.topk(routing_weights, self.top_k, dim=-1)
        routing_weights /= routing_weights.sum(dim=-1, keepdim=True)
        # we cast back to the input dtype
        routing_weights = routing_weights.to(hidden_states.dtype)
        return router_logits, routing_weights, selected_experts

    def forward(self, hidden_states):
        batch_size, sequence_length, hidden_dim = hidden_states.shape
        router_logits, routing_weights, selected_experts = self.route(hidden_states)
        hidden_states = hidden_states.view(-1, hidden_dim)
        final_hidden_states = torch.zeros((batch_size * sequence_length, hidden_dim),
                                          dtype=hidden_states.dtype)
        expert_mask = torch.nn.functional.one_hot(
            selected_experts, num_classes=self.num_experts).permute(2, 1, 0)
        expert_hit = torch.greater(expert_mask.sum(dim=(-1, -2)), 0).nonzero()
        for expert_idx in expert_hit:
            expert_layer = self.experts[expert_idx]
            idx, top_x = torch.where(expert_mask[expert_idx].squeeze(0))
            current_state = hidden_states[None, top_x].reshape(-1, hidden_dim)
            current_hidden_states = expert_layer(current_state) * routing_weights[top_x, idx, None]
            final_hidden_states.index_add_(0, top_x, current_hidden_states.to(hidden_states.dtype))
        final_hidden_states = final_hidden_states.reshape(batch_size, sequence_length, hidden_dim)
        return final_hidden_states, router_logits


# ---- modeling_qwen2_moe.py, modeling_qwen3_moe.py (4.5x, experts as a ModuleList) ----

class Qwen2MoeMLP(nn.Module):
    """Also Qwen3MoeMLP: no bias, intermediate_size given."""

    def __init__(self, config, intermediate_size):
        super().__init__()
        self.gate_proj = nn.Linear(config.hidden_size, intermediate_size, bias=False)
        self.up_proj = nn.Linear(config.hidden_size, intermediate_size, bias=False)
        self.down_proj = nn.Linear(intermediate_size, config.hidden_size, bias=False)
        self.act_fn = ACT2FN[config.hidden_act]

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class Qwen2MoeSparseMoeBlock(nn.Module):
    """Also Qwen3MoeSparseMoeBlock, which has no shared expert. forward also returns what the
    golden records, as MixtralSparseMoeBlock's."""

    def __init__(self, config):
        super().__init__()
        self.num_experts = config.num_experts
        self.top_k = config.num_experts_per_tok
        self.norm_topk_prob = config.norm_topk_prob
        self.gate = nn.Linear(config.hidden_size, config.num_experts, bias=False)
        self.experts = nn.ModuleList(
            [Qwen2MoeMLP(config, config.moe_intermediate_size) for _ in range(self.num_experts)])
        self.has_shared = config.shared_expert_intermediate_size > 0
        if self.has_shared:
            self.shared_expert = Qwen2MoeMLP(config, config.shared_expert_intermediate_size)
            self.shared_expert_gate = torch.nn.Linear(config.hidden_size, 1, bias=False)

    def route(self, hidden_states):
        batch_size, sequence_length, hidden_dim = hidden_states.shape
        hidden_states = hidden_states.view(-1, hidden_dim)
        router_logits = self.gate(hidden_states)
        routing_weights = F.softmax(router_logits, dim=1, dtype=torch.float)
        routing_weights, selected_experts = torch.topk(routing_weights, self.top_k, dim=-1)
        if self.norm_topk_prob:
            routing_weights /= routing_weights.sum(dim=-1, keepdim=True)
        # we cast back to the input dtype
        routing_weights = routing_weights.to(hidden_states.dtype)
        return router_logits, routing_weights, selected_experts

    def forward(self, hidden_states):
        batch_size, sequence_length, hidden_dim = hidden_states.shape
        router_logits, routing_weights, selected_experts = self.route(hidden_states)
        hidden_states = hidden_states.view(-1, hidden_dim)
        final_hidden_states = torch.zeros((batch_size * sequence_length, hidden_dim),
                                          dtype=hidden_states.dtype)
        expert_mask = torch.nn.functional.one_hot(
            selected_experts, num_classes=self.num_experts).permute(2, 1, 0)
        expert_hitted = (expert_mask.sum(dim=(-1, -2)) > 0).nonzero(as_tuple=True)[0].tolist()
        for expert_idx in expert_hitted:
            expert_layer = self.experts[expert_idx]
            idx, top_x = torch.where(expert_mask[expert_idx])
            current_state = hidden_states[None, top_x].reshape(-1, hidden_dim)
            current_hidden_states = expert_layer(current_state) * routing_weights[top_x, idx, None]
            final_hidden_states.index_add_(0, top_x, current_hidden_states.to(hidden_states.dtype))
        if self.has_shared:
            shared_expert_output = self.shared_expert(hidden_states)
            shared_expert_output = sigmoid(self.shared_expert_gate(hidden_states)) * shared_expert_output
            final_hidden_states = final_hidden_states + shared_expert_output
        final_hidden_states = final_hidden_states.reshape(batch_size, sequence_length, hidden_dim)
        return final_hidden_states, router_logits


def repeat_kv(hidden_states, n_rep):
    batch, num_key_value_heads, slen, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(
        batch, num_key_value_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)


def eager_attention_forward(module, query, key, value, attention_mask, scaling):
    key_states = repeat_kv(key, module.num_key_value_groups)
    value_states = repeat_kv(value, module.num_key_value_groups)
    attn_weights = mul_scalar(torch.matmul(query, key_states.transpose(2, 3)), scaling)
    if attention_mask is not None:
        causal_mask = attention_mask[:, :, :, : key_states.shape[-2]]
        attn_weights = attn_weights + causal_mask
    attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query.dtype)
    attn_output = torch.matmul(attn_weights, value_states)
    attn_output = attn_output.transpose(1, 2).contiguous()
    return attn_output, attn_weights


class LlamaAttention(nn.Module):
    """Also MistralAttention and Qwen2Attention, which differ only in the biases (Config), and
    Qwen3Attention (modeling_qwen3.py), a LlamaAttention subclass with q_norm and k_norm."""

    def __init__(self, config, layer_idx):
        super().__init__()
        self.head_dim = config.head_dim
        self.num_key_value_groups = config.num_attention_heads // config.num_key_value_heads
        self.scaling = self.head_dim ** -0.5
        self.q_proj = nn.Linear(config.hidden_size, config.num_attention_heads * self.head_dim,
                                bias=config.qkv_bias)
        self.k_proj = nn.Linear(config.hidden_size, config.num_key_value_heads * self.head_dim,
                                bias=config.qkv_bias)
        self.v_proj = nn.Linear(config.hidden_size, config.num_key_value_heads * self.head_dim,
                                bias=config.qkv_bias)
        self.o_proj = nn.Linear(config.num_attention_heads * self.head_dim, config.hidden_size,
                                bias=config.o_bias)
        self.qk_norm = config.qk_norm
        if self.qk_norm:  # Qwen3RMSNorm is LlamaRMSNorm; "only on the head dim"
            self.q_norm = LlamaRMSNorm(self.head_dim, eps=config.rms_norm_eps)
            self.k_norm = LlamaRMSNorm(self.head_dim, eps=config.rms_norm_eps)

    def forward(self, hidden_states, position_embeddings, attention_mask):
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape)
        key_states = self.k_proj(hidden_states).view(hidden_shape)
        if self.qk_norm:  # Qwen3Attention.forward: on [.., heads, head_dim], before rotary
            query_states = self.q_norm(query_states)
            key_states = self.k_norm(key_states)
        query_states = query_states.transpose(1, 2)
        key_states = key_states.transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        attn_output, _ = eager_attention_forward(self, query_states, key_states, value_states,
                                                 attention_mask, scaling=self.scaling)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.o_proj(attn_output)


class LlamaDecoderLayer(nn.Module):
    def __init__(self, config, layer_idx):
        super().__init__()
        self.self_attn = LlamaAttention(config, layer_idx)
        # MixtralDecoderLayer: block_sparse_moe in place of the MLP, its first output used.
        if config.model_type == "mixtral":
            self.block_sparse_moe = MixtralSparseMoeBlock(config)
            self.mlp = lambda h: self.block_sparse_moe(h)[0]
        elif config.model_type in ("qwen2_moe", "qwen3_moe"):  # Qwen*MoeDecoderLayer
            self.mlp = Qwen2MoeSparseMoeBlock(config)
        else:
            self.mlp = LlamaMLP(config)
        self.input_layernorm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_attention_layernorm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)

    def forward(self, hidden_states, attention_mask, position_embeddings):
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states = self.self_attn(hidden_states, position_embeddings, attention_mask)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        if isinstance(hidden_states, tuple):  # the Qwen MoE blocks also return router logits
            hidden_states, router_logits = hidden_states
        return residual + hidden_states


def causal_mask_of(config, layer_idx, sequence_length, dtype, cache_position):
    """MistralModel._prepare_4d_causal_attention_mask_with_cache_position (also Llama's and
    Qwen2's), no padding mask, no cache: min_dtype where a key is masked, 0 elsewhere."""
    target_length = sequence_length  # HF makes it one longer; eager slices it to the keys
    min_dtype = torch.finfo(dtype).min
    causal_mask = torch.full((sequence_length, target_length), fill_value=min_dtype, dtype=dtype)
    diagonal_attend_mask = torch.arange(target_length) > cache_position.reshape(-1, 1)
    window = config.sliding_window_of_layer(layer_idx)
    if window is not None:
        sliding_attend_mask = (
            torch.arange(target_length) <= (cache_position.reshape(-1, 1) - window))
        diagonal_attend_mask.bitwise_or_(sliding_attend_mask)
    causal_mask *= diagonal_attend_mask
    return causal_mask[None, None, :, :]


class LlamaModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(
            [LlamaDecoderLayer(config, i) for i in range(config.num_hidden_layers)])
        self.norm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary_emb = LlamaRotaryEmbedding(config)

    def forward(self, input_ids):
        inputs_embeds = self.embed_tokens(input_ids)
        cache_position = torch.arange(0, inputs_embeds.shape[1])
        position_ids = cache_position.unsqueeze(0)
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)
        for layer_idx, decoder_layer in enumerate(self.layers):
            mask = causal_mask_of(self.config, layer_idx, inputs_embeds.shape[1],
                                  inputs_embeds.dtype, cache_position)
            hidden_states = decoder_layer(hidden_states, mask, position_embeddings)
        return self.norm(hidden_states)


class LlamaForCausalLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.model = LlamaModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        if config.tie_word_embeddings:  # PreTrainedModel.tie_weights
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, input_ids):
        return self.lm_head(self.model(input_ids))  # logits_to_keep=0: every position


# configs/tiny-gemma3.json's shapes, copied likewise: a local rotary base (1e4) far from the
# global one (1e6, linear scaling 8), sliding and full layers alternating (pattern 2), per-head
# (1 + w) q/k norms, no soft-caps. The cases shrink its window to 5 < SEQ.
TINY_GEMMA3 = {
    "architectures": ["Gemma3ForCausalLM"],
    "model_type": "gemma3_text",
    "hidden_size": 112,
    "intermediate_size": 320,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 32,
    "query_pre_attn_scalar": 24,
    "vocab_size": 256,
    "max_position_embeddings": 256,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    "rope_local_base_freq": 10000.0,
    "rope_scaling": {"rope_type": "linear", "factor": 8.0},
    "hidden_activation": "gelu_pytorch_tanh",
    "attention_bias": False,
    "sliding_window": 16,
    "sliding_window_pattern": 2,
    "attn_logit_softcapping": None,
    "final_logit_softcapping": None,
    "tie_word_embeddings": True,
    "torch_dtype": "float32",
}

# ---- configuration_gemma2.py, modeling_gemma2.py (transformers 4.5x) ----

class Gemma2Config(Config):
    """Gemma2Config's defaults where config.json leaves a field out."""

    def __init__(self, d):
        super().__init__(d)
        self.head_dim = d.get("head_dim", 256)
        self.hidden_activation = d.get("hidden_activation", "gelu_pytorch_tanh")
        self.query_pre_attn_scalar = d.get("query_pre_attn_scalar", 256)
        self.attn_logit_softcapping = d.get("attn_logit_softcapping", 50.0)
        self.final_logit_softcapping = d.get("final_logit_softcapping", 30.0)
        self.sliding_window = d.get("sliding_window", 4096)
        self.tie_word_embeddings = d.get("tie_word_embeddings", True)
        self.qkv_bias = self.o_bias = d.get("attention_bias", False)
        # Gemma2Config: layer_types default "sliding_attention" if bool((i + 1) % 2) else
        # "full_attention" (older versions: is_sliding = not bool(layer_idx % 2), the same).
        self.layer_types = d.get("layer_types") or [
            "sliding_attention" if (i + 1) % 2 else "full_attention"
            for i in range(self.num_hidden_layers)]

    def sliding_window_of_layer(self, layer_idx):
        return self.sliding_window if self.layer_types[layer_idx] == "sliding_attention" else None


class Gemma2RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(dim))

    def _norm(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def forward(self, x):
        output = self._norm(x.float())
        # Llama does x.to(float16) * w whilst Gemma2 is (x * w).to(float16)
        output = output * (1.0 + self.weight.float())
        return output.type_as(x)


class Gemma2MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        hidden, inter = config.hidden_size, config.intermediate_size
        self.gate_proj = nn.Linear(hidden, inter, bias=False)
        self.up_proj = nn.Linear(hidden, inter, bias=False)
        self.down_proj = nn.Linear(inter, hidden, bias=False)
        self.act_fn = ACT2FN[config.hidden_activation]

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


def gemma2_eager_attention_forward(module, query, key, value, attention_mask, scaling, softcap):
    key_states = repeat_kv(key, module.num_key_value_groups)
    value_states = repeat_kv(value, module.num_key_value_groups)
    attn_weights = mul_scalar(torch.matmul(query, key_states.transpose(2, 3)), scaling)
    if softcap is not None:
        attn_weights = div_scalar(attn_weights, softcap)
        attn_weights = tanh(attn_weights)
        attn_weights = mul_scalar(attn_weights, softcap)
    if attention_mask is not None:
        causal_mask = attention_mask[:, :, :, : key_states.shape[-2]]
        attn_weights = attn_weights + causal_mask
    attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query.dtype)
    attn_output = torch.matmul(attn_weights, value_states)
    return attn_output.transpose(1, 2).contiguous(), attn_weights


class Gemma2Attention(nn.Module):
    def __init__(self, config, layer_idx):
        super().__init__()
        self.head_dim = config.head_dim
        self.num_key_value_groups = config.num_attention_heads // config.num_key_value_heads
        self.scaling = config.query_pre_attn_scalar ** -0.5
        self.attn_logit_softcapping = config.attn_logit_softcapping
        self.sliding_window = config.sliding_window_of_layer(layer_idx)
        self.q_proj = nn.Linear(config.hidden_size, config.num_attention_heads * self.head_dim,
                                bias=config.qkv_bias)
        self.k_proj = nn.Linear(config.hidden_size, config.num_key_value_heads * self.head_dim,
                                bias=config.qkv_bias)
        self.v_proj = nn.Linear(config.hidden_size, config.num_key_value_heads * self.head_dim,
                                bias=config.qkv_bias)
        self.o_proj = nn.Linear(config.num_attention_heads * self.head_dim, config.hidden_size,
                                bias=config.o_bias)

    def forward(self, hidden_states, position_embeddings, attention_mask):
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        attn_output, _ = gemma2_eager_attention_forward(
            self, query_states, key_states, value_states, attention_mask, scaling=self.scaling,
            softcap=self.attn_logit_softcapping)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.o_proj(attn_output)


class Gemma2DecoderLayer(nn.Module):
    def __init__(self, config, layer_idx):
        super().__init__()
        self.self_attn = Gemma2Attention(config, layer_idx)
        self.mlp = Gemma2MLP(config)
        eps = config.rms_norm_eps
        self.input_layernorm = Gemma2RMSNorm(config.hidden_size, eps=eps)
        self.post_attention_layernorm = Gemma2RMSNorm(config.hidden_size, eps=eps)
        self.pre_feedforward_layernorm = Gemma2RMSNorm(config.hidden_size, eps=eps)
        self.post_feedforward_layernorm = Gemma2RMSNorm(config.hidden_size, eps=eps)

    def forward(self, hidden_states, attention_mask, position_embeddings):
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states = self.self_attn(hidden_states, position_embeddings, attention_mask)
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.pre_feedforward_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        hidden_states = self.post_feedforward_layernorm(hidden_states)
        return residual + hidden_states


def gemma2_normalizer(config, dtype):
    """Gemma2Model.forward: torch.tensor(hidden_size**0.5, dtype=hidden_states.dtype)."""
    return torch.tensor(config.hidden_size ** 0.5, dtype=dtype)


class Gemma2Model(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(
            [Gemma2DecoderLayer(config, i) for i in range(config.num_hidden_layers)])
        self.norm = Gemma2RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary_emb = LlamaRotaryEmbedding(config)  # Gemma2RotaryEmbedding: the same

    def forward(self, input_ids):
        inputs_embeds = self.embed_tokens(input_ids)
        cache_position = torch.arange(0, inputs_embeds.shape[1])
        position_ids = cache_position.unsqueeze(0)
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)
        hidden_states = hidden_states * gemma2_normalizer(self.config, hidden_states.dtype)
        for layer_idx, decoder_layer in enumerate(self.layers):
            mask = causal_mask_of(self.config, layer_idx, inputs_embeds.shape[1],
                                  inputs_embeds.dtype, cache_position)
            hidden_states = decoder_layer(hidden_states, mask, position_embeddings)
        return self.norm(hidden_states)


class Gemma2ForCausalLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.model = Gemma2Model(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, input_ids):
        logits = self.lm_head(self.model(input_ids))
        if self.config.final_logit_softcapping is not None:
            logits = div_scalar(logits, self.config.final_logit_softcapping)
            logits = tanh(logits)
            logits = mul_scalar(logits, self.config.final_logit_softcapping)
        return logits


class Gemma2ScaledEmbedding(nn.Module):
    """embed_tokens, then Gemma2Model.forward's normalizer: the scaled embeddings."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)

    def forward(self, input_ids):
        hidden_states = self.embed_tokens(input_ids)
        return hidden_states * gemma2_normalizer(self.config, hidden_states.dtype)

# ---- configuration_gemma3.py, modeling_gemma3.py (transformers 4.50-4.5x, the text model) ----

class Gemma3TextConfig(Gemma2Config):
    """Gemma3TextConfig's defaults where config.json leaves a field out."""

    def __init__(self, d):
        super().__init__(d)
        self.rope_theta = d.get("rope_theta", 1000000.0)
        self.rope_local_base_freq = d.get("rope_local_base_freq", 10000.0)
        # Read, but Gemma3Attention never passes it to the attention function.
        self.attn_logit_softcapping = d.get("attn_logit_softcapping")
        self.final_logit_softcapping = d.get("final_logit_softcapping")
        pattern = d.get("sliding_window_pattern", 6)
        self.layer_types = d.get("layer_types") or [
            "sliding_attention" if (i + 1) % pattern else "full_attention"
            for i in range(self.num_hidden_layers)]

    def local_rope_config(self):
        """Gemma3TextModel.__init__: a deep copy with rope_theta = rope_local_base_freq and
        rope_scaling {"rope_type": "default"}, for rotary_emb_local."""
        local = copy.deepcopy(self)
        local.rope_theta = self.rope_local_base_freq
        local.rope_scaling = {"rope_type": "default"}
        return local


Gemma3RMSNorm = Gemma2RMSNorm  # the same code: float32 inside, * (1 + w), one type_as
Gemma3MLP = Gemma2MLP


class Gemma3Attention(Gemma2Attention):
    """Gemma2Attention with q_norm and k_norm (Gemma3RMSNorm over head_dim) before rotary, and
    no soft-cap passed to the attention function."""

    def __init__(self, config, layer_idx):
        super().__init__(config, layer_idx)
        self.is_sliding = config.layer_types[layer_idx] == "sliding_attention"
        self.q_norm = Gemma3RMSNorm(config.head_dim, eps=config.rms_norm_eps)
        self.k_norm = Gemma3RMSNorm(config.head_dim, eps=config.rms_norm_eps)

    def forward(self, hidden_states, position_embeddings, attention_mask):
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        query_states = self.q_norm(query_states)
        key_states = self.k_norm(key_states)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        attn_output, _ = gemma2_eager_attention_forward(
            self, query_states, key_states, value_states, attention_mask, scaling=self.scaling,
            softcap=None)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.o_proj(attn_output)


class Gemma3DecoderLayer(Gemma2DecoderLayer):
    """Gemma2DecoderLayer's four norms and residuals; forward takes both rotary tables and
    uses the local one on a sliding layer."""

    def __init__(self, config, layer_idx):
        super().__init__(config, layer_idx)
        self.self_attn = Gemma3Attention(config, layer_idx)

    def forward(self, hidden_states, attention_mask, position_embeddings_global,
                position_embeddings_local):
        position_embeddings = (position_embeddings_local if self.self_attn.is_sliding
                               else position_embeddings_global)
        return super().forward(hidden_states, attention_mask, position_embeddings)


class Gemma3TextScaledWordEmbedding(nn.Embedding):
    """nn.Embedding times the float32 buffer hidden_size**0.5 cast to the weight's dtype."""

    def __init__(self, num_embeddings, embedding_dim, embed_scale):
        super().__init__(num_embeddings, embedding_dim)
        self.register_buffer("embed_scale", torch.tensor(embed_scale), persistent=False)

    def forward(self, input_ids):
        return super().forward(input_ids) * self.embed_scale.to(self.weight.dtype)


class Gemma3TextModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed_tokens = Gemma3TextScaledWordEmbedding(
            config.vocab_size, config.hidden_size, embed_scale=config.hidden_size ** 0.5)
        self.layers = nn.ModuleList(
            [Gemma3DecoderLayer(config, i) for i in range(config.num_hidden_layers)])
        self.norm = Gemma3RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary_emb = LlamaRotaryEmbedding(config)  # Gemma3RotaryEmbedding: the same
        self.rotary_emb_local = LlamaRotaryEmbedding(config.local_rope_config())

    def forward(self, input_ids):
        hidden_states = self.embed_tokens(input_ids)
        cache_position = torch.arange(0, hidden_states.shape[1])
        position_ids = cache_position.unsqueeze(0)
        position_embeddings_global = self.rotary_emb(hidden_states, position_ids)
        position_embeddings_local = self.rotary_emb_local(hidden_states, position_ids)
        for layer_idx, decoder_layer in enumerate(self.layers):
            mask = causal_mask_of(self.config, layer_idx, hidden_states.shape[1],
                                  hidden_states.dtype, cache_position)
            hidden_states = decoder_layer(hidden_states, mask, position_embeddings_global,
                                          position_embeddings_local)
        return self.norm(hidden_states)


class Gemma3ForCausalLM(Gemma2ForCausalLM):
    """Gemma2ForCausalLM's head and optional final soft-cap on Gemma3TextModel."""

    def __init__(self, config):
        nn.Module.__init__(self)
        self.config = config
        self.model = Gemma3TextModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight


class Gemma3QkNorms(nn.Module):
    """Gemma3Attention's q_norm and k_norm alone, on q_proj and k_proj outputs viewed as
    [.., heads, head_dim], as its forward applies them."""

    def __init__(self, config):
        super().__init__()
        self.head_dim = config.head_dim
        self.q_norm = Gemma3RMSNorm(self.head_dim, eps=config.rms_norm_eps)
        self.k_norm = Gemma3RMSNorm(self.head_dim, eps=config.rms_norm_eps)

    def forward(self, q, k):
        q_out = self.q_norm(q.view(*q.shape[:-1], -1, self.head_dim))
        k_out = self.k_norm(k.view(*k.shape[:-1], -1, self.head_dim))
        return q_out.reshape(q.shape), k_out.reshape(k.shape)

# ---- modeling_gpt_oss.py, configuration_gpt_oss.py ----

class GptOssConfig:
    """The GptOssConfig attributes the modeling code reads (the tiny config gives every field)."""

    def __init__(self, d):
        self.model_type = "gpt_oss"
        for key in ("hidden_size", "intermediate_size", "num_hidden_layers",
                    "num_attention_heads", "num_key_value_heads", "head_dim", "vocab_size",
                    "max_position_embeddings", "rms_norm_eps", "rope_theta", "rope_scaling",
                    "attention_bias", "sliding_window", "layer_types", "num_local_experts",
                    "num_experts_per_tok", "swiglu_limit", "tie_word_embeddings"):
            setattr(self, key, d[key])

    def sliding_window_of_layer(self, layer_idx):  # GptOssAttention.sliding_window
        if self.layer_types[layer_idx] == "sliding_attention":
            return self.sliding_window
        return None


class GptOssRMSNorm(nn.Module):
    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return (self.weight * hidden_states).to(input_dtype)  # one rounding, unlike Llama's


class GptOssExperts(nn.Module):
    """forward in eval mode: every expert on every token, weighted by the dense scores."""

    def __init__(self, config):
        super().__init__()
        self.num_experts = config.num_local_experts
        self.hidden_size = config.hidden_size
        self.expert_dim = config.intermediate_size
        self.gate_up_proj = nn.Parameter(
            torch.empty(self.num_experts, self.hidden_size, 2 * self.expert_dim))
        self.gate_up_proj_bias = nn.Parameter(torch.empty(self.num_experts, 2 * self.expert_dim))
        self.down_proj = nn.Parameter(
            torch.empty(self.num_experts, self.expert_dim, self.hidden_size))
        self.down_proj_bias = nn.Parameter(torch.empty(self.num_experts, self.hidden_size))
        self.alpha = 1.702
        self.limit = config.swiglu_limit

    def every_expert(self, hidden_states):
        """[experts, tokens, hidden]: each expert's output before the routing weights."""
        hidden_states = hidden_states.reshape(-1, self.hidden_size)
        hidden_states = hidden_states.repeat(self.num_experts, 1)
        hidden_states = hidden_states.view(self.num_experts, -1, self.hidden_size)
        gate_up = torch.bmm(hidden_states, self.gate_up_proj) + self.gate_up_proj_bias[..., None, :]
        gate, up = gate_up[..., ::2], gate_up[..., 1::2]
        gate = gate.clamp(min=None, max=self.limit)
        up = up.clamp(min=-self.limit, max=self.limit)
        glu = gate * sigmoid(mul_scalar(gate, self.alpha))
        next_states = torch.bmm(((up + 1) * glu), self.down_proj)
        return next_states + self.down_proj_bias[..., None, :]

    def forward(self, hidden_states, router_indices=None, routing_weights=None):
        batch_size = hidden_states.shape[0]
        next_states = self.every_expert(hidden_states)
        next_states = next_states.view(self.num_experts, batch_size, -1, self.hidden_size)
        next_states = next_states * routing_weights.transpose(0, 1).view(
            self.num_experts, batch_size, -1)[..., None]
        return sum_dim0(next_states)


class GptOssTopKRouter(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.top_k = config.num_experts_per_tok
        self.num_experts = config.num_local_experts
        self.hidden_dim = config.hidden_size
        self.weight = nn.Parameter(torch.empty(self.num_experts, self.hidden_dim))
        self.bias = nn.Parameter(torch.empty(self.num_experts))

    def route(self, hidden_states):
        """forward's steps, also returning the logits and the top-k values the golden records."""
        hidden_states = hidden_states.reshape(-1, self.hidden_dim)
        router_logits = F.linear(hidden_states, self.weight, self.bias)
        router_top_value, router_indices = torch.topk(router_logits, self.top_k, dim=-1)
        router_top_value = softmax_same_dtype(router_top_value, dim=1)
        router_scores = torch.zeros_like(router_logits).scatter_(1, router_indices,
                                                                 router_top_value)
        return router_scores, router_indices, router_logits, router_top_value

    def forward(self, hidden_states):
        return self.route(hidden_states)[:2]


class GptOssMLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.router = GptOssTopKRouter(config)
        self.experts = GptOssExperts(config)

    def forward(self, hidden_states):
        router_scores, router_indices = self.router(hidden_states)
        routed_out = self.experts(hidden_states, router_indices=router_indices,
                                  routing_weights=router_scores)
        return routed_out, router_scores

    def route(self, hidden_states):  # what case_moe_block records: logits, weights, indices
        _, router_indices, router_logits, router_top_value = self.router.route(hidden_states)
        return router_logits, router_top_value, router_indices


class GptOssRotaryEmbedding(LlamaRotaryEmbedding):
    """forward: emb = freqs, not cat((freqs, freqs)): cos and sin [.., head_dim / 2]."""

    @torch.no_grad()
    def forward(self, x, position_ids):
        cos, sin = super().forward(x, position_ids)
        half = cos.shape[-1] // 2
        return cos[..., :half], sin[..., :half]


def _apply_rotary_emb(x, cos, sin):
    first_half, second_half = torch.chunk(x, 2, dim=-1)
    first_ = first_half * cos - second_half * sin
    second_ = second_half * cos + first_half * sin
    return torch.cat((first_, second_), dim=-1)


def gpt_oss_apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    return _apply_rotary_emb(q, cos, sin), _apply_rotary_emb(k, cos, sin)


def gpt_oss_eager_attention_forward(module, query, key, value, attention_mask, scaling):
    key_states = repeat_kv(key, module.num_key_value_groups)
    value_states = repeat_kv(value, module.num_key_value_groups)
    attn_weights = mul_scalar(torch.matmul(query, key_states.transpose(2, 3)), scaling)
    if attention_mask is not None:
        causal_mask = attention_mask[:, :, :, : key_states.shape[-2]]
        attn_weights = attn_weights + causal_mask
    sinks = module.sinks.reshape(1, -1, 1, 1).expand(query.shape[0], -1, query.shape[-2], -1)
    combined_logits = torch.cat([attn_weights, sinks], dim=-1)
    combined_logits = combined_logits - combined_logits.max(dim=-1, keepdim=True).values
    probs = softmax_same_dtype(combined_logits, dim=-1)
    scores = probs[..., :-1]  # the sink dropped
    attn_output = torch.matmul(scores, value_states)
    return attn_output.transpose(1, 2).contiguous()


class GptOssAttention(nn.Module):
    def __init__(self, config, layer_idx):
        super().__init__()
        self.head_dim = config.head_dim
        self.num_key_value_groups = config.num_attention_heads // config.num_key_value_heads
        self.scaling = self.head_dim ** -0.5
        bias = config.attention_bias
        self.q_proj = nn.Linear(config.hidden_size, config.num_attention_heads * self.head_dim,
                                bias=bias)
        self.k_proj = nn.Linear(config.hidden_size, config.num_key_value_heads * self.head_dim,
                                bias=bias)
        self.v_proj = nn.Linear(config.hidden_size, config.num_key_value_heads * self.head_dim,
                                bias=bias)
        self.o_proj = nn.Linear(config.num_attention_heads * self.head_dim, config.hidden_size,
                                bias=bias)
        self.sinks = nn.Parameter(torch.empty(config.num_attention_heads))

    def forward(self, hidden_states, position_embeddings, attention_mask):
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        cos, sin = position_embeddings
        query_states, key_states = gpt_oss_apply_rotary_pos_emb(query_states, key_states, cos, sin)
        attn_output = gpt_oss_eager_attention_forward(self, query_states, key_states, value_states,
                                                      attention_mask, scaling=self.scaling)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.o_proj(attn_output)


class GptOssDecoderLayer(nn.Module):
    def __init__(self, config, layer_idx):
        super().__init__()
        self.self_attn = GptOssAttention(config, layer_idx)
        self.mlp = GptOssMLP(config)
        self.input_layernorm = GptOssRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_attention_layernorm = GptOssRMSNorm(config.hidden_size, eps=config.rms_norm_eps)

    def forward(self, hidden_states, attention_mask, position_embeddings):
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states = self.self_attn(hidden_states, position_embeddings, attention_mask)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states, _ = self.mlp(hidden_states)
        return residual + hidden_states


class GptOssModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(
            [GptOssDecoderLayer(config, i) for i in range(config.num_hidden_layers)])
        self.norm = GptOssRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary_emb = GptOssRotaryEmbedding(config)

    def forward(self, input_ids):
        inputs_embeds = self.embed_tokens(input_ids)
        cache_position = torch.arange(0, inputs_embeds.shape[1])
        position_ids = cache_position.unsqueeze(0)
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)
        for layer_idx, decoder_layer in enumerate(self.layers):
            mask = causal_mask_of(self.config, layer_idx, inputs_embeds.shape[1],
                                  inputs_embeds.dtype, cache_position)
            hidden_states = decoder_layer(hidden_states, mask, position_embeddings)
        return self.norm(hidden_states)


class GptOssForCausalLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.model = GptOssModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)

    def forward(self, input_ids):
        return self.lm_head(self.model(input_ids))


# ---- seeded data ----

class Rng:
    """A seeded stream: torch's CPU generator, so the data is the same on every platform."""

    def __init__(self, name):
        self.g = torch.Generator().manual_seed(zlib.crc32(name.encode()))

    def normal(self, *shape):
        return torch.randn(*shape, generator=self.g, dtype=torch.float32)

    def hidden(self, rows, cols, outliers=3):
        """Normal activations with a few outlier channels (x20), as real residual streams have."""
        x = self.normal(rows, cols)
        channels = torch.randperm(cols, generator=self.g)[:outliers]
        x[:, channels] *= 20.0
        return x

    def normed_hidden(self, rows, cols):
        """hidden() scaled to unit RMS per row: what a sublayer reads after its RMSNorm."""
        x = self.hidden(rows, cols)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True))

    def ids(self, n, vocab):
        return torch.randint(0, vocab, (n,), generator=self.g, dtype=torch.int64)

    def weights(self, module):
        """HF names -> fp32: linear ~ N(0, 1/in), norm gains 1 + 0.1 N (Gemma's norm weights,
        the w of x * (1 + w), 0.1 N), biases 0.1 N, embeddings N(0, 1)."""
        gemma_norms = {id(m.weight) for m in module.modules() if isinstance(m, Gemma2RMSNorm)}
        out = {}
        for name, p in module.named_parameters():  # tied parameters appear once
            if id(p) in gemma_norms:
                out[name] = 0.1 * self.normal(*p.shape)
            elif name.endswith("sinks"):  # GPT-OSS's per-head sink logits
                out[name] = self.normal(*p.shape)
            elif name.endswith("norm.weight") or isinstance(module, (LlamaRMSNorm, GptOssRMSNorm)):
                out[name] = 1.0 + 0.1 * self.normal(*p.shape)
            elif name.endswith("bias"):
                out[name] = 0.1 * self.normal(*p.shape)
            elif "embed_tokens" in name or isinstance(module, nn.Embedding):
                out[name] = self.normal(*p.shape)
            else:
                out[name] = self.normal(*p.shape) / math.sqrt(p.shape[1])
        return out


def load(module, weights, dtype):
    """The parameters of `module` set to `weights` in `dtype`; buffers (inv_freq) untouched."""
    for name, p in module.named_parameters():
        p.data = weights[name].to(dtype)
    return module


def both(make_module, weights, run):
    """`run(module, dtype)` on float32 and on bfloat16 parameters: (fp32 result, bf16 result)."""
    with torch.no_grad():
        return tuple(run(load(make_module(), weights, dtype), dtype)
                     for dtype in (torch.float32, torch.bfloat16))


# ---- the cases ----

def config_with(base=BASE_CONFIG, **changes):
    d = dict(base)
    d.update(changes)
    return d


def case_linear(name, bias):
    d = config_with()
    rng = Rng(name)
    make = lambda: nn.Linear(64, 160, bias=bias)
    weights = rng.weights(make())
    x = rng.hidden(SEQ, 64)
    out = both(make, weights, lambda m, dt: m(x.to(dt)[None])[0])
    return d, {"x": x}, weights, {"out": out}


def case_embedding(name):
    d = config_with()
    rng = Rng(name)
    make = lambda: nn.Embedding(96, 64)
    weights = rng.weights(make())
    ids = rng.ids(SEQ, 96)
    out = both(make, weights, lambda m, dt: m(ids[None])[0])
    return d, {"ids": ids}, weights, {"out": out}


def case_rms_norm(name):
    d = config_with()
    config = Config(d)
    rng = Rng(name)
    make = lambda: LlamaRMSNorm(64, eps=config.rms_norm_eps)
    weights = rng.weights(make())
    x = rng.hidden(SEQ, 64)
    out = both(make, weights, lambda m, dt: m(x.to(dt)[None])[0])
    return d, {"x": x}, weights, {"out": out}


def case_activation(name, act):
    d = config_with(hidden_act=act)
    rng = Rng(name)
    x = 2.0 * rng.hidden(SEQ, 160)
    fn = ACT2FN[act]
    with torch.no_grad():
        out = (fn(x), fn(x.to(torch.bfloat16)))
    return d, {"x": x}, {}, {"out": out}


def case_rotary(name, rope_scaling, positions=None, with_inv_freq=False, **changes):
    d = config_with(rope_scaling=rope_scaling, **changes)
    config = Config(d)
    rng = Rng(name)
    heads, kv_heads, dim = config.num_attention_heads, config.num_key_value_heads, config.head_dim
    q = rng.hidden(SEQ, heads * dim)
    k = rng.hidden(SEQ, kv_heads * dim)
    positions = torch.arange(SEQ, dtype=torch.int64) if positions is None else positions
    results = []
    for dtype in (torch.float32, torch.bfloat16):
        with torch.no_grad():
            rotary = LlamaRotaryEmbedding(config)  # fresh: dynamic scaling keeps state
            cos, sin = rotary(q.to(dtype), positions[None])
            q4 = q.to(dtype).view(1, SEQ, heads, dim).transpose(1, 2)
            k4 = k.to(dtype).view(1, SEQ, kv_heads, dim).transpose(1, 2)
            q_out, k_out = apply_rotary_pos_emb(q4, k4, cos, sin)
        results.append({
            "q_out": q_out.transpose(1, 2).reshape(SEQ, heads * dim),
            "k_out": k_out.transpose(1, 2).reshape(SEQ, kv_heads * dim),
            "cos": cos[0], "sin": sin[0]})
    outputs = {key: (results[0][key], results[1][key]) for key in results[0]}
    inputs = {"q": q, "k": k, "positions": positions}
    if with_inv_freq:  # the float32 buffer itself, after the dynamic update: compared bit for bit
        inputs["inv_freq"] = rotary.inv_freq.clone()
    return d, inputs, {}, outputs


class QkNorms(nn.Module):
    """Qwen3Attention's q_norm and k_norm alone, on q_proj and k_proj outputs [.., heads *
    head_dim] viewed as [.., heads, head_dim], as its forward applies them."""

    def __init__(self, config):
        super().__init__()
        self.head_dim = config.head_dim
        self.q_norm = LlamaRMSNorm(self.head_dim, eps=config.rms_norm_eps)
        self.k_norm = LlamaRMSNorm(self.head_dim, eps=config.rms_norm_eps)

    def forward(self, q, k):
        q_out = self.q_norm(q.view(*q.shape[:-1], -1, self.head_dim))
        k_out = self.k_norm(k.view(*k.shape[:-1], -1, self.head_dim))
        return q_out.reshape(q.shape), k_out.reshape(k.shape)


def case_qk_norm(name, **changes):
    d = config_with(**changes)
    config = Config(d)
    rng = Rng(name)
    heads, kv_heads, dim = config.num_attention_heads, config.num_key_value_heads, config.head_dim
    make = lambda: QkNorms(config)
    weights = rng.weights(make())
    q = rng.hidden(SEQ, heads * dim)
    k = rng.hidden(SEQ, kv_heads * dim)
    q_out, k_out = zip(*both(make, weights, lambda m, dt: m(q.to(dt), k.to(dt))))
    return d, {"q": q, "k": k}, weights, {"q_out": q_out, "k_out": k_out}


def case_mlp(name, **changes):
    d = config_with(**changes)
    config = Config(d)
    rng = Rng(name)
    make = lambda: LlamaMLP(config)
    weights = rng.weights(make())
    x = rng.normed_hidden(SEQ, config.hidden_size)
    out = both(make, weights, lambda m, dt: m(x.to(dt)[None])[0])
    return d, {"x": x}, weights, {"out": out}


def case_attention(name, positions=None, **changes):
    d = config_with(**changes)
    config = Config(d)
    rng = Rng(name)
    make = lambda: LlamaAttention(config, layer_idx=0)
    weights = rng.weights(make())
    x = rng.normed_hidden(SEQ, config.hidden_size)
    positions = torch.arange(SEQ, dtype=torch.int64) if positions is None else positions
    # LlamaModel.forward: cache_position = arange(past_seen_tokens, past_seen_tokens + seq), the
    # mask's indices whatever the position_ids (which only the rotary embedding reads).
    cache_position = torch.arange(SEQ, dtype=torch.int64)

    def run(module, dtype):
        hidden = x.to(dtype)[None]
        position_embeddings = LlamaRotaryEmbedding(config)(hidden, positions[None])
        mask = causal_mask_of(config, 0, SEQ, dtype, cache_position)
        return module(hidden, position_embeddings, mask)[0]

    return d, {"x": x, "positions": positions}, weights, {"out": both(make, weights, run)}


def case_decoder_layer(name, **changes):
    d = config_with(**changes)
    config = Config(d)
    rng = Rng(name)
    make = lambda: LlamaDecoderLayer(config, layer_idx=0)
    weights = rng.weights(make())
    x = rng.hidden(SEQ, config.hidden_size)
    positions = torch.arange(SEQ, dtype=torch.int64)

    def run(module, dtype):
        hidden = x.to(dtype)[None]
        position_embeddings = LlamaRotaryEmbedding(config)(hidden, positions[None])
        mask = causal_mask_of(config, 0, SEQ, dtype, positions)
        return module(hidden, mask, position_embeddings)[0]

    return d, {"x": x, "positions": positions}, weights, {"out": both(make, weights, run)}


def case_causal_lm(name, **changes):
    d = config_with(**changes)
    config = Config(d)
    rng = Rng(name)
    make = lambda: LlamaForCausalLM(config)
    weights = rng.weights(make())  # tied: lm_head.weight is model.embed_tokens.weight
    ids = rng.ids(SEQ, config.vocab_size)
    out = both(make, weights, lambda m, dt: m(ids[None])[0])
    return d, {"ids": ids}, weights, {"out": out}


def gemma2_config(**changes):
    d = config_with(base=TINY_GEMMA2, **changes)
    return d, Gemma2Config(d)


def case_gemma2_norm(name):
    d, config = gemma2_config()
    rng = Rng(name)
    make = lambda: Gemma2RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
    weights = rng.weights(make())
    x = rng.hidden(SEQ, config.hidden_size)
    out = both(make, weights, lambda m, dt: m(x.to(dt)[None])[0])
    return d, {"x": x}, weights, {"out": out}


def case_gemma2_embed_scale(name):
    d, config = gemma2_config()
    rng = Rng(name)
    make = lambda: Gemma2ScaledEmbedding(config)
    weights = rng.weights(make())
    ids = rng.ids(SEQ, config.vocab_size)
    out = both(make, weights, lambda m, dt: m(ids[None])[0])
    return d, {"ids": ids}, weights, {"out": out}


def case_gemma2_attention(name, layer_idx, **changes):
    d, config = gemma2_config(**changes)
    rng = Rng(name)
    make = lambda: Gemma2Attention(config, layer_idx)
    weights = rng.weights(make())
    x = rng.normed_hidden(SEQ, config.hidden_size)
    positions = torch.arange(SEQ, dtype=torch.int64)

    def run(module, dtype):
        hidden = x.to(dtype)[None]
        position_embeddings = LlamaRotaryEmbedding(config)(hidden, positions[None])
        mask = causal_mask_of(config, layer_idx, SEQ, dtype, positions)
        return module(hidden, position_embeddings, mask)[0]

    return d, {"x": x, "positions": positions}, weights, {"out": both(make, weights, run)}


def case_gemma2_decoder_layer(name, **changes):
    d, config = gemma2_config(**changes)
    rng = Rng(name)
    make = lambda: Gemma2DecoderLayer(config, 0)
    weights = rng.weights(make())
    # The residual stream of a Gemma model: embeddings times sqrt(hidden_size).
    x = rng.hidden(SEQ, config.hidden_size) * config.hidden_size ** 0.5
    positions = torch.arange(SEQ, dtype=torch.int64)

    def run(module, dtype):
        hidden = x.to(dtype)[None]
        position_embeddings = LlamaRotaryEmbedding(config)(hidden, positions[None])
        mask = causal_mask_of(config, 0, SEQ, dtype, positions)
        return module(hidden, mask, position_embeddings)[0]

    return d, {"x": x, "positions": positions}, weights, {"out": both(make, weights, run)}


def case_gemma2_causal_lm(name, **changes):
    d, config = gemma2_config(**changes)
    rng = Rng(name)
    make = lambda: Gemma2ForCausalLM(config)
    weights = rng.weights(make())  # tied: lm_head.weight is model.embed_tokens.weight
    ids = rng.ids(SEQ, config.vocab_size)
    out = both(make, weights, lambda m, dt: m(ids[None])[0])
    return d, {"ids": ids}, weights, {"out": out}

def gemma3_config(**changes):
    d = config_with(base=TINY_GEMMA3, **changes)
    return d, Gemma3TextConfig(d)


def case_gemma3_qk_norm(name):
    d, config = gemma3_config()
    rng = Rng(name)
    make = lambda: Gemma3QkNorms(config)
    weights = rng.weights(make())
    q = rng.hidden(SEQ, config.num_attention_heads * config.head_dim)
    k = rng.hidden(SEQ, config.num_key_value_heads * config.head_dim)
    q_out, k_out = zip(*both(make, weights, lambda m, dt: m(q.to(dt), k.to(dt))))
    return d, {"q": q, "k": k}, weights, {"q_out": q_out, "k_out": k_out}


def gemma3_rotary(config, layer_idx, hidden, positions):
    """The layer's (cos, sin): rotary_emb_local on a sliding layer, rotary_emb on a full one."""
    sliding = config.layer_types[layer_idx] == "sliding_attention"
    rope = config.local_rope_config() if sliding else config
    return LlamaRotaryEmbedding(rope)(hidden, positions[None])


def case_gemma3_attention(name, layer_idx, **changes):
    d, config = gemma3_config(**changes)
    rng = Rng(name)
    make = lambda: Gemma3Attention(config, layer_idx)
    weights = rng.weights(make())
    x = rng.normed_hidden(SEQ, config.hidden_size)
    positions = torch.arange(SEQ, dtype=torch.int64)

    def run(module, dtype):
        hidden = x.to(dtype)[None]
        mask = causal_mask_of(config, layer_idx, SEQ, dtype, positions)
        return module(hidden, gemma3_rotary(config, layer_idx, hidden, positions), mask)[0]

    return d, {"x": x, "positions": positions}, weights, {"out": both(make, weights, run)}


def case_gemma3_decoder_layer(name, **changes):
    d, config = gemma3_config(**changes)
    rng = Rng(name)
    make = lambda: Gemma3DecoderLayer(config, 0)
    weights = rng.weights(make())
    x = rng.hidden(SEQ, config.hidden_size) * config.hidden_size ** 0.5
    positions = torch.arange(SEQ, dtype=torch.int64)

    def run(module, dtype):
        hidden = x.to(dtype)[None]
        mask = causal_mask_of(config, 0, SEQ, dtype, positions)
        position_global = LlamaRotaryEmbedding(config)(hidden, positions[None])
        position_local = LlamaRotaryEmbedding(config.local_rope_config())(hidden, positions[None])
        return module(hidden, mask, position_global, position_local)[0]

    return d, {"x": x, "positions": positions}, weights, {"out": both(make, weights, run)}


def case_gemma3_causal_lm(name, **changes):
    d, config = gemma3_config(**changes)
    rng = Rng(name)
    make = lambda: Gemma3ForCausalLM(config)
    weights = rng.weights(make())  # tied: lm_head.weight is model.embed_tokens.weight
    ids = rng.ids(SEQ, config.vocab_size)
    out = both(make, weights, lambda m, dt: m(ids[None])[0])
    return d, {"ids": ids}, weights, {"out": out}

def case_moe_block(name, **changes):
    d = config_with(**changes)
    config = Config(d)
    rng = Rng(name)
    qwen = config.model_type in ("qwen2_moe", "qwen3_moe")
    make = lambda: Qwen2MoeSparseMoeBlock(config) if qwen else MixtralSparseMoeBlock(config)
    weights = rng.weights(make())
    x = rng.normed_hidden(SEQ, config.hidden_size)
    results = both(make, weights, lambda m, dt: (*m(x.to(dt)[None]), *m.route(x.to(dt)[None])))
    outputs = {"out": tuple(r[0][0] for r in results),
               "router_logits": tuple(r[1] for r in results),
               "routing_weights": tuple(r[3] for r in results)}
    selected = {"selected_experts.fp32": results[0][4], "selected_experts.bf16": results[1][4]}
    return d, {"x": x, **selected}, weights, outputs


def gpt_oss_config(**changes):
    d = config_with(base=TINY_GPT_OSS, **changes)
    return d, GptOssConfig(d)


def case_gpt_oss_norm(name):
    d, config = gpt_oss_config()
    rng = Rng(name)
    make = lambda: GptOssRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
    weights = rng.weights(make())
    x = rng.hidden(SEQ, config.hidden_size)
    out = both(make, weights, lambda m, dt: m(x.to(dt)[None])[0])
    return d, {"x": x}, weights, {"out": out}


def case_gpt_oss_attention(name, layer_idx, **changes):
    d, config = gpt_oss_config(**changes)
    rng = Rng(name)
    make = lambda: GptOssAttention(config, layer_idx)
    weights = rng.weights(make())
    x = rng.normed_hidden(SEQ, config.hidden_size)
    positions = torch.arange(SEQ, dtype=torch.int64)

    def run(module, dtype):
        hidden = x.to(dtype)[None]
        position_embeddings = GptOssRotaryEmbedding(config)(hidden, positions[None])
        mask = causal_mask_of(config, layer_idx, SEQ, dtype, positions)
        return module(hidden, position_embeddings, mask)[0]

    return d, {"x": x, "positions": positions}, weights, {"out": both(make, weights, run)}


def case_gpt_oss_moe_block(name, **changes):
    d, config = gpt_oss_config(**changes)
    rng = Rng(name)
    make = lambda: GptOssMLP(config)
    weights = rng.weights(make())
    x = rng.normed_hidden(SEQ, config.hidden_size)
    results = both(make, weights, lambda m, dt: (m(x.to(dt)[None])[0][0], *m.route(x.to(dt)[None]),
                                                m.experts.every_expert(x.to(dt)[None])))
    # experts: [n, experts x hidden], expert-major, as the C++ experts component returns them.
    outputs = {"out": tuple(r[0] for r in results),
               "router_logits": tuple(r[1] for r in results),
               "routing_weights": tuple(r[2] for r in results),
               "experts": tuple(r[4].transpose(0, 1).reshape(SEQ, -1) for r in results)}
    selected = {"selected_experts.fp32": results[0][3], "selected_experts.bf16": results[1][3]}
    return d, {"x": x, **selected}, weights, outputs


def case_gpt_oss_decoder_layer(name, layer_idx, **changes):
    d, config = gpt_oss_config(**changes)
    rng = Rng(name)
    make = lambda: GptOssDecoderLayer(config, layer_idx)
    weights = rng.weights(make())
    x = rng.hidden(SEQ, config.hidden_size)
    positions = torch.arange(SEQ, dtype=torch.int64)

    def run(module, dtype):
        hidden = x.to(dtype)[None]
        position_embeddings = GptOssRotaryEmbedding(config)(hidden, positions[None])
        mask = causal_mask_of(config, layer_idx, SEQ, dtype, positions)
        return module(hidden, mask, position_embeddings)[0]

    return d, {"x": x, "positions": positions}, weights, {"out": both(make, weights, run)}


def case_gpt_oss_causal_lm(name, **changes):
    d, config = gpt_oss_config(**changes)
    rng = Rng(name)
    make = lambda: GptOssForCausalLM(config)
    weights = rng.weights(make())
    ids = rng.ids(SEQ, config.vocab_size)
    out = both(make, weights, lambda m, dt: m(ids[None])[0])
    return d, {"ids": ids}, weights, {"out": out}


LLAMA3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 32}

CASES = {
    "linear": lambda n: case_linear(n, bias=False),
    "linear_bias": lambda n: case_linear(n, bias=True),
    "embedding": case_embedding,
    "rms_norm": case_rms_norm,
    "activation_silu": lambda n: case_activation(n, "silu"),
    "activation_gelu": lambda n: case_activation(n, "gelu"),
    "activation_gelu_pytorch_tanh": lambda n: case_activation(n, "gelu_pytorch_tanh"),
    "rotary_default": lambda n: case_rotary(n, None),
    "rotary_linear": lambda n: case_rotary(n, {"rope_type": "linear", "factor": 4.0}),
    # max(positions) + 1 = 48 > max_position_embeddings = 16: the base grows.
    "rotary_dynamic": lambda n: case_rotary(
        n, {"rope_type": "dynamic", "factor": 2.0},
        positions=torch.arange(36, 36 + SEQ, dtype=torch.int64), max_position_embeddings=16),
    # No original_max_position_embeddings: every transformers version reads yarn alike then.
    "rotary_yarn": lambda n: case_rotary(n, {"rope_type": "yarn", "factor": 4.0}),
    "rotary_yarn_mscale": lambda n: case_rotary(
        n, {"rope_type": "yarn", "factor": 4.0, "mscale": 1.0, "mscale_all_dim": 0.5,
            "beta_fast": 16.0, "beta_slow": 2.0, "truncate": False}),
    "rotary_llama3": lambda n: case_rotary(
        n, LLAMA3, positions=torch.arange(SEQ, dtype=torch.int64) * 9),
    # The two below keep inv_freq, which the test compares bit for bit. Dynamic NTK with
    # max(positions) + 1 = 24: HF computes the grown base in float32 (seq_len is a tensor), and
    # 3 of the 8 inv_freq differ by an ulp from a base computed in double.
    "rotary_dynamic_float32_base": lambda n: case_rotary(
        n, {"rope_type": "dynamic", "factor": 2.0},
        positions=torch.arange(12, 12 + SEQ, dtype=torch.int64), max_position_embeddings=16,
        with_inv_freq=True),
    # llama3 with Llama 3.1's theta 5e5 and bands: `2 * math.pi / inv_freq` is Tensor.__rtruediv__,
    # reciprocal() then * 2pi, which differs from a division in the medium band's inv_freq.
    "rotary_llama3_wavelen": lambda n: case_rotary(
        n, dict(LLAMA3, original_max_position_embeddings=256),
        positions=torch.arange(SEQ, dtype=torch.int64) * 37, rope_theta=500000.0,
        max_position_embeddings=1024, with_inv_freq=True),
    "mlp": case_mlp,
    "mlp_bias_gelu_tanh": lambda n: case_mlp(n, mlp_bias=True, hidden_act="gelu_pytorch_tanh"),
    "attention_mha": lambda n: case_attention(n, num_key_value_heads=4),
    "attention_gqa": case_attention,
    "attention_mqa": lambda n: case_attention(n, num_key_value_heads=1),
    "attention_sliding": lambda n: case_attention(
        n, model_type="mistral", architectures=["MistralForCausalLM"], sliding_window=5),
    # Positions that are not 0..n-1: the mask follows the key/query indices (cache_position),
    # not the position ids. Gaps of 7 between runs of 4 with window 5 (masking by position
    # would hide keys 1..4 indices back), and right padding at position 0 (masking by position
    # would show the pad keys to every real query).
    "attention_sliding_gapped_positions": lambda n: case_attention(
        n, model_type="mistral", architectures=["MistralForCausalLM"], sliding_window=5,
        positions=torch.tensor([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23])),
    "attention_padded_positions": lambda n: case_attention(
        n, positions=torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0])),
    "attention_qwen2_bias": lambda n: case_attention(
        n, model_type="qwen2", architectures=["Qwen2ForCausalLM"], rope_theta=1000000.0),
    # attention_bias also gives o_proj a bias; head_dim 24 makes the scaling inexact in bf16.
    "attention_llama_bias_head_dim_24": lambda n: case_attention(
        n, attention_bias=True, head_dim=24),
    "decoder_layer": case_decoder_layer,
    "causal_lm": lambda n: case_causal_lm(n, rope_scaling=LLAMA3),
    "causal_lm_tied": lambda n: case_causal_lm(
        n, model_type="qwen2", architectures=["Qwen2ForCausalLM"], rope_theta=1000000.0,
        tie_word_embeddings=True),
    # Qwen3 on tiny-qwen3: GQA 8/2 heads, head_dim 32 != hidden / heads, per-head q/k norms.
    "qk_norm_qwen3": lambda n: case_qk_norm(n, base=TINY_QWEN3),
    "attention_qwen3": lambda n: case_attention(n, base=TINY_QWEN3),
    "decoder_layer_qwen3": lambda n: case_decoder_layer(n, base=TINY_QWEN3),
    "causal_lm_qwen3": lambda n: case_causal_lm(n, base=TINY_QWEN3),
    # Gemma 2 on tiny-gemma2 with a window of 5 (< SEQ): the (1 + w) norm, the bf16
    # normalizer sqrt(112) = 10.583 -> 10.5625, query_pre_attn_scalar 24 != head_dim 32, the
    # attention soft-cap 4 and the final soft-cap 15 (both active at these magnitudes), layer 0
    # sliding and layer 1 global.
    "rms_norm_gemma2": case_gemma2_norm,
    "embed_scale_gemma2": case_gemma2_embed_scale,
    "attention_gemma2_sliding": lambda n: case_gemma2_attention(n, 0, sliding_window=5),
    "attention_gemma2_global": lambda n: case_gemma2_attention(n, 1, sliding_window=5),
    "decoder_layer_gemma2": lambda n: case_gemma2_decoder_layer(n, sliding_window=5),
    "causal_lm_gemma2": lambda n: case_gemma2_causal_lm(n, sliding_window=5),
    # Gemma 3 (text) on tiny-gemma3 with a window of 5 (< SEQ): the (1 + w) q/k norms, layer 0
    # sliding with the local rotary (base 1e4, no scaling), layer 1 global with the global one
    # (base 1e6, linear scaling 8), no attention soft-cap, no final soft-cap.
    "qk_norm_gemma3": case_gemma3_qk_norm,
    "attention_gemma3_sliding": lambda n: case_gemma3_attention(n, 0, sliding_window=5),
    "attention_gemma3_global": lambda n: case_gemma3_attention(n, 1, sliding_window=5),
    "decoder_layer_gemma3": lambda n: case_gemma3_decoder_layer(n, sliding_window=5),
    "causal_lm_gemma3": lambda n: case_gemma3_causal_lm(n, sliding_window=5),
    # Mixtral on tiny-mixtral: 4 experts, top 2, SwiGLU experts, the MoE block in each layer.
    "moe_block_mixtral": lambda n: case_moe_block(n, base=TINY_MIXTRAL),
    "decoder_layer_mixtral": lambda n: case_decoder_layer(n, base=TINY_MIXTRAL),
    "causal_lm_mixtral": lambda n: case_causal_lm(n, base=TINY_MIXTRAL),
    # Qwen2-MoE on tiny-qwen2-moe: 4 experts, top 2, no renormalization (norm_topk_prob
    # false), q/k/v biases, the sigmoid-gated shared expert.
    "moe_block_qwen2_moe": lambda n: case_moe_block(n, base=TINY_QWEN2_MOE),
    "decoder_layer_qwen2_moe": lambda n: case_decoder_layer(n, base=TINY_QWEN2_MOE),
    "causal_lm_qwen2_moe": lambda n: case_causal_lm(n, base=TINY_QWEN2_MOE),
    # Qwen3-MoE on tiny-qwen3-moe: 4 experts, top 2 renormalized, per-head q/k norms, head_dim
    # 32 != hidden / heads.
    "moe_block_qwen3_moe": lambda n: case_moe_block(n, base=TINY_QWEN3_MOE),
    "decoder_layer_qwen3_moe": lambda n: case_decoder_layer(n, base=TINY_QWEN3_MOE),
    "causal_lm_qwen3_moe": lambda n: case_causal_lm(n, base=TINY_QWEN3_MOE),
    # GPT-OSS on tiny-gpt-oss (window 5 < SEQ): the one-rounding norm, the attention with sinks
    # on a sliding and a full layer, the MoE block (top-k then softmax, interleaved gate_up,
    # clamped SwiGLU, float32 sum over experts), a decoder layer, the model.
    "rms_norm_gpt_oss": case_gpt_oss_norm,
    "attention_gpt_oss_sliding": lambda n: case_gpt_oss_attention(n, 0, sliding_window=5),
    "attention_gpt_oss_full": lambda n: case_gpt_oss_attention(n, 1, sliding_window=5),
    "moe_block_gpt_oss": case_gpt_oss_moe_block,
    "decoder_layer_gpt_oss": lambda n: case_gpt_oss_decoder_layer(n, 0, sliding_window=5),
    "causal_lm_gpt_oss": lambda n: case_gpt_oss_causal_lm(n, sliding_window=5),
}


# ---- safetensors ----

WRITE_ORDER = ["I64", "F64", "F32", "I32", "BF16", "F16", "U8", "BOOL"]
SAFETENSORS_DTYPES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.int64: "I64"}


def tensor_bytes(tensor):
    tensor = tensor.detach().contiguous()
    if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16: take the raw bits
        tensor = tensor.view(torch.int16)
    return tensor.numpy().tobytes()  # native order, little-endian (checked in main)


def serialize(named, metadata):
    """8-byte little-endian header length, JSON header, data; tensors ordered by dtype (element
    sizes never increase) then name, contiguous, so each is aligned when the file is mapped."""
    order = sorted(named, key=lambda n: (WRITE_ORDER.index(SAFETENSORS_DTYPES[named[n].dtype]), n))
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name in order:
        data = tensor_bytes(named[name])
        header[name] = {"dtype": SAFETENSORS_DTYPES[named[name].dtype],
                        "shape": list(named[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def write_case(name, out_dir):
    config, inputs, weights, outputs = CASES[name](name)
    named = {}
    for key, value in list(inputs.items()) + list(weights.items()):
        named[key] = value.detach().clone()
    for key, (fp32, bf16) in outputs.items():
        assert fp32.dtype == torch.float32 and bf16.dtype == torch.bfloat16, (name, key)
        assert torch.isfinite(fp32).all() and torch.isfinite(bf16.float()).all(), (name, key)
        named[key + ".fp32"] = fp32
        named[key + ".bf16"] = bf16
    metadata = {"config": json.dumps(config, indent=2), "case": name, "generator": GENERATOR,
                "torch": torch.__version__ + (" (installed bf16 kernels)" if TORCH_KERNELS else "")}
    path = out_dir / (name + ".safetensors")
    path.write_bytes(serialize(named, metadata))
    return path, outputs


def main():
    global TORCH_KERNELS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parents[2] / "tests/data/nn")
    parser.add_argument("--torch-kernels", action="store_true",
                        help="run silu, gelu(tanh) and scalar multiplies on the installed "
                             "PyTorch's own bf16 kernels")
    parser.add_argument("cases", nargs="*", help="only these cases (default: all)")
    args = parser.parse_args()
    if sys.byteorder != "little":
        sys.exit("safetensors is little-endian; run this on a little-endian machine")
    TORCH_KERNELS = args.torch_kernels
    torch.set_num_threads(1)  # one summation order, whatever the machine
    args.output_dir.mkdir(parents=True, exist_ok=True)
    total = 0
    for name in args.cases or CASES:
        path, outputs = write_case(name, args.output_dir)
        total += path.stat().st_size
        parts = []
        for key, (fp32, bf16) in outputs.items():
            err = (bf16.double() - fp32.double()).norm() / fp32.double().norm()
            parts.append(f"{key} bf16 rel {err:.3e}")
        print(f"{path.name:42s} {path.stat().st_size:7d} bytes  " + ", ".join(parts))
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
