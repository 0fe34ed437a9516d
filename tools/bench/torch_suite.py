#!/usr/bin/python3
"""The generated component suite's three forwards per item in PyTorch, timed for docs/benchmarks.md.

The baseline of suite_benchmark (bench/suite_benchmark.cc): the same items (case x input kind)
of the built-in port's suite with first-middle-last layer sampling, each run as the reference
in float32, the reference in bfloat16 and a port, with HF-style modules transcribed from
transformers' modeling_llama.py (LlamaRMSNorm, the llama3 rotary embedding, eager
LlamaAttention with a causal mask and a float32 softmax, LlamaMLP, LlamaDecoderLayer) since
transformers is not installed. Float32 matmuls go through oneDNN by default (--fp32): this
PyTorch's own float32 GEMM is a generic BLAS. The port's stand-in is the bf16 model with its
projections fused as the built-in port fuses them (one q|k|v linear, one gate|up linear): a
port on CPU is a bf16 model. Cut as suite_benchmark cuts the 8B model: one decoder layer runs
every sampled layer's cases, at most 1024 vocabulary rows, max_position_embeddings 128 (the
tiny configs run as they are). Prints the totals of every item's fastest forward per side, by
wall clock and by CPU time of the process (--items: every item's wall times too).

    /usr/bin/python3 tools/bench/torch_suite.py --config configs/llama-3.1-8b.json --threads 1
"""
import argparse
import json
import math
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # --list needs no PyTorch
    torch = F = None

# The input kinds of the suite runner's default (normal, outlier_channels, long_sequence) that
# the llama family's component table lists for each kind; the order SuiteCases gives.
INPUTS = {
    "input_layernorm": ["normal", "outlier_channels"],
    "post_attention_layernorm": ["normal", "outlier_channels"],
    "final_norm": ["normal", "outlier_channels"],
    "embedding": ["normal"],
    "qkv_proj": ["normal"],
    "rotary": ["normal", "long_sequence"],
    "mlp": ["normal"],
    "attention": ["normal", "long_sequence"],
    "lm_head": ["normal"],
    "decoder_layer": ["normal", "outlier_channels", "long_sequence"],
}
LAYER_KINDS = ["input_layernorm", "qkv_proj", "rotary", "attention", "post_attention_layernorm",
               "mlp", "decoder_layer"]


def items_of(num_layers):
    """(name, kind, input) in suite_benchmark's order: the cheap kinds first, as SuiteCases."""
    layers = sorted({0, (num_layers - 1) // 2, num_layers - 1})
    order = ["input_layernorm", "post_attention_layernorm", "final_norm", "embedding",
             "qkv_proj", "rotary", "mlp", "attention", "lm_head", "decoder_layer"]
    out = []
    for kind in order:
        names = [f"layers_{i}_{kind}" for i in layers] if kind in LAYER_KINDS else [kind]
        for name in names:
            out += [(f"{name}/{inp}", kind, inp) for inp in INPUTS[kind]]
    return out


def rms_norm(x, weight, eps):  # LlamaRMSNorm.forward
    dtype = x.dtype
    h = x.to(torch.float32)
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(dtype)


def llama3_inv_freq(cfg, head_dim):  # _compute_llama3_parameters
    base = cfg.get("rope_theta", 10000.0)
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    rs = cfg.get("rope_scaling") or {}
    if rs.get("rope_type", rs.get("type")) != "llama3":
        return inv_freq
    factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / low, old / high
    wavelen = 2 * math.pi / inv_freq
    inv_llama = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
    smooth = (old / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * inv_llama / factor + smooth * inv_llama
    medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, inv_llama)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Model:
    """One decoder layer, the embedding, the final norm and lm_head in one dtype."""

    def __init__(self, cfg, weights, dtype, fused, onednn=False):
        self.cfg, self.dtype, self.fused = cfg, dtype, fused
        self.w = {k: v.to(dtype) for k, v in weights.items()}
        # float32 matmuls through oneDNN, as torch.utils.mkldnn.to_mkldnn's MkldnnLinear runs
        # them: this PyTorch's own float32 GEMM is a generic BLAS (BLAS_INFO=generic).
        self.onednn = onednn and dtype == torch.float32
        self.packed = {k: v.to_mkldnn() for k, v in self.w.items() if v.dim() == 2 and self.onednn}
        if fused:  # the port's layout: one q|k|v and one gate|up projection
            self.w["qkv"] = torch.cat([self.w["q"], self.w["k"], self.w["v"]], 0)
            self.w["gate_up"] = torch.cat([self.w["gate"], self.w["up"]], 0)
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg["num_key_value_heads"]
        self.head_dim = cfg.get("head_dim") or cfg["hidden_size"] // self.heads
        self.eps = cfg["rms_norm_eps"]
        self.inv_freq = llama3_inv_freq(cfg, self.head_dim)

    def cos_sin(self, n):  # LlamaRotaryEmbedding.forward, attention_scaling 1
        freqs = self.inv_freq[:, None] @ torch.arange(n, dtype=torch.float32)[None, :]
        emb = torch.cat((freqs.T, freqs.T), dim=-1)
        return emb.cos().to(self.dtype), emb.sin().to(self.dtype)

    def linear(self, x, name):
        if self.onednn:
            return torch._C._nn.mkldnn_linear(x.contiguous().to_mkldnn(), self.packed[name],
                                              None).to_dense()
        return F.linear(x, self.w[name])

    def mm_nt(self, a, b):
        """a @ b.T for 2-D a and b."""
        if self.onednn:
            return torch._C._nn.mkldnn_linear(a.contiguous().to_mkldnn(),
                                              b.contiguous().to_mkldnn(), None).to_dense()
        return F.linear(a, b)

    def qkv(self, x):
        if self.fused:
            return self.linear(x, "qkv")
        return torch.cat([self.linear(x, "q"), self.linear(x, "k"), self.linear(x, "v")], -1)

    def rotary(self, qk):
        n = qk.shape[0]
        cos, sin = self.cos_sin(n)
        h = qk.view(n, -1, self.head_dim)
        return (h * cos[:, None] + rotate_half(h) * sin[:, None]).reshape(n, -1)

    def attention(self, x):  # eager LlamaAttention.forward
        n, hd = x.shape[0], self.head_dim
        qkv = self.qkv(x)
        q_end, k_end = self.heads * hd, (self.heads + self.kv_heads) * hd
        q = qkv[:, :q_end].view(n, self.heads, hd).transpose(0, 1)
        k = qkv[:, q_end:k_end].view(n, self.kv_heads, hd).transpose(0, 1)
        v = qkv[:, k_end:].view(n, self.kv_heads, hd).transpose(0, 1)
        cos, sin = self.cos_sin(n)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        groups = self.heads // self.kv_heads
        k = k.repeat_interleave(groups, dim=0)
        v = v.repeat_interleave(groups, dim=0)
        mask = torch.full((n, n), torch.finfo(self.dtype).min, dtype=self.dtype).triu(1)
        if self.onednn:  # per head: torch.matmul's batched float32 product is the generic BLAS
            scores = torch.stack([self.mm_nt(q[h], k[h]) for h in range(self.heads)])
        else:
            scores = torch.matmul(q, k.transpose(1, 2))
        probs = F.softmax(scores * hd ** -0.5 + mask, dim=-1, dtype=torch.float32).to(self.dtype)
        if self.onednn:
            out = torch.stack([self.mm_nt(probs[h], v[h].T) for h in range(self.heads)])
        else:
            out = torch.matmul(probs, v)
        return self.linear(out.transpose(0, 1).reshape(n, -1), "o")

    def mlp(self, x):
        if self.fused:
            gate, up = self.linear(x, "gate_up").chunk(2, dim=-1)
            return self.linear(F.silu(gate) * up, "down")
        return self.linear(F.silu(self.linear(x, "gate")) * self.linear(x, "up"), "down")

    def decoder_layer(self, x):
        h = x + self.attention(rms_norm(x, self.w["input_norm"], self.eps))
        return h + self.mlp(rms_norm(h, self.w["post_norm"], self.eps))

    def run(self, kind, data):
        w = self.w
        if kind == "embedding":
            return F.embedding(data, w["embed"])
        x = data.to(self.dtype)
        if kind in ("input_layernorm", "post_attention_layernorm", "final_norm"):
            name = {"input_layernorm": "input_norm", "post_attention_layernorm": "post_norm",
                    "final_norm": "norm"}[kind]
            return rms_norm(x, w[name], self.eps)
        if kind == "qkv_proj":
            return self.qkv(x)
        if kind == "rotary":
            return self.rotary(x)
        if kind == "attention":
            return self.attention(x)
        if kind == "mlp":
            return self.mlp(x)
        if kind == "decoder_layer":
            return self.decoder_layer(x)
        if kind == "lm_head":
            return self.linear(x, "lm_head")
        raise ValueError(kind)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/llama-3.1-8b.json")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repetitions", type=int, default=3, help="timed runs of every forward")
    parser.add_argument("--max-vocab", type=int, default=1024)
    parser.add_argument("--max-positions", type=int, default=128)
    parser.add_argument("--items", action="store_true", help="print every item's times")
    parser.add_argument("--list", action="store_true",
                        help="print the items, '<name> <positions>' a line, as "
                             "suite_benchmark --list_items does, and run nothing")
    parser.add_argument("--fp32", choices=["onednn", "generic"], default="onednn",
                        help="float32 matmuls through oneDNN (torch.utils.mkldnn) or torch's "
                             "own float32 GEMM (a generic BLAS in this build)")
    args = parser.parse_args()
    with open(args.config) as f:
        cfg = json.load(f)
    num_layers = cfg["num_hidden_layers"]
    small = cfg["hidden_size"] <= 1024  # the tiny configs run as they are
    vocab = cfg["vocab_size"] if small else min(cfg["vocab_size"], args.max_vocab)
    max_pos = cfg["max_position_embeddings"] if small else min(cfg["max_position_embeddings"],
                                                               args.max_positions)
    rs = cfg.get("rope_scaling") or {}
    long_n = min(max(64, 3 * rs.get("original_max_position_embeddings", 0)), max_pos)
    items = items_of(num_layers)
    if args.list:
        for name, _, inp in items:
            print(name, long_n if inp == "long_sequence" else 24)
        return
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    h, i = cfg["hidden_size"], cfg["intermediate_size"]
    heads, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or h // heads

    def normal(*shape):
        return torch.randn(*shape) * 0.02

    weights = {"embed": normal(vocab, h), "q": normal(heads * hd, h), "k": normal(kv * hd, h),
               "v": normal(kv * hd, h), "o": normal(h, heads * hd), "gate": normal(i, h),
               "up": normal(i, h), "down": normal(h, i), "input_norm": torch.ones(h),
               "post_norm": torch.ones(h), "norm": torch.ones(h), "lm_head": normal(vocab, h)}
    models = [Model(cfg, weights, torch.float32, False, args.fp32 == "onednn"),
              Model(cfg, weights, torch.bfloat16, False),
              Model(cfg, weights, torch.bfloat16, True)]
    del weights
    print(f"torch {torch.__version__}, {args.config}: {len(items)} items, {args.threads} thread(s), "
          f"vocab {vocab}, long_sequence {long_n} positions, float32 matmuls: {args.fp32}")
    totals, cpu_totals = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
    with torch.inference_mode():
        for name, kind, inp in items:
            n = long_n if inp == "long_sequence" else 24
            if kind == "embedding":
                data = torch.randint(0, vocab, (n,))
            else:
                cols = (heads + kv) * hd if kind == "rotary" else h
                data = torch.randn(n, cols)
                if inp == "outlier_channels":
                    data[:, ::max(1, cols // 8)] *= 100.0
            best = []
            for k, model in enumerate(models):
                model.run(kind, data)  # warm-up: oneDNN's primitives, the weights' reorders
                times, cpus = [], []
                for _ in range(args.repetitions):
                    w0, c0 = time.perf_counter(), time.process_time()
                    model.run(kind, data)
                    times.append(time.perf_counter() - w0)
                    cpus.append(time.process_time() - c0)
                best.append(min(times))
                totals[k] += best[k]
                cpu_totals[k] += min(cpus)
            if args.items:
                print(f"  {name:52s} {best[0] * 1e3:10.2f} {best[1] * 1e3:10.2f} "
                      f"{best[2] * 1e3:10.2f}")
    print(f"  {'total (fastest of each forward), ms':52s} {totals[0] * 1e3:10.1f} "
          f"{totals[1] * 1e3:10.1f} {totals[2] * 1e3:10.1f}   all three: {sum(totals) * 1e3:.1f} ms")
    print(f"  {'total CPU time of the process (fastest of each), ms':52s} "
          f"{cpu_totals[0] * 1e3:10.1f} {cpu_totals[1] * 1e3:10.1f} {cpu_totals[2] * 1e3:10.1f}")


if __name__ == "__main__":
    main()
