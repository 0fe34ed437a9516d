"""A small Llama in plain PyTorch with HuggingFace's module paths and numerics (RMSNorm variance
in float32, softmax in float32, rotary cos/sin computed in float32), and ports of it with
real porting bugs, for the tests of equiv_dump.

    reference = TinyLlama(seed=1)                   # float32
    port = TinyLlama.port_of(reference, bug="rope_interleaved")
"""

import torch
from torch import nn

VOCAB, HIDDEN, HEADS, KV_HEADS, HEAD_DIM, INTERMEDIATE, LAYERS = 96, 64, 4, 2, 16, 128, 2
BUGS = (None, "rope_interleaved", "attention_scale_missing", "softmax_bf16")


class RMSNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(HIDDEN))
        self.eps = 1e-5

    def forward(self, x):
        dtype = x.dtype
        h = x.to(torch.float32)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rotate_interleaved(x):
    """The bug: GPT-J's pairs (0, 1), (2, 3), ... instead of HF's halves (0, 8), (1, 9), ..."""
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


def softmax_accumulated_in(scores, dtype):
    """The bug: a softmax kernel that keeps its running sum in `dtype` (bf16 on the port), adding
    one key at a time; HF computes the softmax in float32. Each add rounds the sum to bf16, so
    its error grows with the number of keys: a short sequence can hide it, a long one cannot."""
    e = (scores - scores.amax(-1, keepdim=True)).float().exp()
    total = torch.zeros_like(e[..., :1]).to(dtype)
    for j in range(e.shape[-1]):
        total = (total.float() + e[..., j:j + 1]).to(dtype)
    return (e / total.float()).to(dtype)


def cos_sin(positions, dtype):
    inv_freq = 1.0 / (10000 ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.float32) / HEAD_DIM))
    freqs = positions.to(torch.float32)[..., None] * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


class Attention(nn.Module):
    def __init__(self, bug=None):
        super().__init__()
        self.bug = bug
        self.q_proj = nn.Linear(HIDDEN, HEADS * HEAD_DIM, bias=False)
        self.k_proj = nn.Linear(HIDDEN, KV_HEADS * HEAD_DIM, bias=False)
        self.v_proj = nn.Linear(HIDDEN, KV_HEADS * HEAD_DIM, bias=False)
        self.o_proj = nn.Linear(HEADS * HEAD_DIM, HIDDEN, bias=False)

    def forward(self, x, positions):
        b, n, _ = x.shape
        q = self.q_proj(x).view(b, n, HEADS, HEAD_DIM).transpose(1, 2)
        k = self.k_proj(x).view(b, n, KV_HEADS, HEAD_DIM).transpose(1, 2)
        v = self.v_proj(x).view(b, n, KV_HEADS, HEAD_DIM).transpose(1, 2)
        cos, sin = cos_sin(positions, x.dtype)
        cos, sin = cos[:, None], sin[:, None]
        rotate = rotate_interleaved if self.bug == "rope_interleaved" else rotate_half
        q, k = q * cos + rotate(q) * sin, k * cos + rotate(k) * sin
        k = k.repeat_interleave(HEADS // KV_HEADS, dim=1)
        v = v.repeat_interleave(HEADS // KV_HEADS, dim=1)
        scale = 1.0 if self.bug == "attention_scale_missing" else HEAD_DIM ** -0.5
        scores = q @ k.transpose(-1, -2) * scale
        causal = torch.ones(n, n, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(causal, float("-inf"))
        if self.bug == "softmax_bf16":
            probs = softmax_accumulated_in(scores, q.dtype)
        else:
            probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        out = (probs @ v).transpose(1, 2).reshape(b, n, HEADS * HEAD_DIM)
        return self.o_proj(out), probs  # HF returns (output, weights)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate_proj = nn.Linear(HIDDEN, INTERMEDIATE, bias=False)
        self.up_proj = nn.Linear(HIDDEN, INTERMEDIATE, bias=False)
        self.down_proj = nn.Linear(INTERMEDIATE, HIDDEN, bias=False)

    def forward(self, x):
        return self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, bug=None):
        super().__init__()
        self.input_layernorm = RMSNorm()
        self.self_attn = Attention(bug)
        self.post_attention_layernorm = RMSNorm()
        self.mlp = MLP()

    def forward(self, x, positions):
        h = x + self.self_attn(self.input_layernorm(x), positions)[0]
        return h + self.mlp(self.post_attention_layernorm(h))


class Model(nn.Module):
    def __init__(self, bug=None):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB, HIDDEN)
        self.layers = nn.ModuleList(DecoderLayer(bug) for _ in range(LAYERS))
        self.norm = RMSNorm()

    def forward(self, ids, positions):
        h = self.embed_tokens(ids)
        for layer in self.layers:
            h = layer(h, positions)
        return self.norm(h)


class TinyLlama(nn.Module):
    """forward(input_ids [1, n]) -> logits [1, n, VOCAB]."""

    def __init__(self, seed=1, bug=None):
        super().__init__()
        assert bug in BUGS, bug
        self.model = Model(bug)
        self.lm_head = nn.Linear(HIDDEN, VOCAB, bias=False)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("layernorm.weight") or name.endswith("norm.weight"):
                    p.copy_(1 + 0.1 * torch.randn(p.shape, generator=generator))
                else:  # large enough that greedy tokens are decided, not ties
                    p.copy_(torch.randn(p.shape, generator=generator) / p.shape[-1] ** 0.5)
            self.lm_head.weight.mul_(0.5)  # KL(P_fp32 || P_bf16) well below equiv's 2e-4

    def forward(self, input_ids, position_ids=None):
        if position_ids is None:
            position_ids = torch.arange(input_ids.shape[-1])[None]
        return self.lm_head(self.model(input_ids, position_ids))

    @staticmethod
    def port_of(reference, bug=None, dtype=torch.bfloat16):
        """A port: the same weights (rounded to dtype), with `bug` in its attention."""
        port = TinyLlama(bug=bug)
        port.load_state_dict(reference.state_dict())
        return port.to(dtype)
