#!/usr/bin/python3
"""Writes tests/data/precision/quant_golden.safetensors: MXFP4 and int8 weight-only tensors and
what PyTorch makes of them, so libequiv/precision/mxfp4.h and int8_weight.h are checked bit for
bit against PyTorch (docs/regimes.md).

Run with Debian's interpreter (python3-torch 1.13; transformers and safetensors not needed):
    /usr/bin/python3 tools/golden/make_quant_golden.py [--output PATH]

Tensors (names as the tests read them):
  mxfp4.moe_blocks U8 [2, 8, 16, 16], mxfp4.moe_scales U8 [2, 8, 16]: every byte value among
    the blocks, every scale 0..254 (0xFF, the E8M0 NaN, is refused by equiv);
  mxfp4.moe_bf16 / mxfp4.moe_f32: convert_moe_packed_tensors (transcribed below from
    transformers/integrations/mxfp4.py) with dtype bfloat16 (HF's default) / float32: [2, 512, 8]
    (its final transpose included);
  mxfp4.linear_blocks U8 [6, 2, 16], mxfp4.linear_scales U8 [6, 2], mxfp4.linear_bf16 [6, 64]:
    the same conversion of a linear weight, without the expert transpose;
  mxfp4.quant_input F32 [6, 64]: ties, saturation, zeros, subnormals, large values, random;
  mxfp4.quant_blocks / mxfp4.quant_scales: the OCP MX v1.0 quantization of it (below);
  int8.input F32 [8, 48], int8.values I8 [8, 48], int8.scale F32 [8], int8.dequant F32 [8, 48].
"""

import argparse
import math
import pathlib
import sys

import torch

from make_safetensors_golden import serialize  # the reference writer's layout

# transformers/integrations/mxfp4.py, FP4_VALUES.
FP4_VALUES = [+0.0, +0.5, +1.0, +1.5, +2.0, +3.0, +4.0, +6.0,
              -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0]


def convert_moe_packed_tensors(blocks, scales, *, dtype=torch.bfloat16, transpose=True):
    """HF's convert_moe_packed_tensors (CPU path, one chunk); transpose=False skips its final
    expert transpose, for a rank-2 linear weight."""
    scales = scales.to(torch.int32) - 127
    assert blocks.shape[:-1] == scales.shape
    lut = torch.tensor(FP4_VALUES, dtype=dtype, device=blocks.device)
    *prefix_shape, G, B = blocks.shape
    rows_total = math.prod(prefix_shape) * G
    blocks = blocks.reshape(rows_total, B)
    scales = scales.reshape(rows_total, 1)
    out = torch.empty(rows_total, B * 2, dtype=dtype, device=blocks.device)
    idx_lo = (blocks & 0x0F).to(torch.long)
    idx_hi = (blocks >> 4).to(torch.long)
    out[:, 0::2] = lut[idx_lo]
    out[:, 1::2] = lut[idx_hi]
    torch.ldexp(out, scales, out=out)
    out = out.reshape(*prefix_shape, G, B * 2).view(*prefix_shape, G * B * 2)
    return out.transpose(1, 2).contiguous() if transpose else out.contiguous()


def quantize_mxfp4(x):
    """OCP MX v1.0, E2M1 elements, blocks of 32 along the last axis: shared exponent
    floor(log2(amax)) - 2 clamped to [-127, 127] (-127 for a zero block), elements
    round-to-nearest-even on the E2M1 grid, saturating at 6, sign kept."""
    *prefix, k = x.shape
    blocks = x.reshape(*prefix, k // 32, 32)
    amax = blocks.abs().amax(dim=-1)
    _, e = torch.frexp(amax)  # amax = m 2^e, m in [0.5, 1)
    exponent = torch.where(amax > 0, e.to(torch.int32) - 1 - 2,
                           torch.full_like(e, -127, dtype=torch.int32)).clamp(-127, 127)
    scaled = torch.ldexp(blocks, (-exponent).unsqueeze(-1).to(torch.float32))
    magnitudes = torch.tensor(FP4_VALUES[:8], dtype=torch.float32)
    # Candidates in the order even codes first, so argmin's first minimum is the tie to even.
    order = torch.tensor([0, 2, 4, 6, 1, 3, 5, 7])
    dist = (scaled.abs().unsqueeze(-1) - magnitudes[order]).abs()
    code = order[dist.argmin(dim=-1)]
    code = code | (torch.signbit(scaled).to(torch.long) << 3)
    code = code.reshape(*prefix, k // 32, 16, 2)
    packed = (code[..., 0] | (code[..., 1] << 4)).to(torch.uint8)
    return packed, (exponent + 127).to(torch.uint8)


def quantize_int8(w):
    amax = w.abs().amax(dim=1)
    scale = torch.where(amax > 0, amax / 127, torch.ones_like(amax))
    q = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return q, scale, q.to(torch.float32) * scale[:, None]


def tensors():
    gen = torch.Generator().manual_seed(20261206)
    out = {}
    # Every byte value among the blocks, every non-NaN scale once (plus one 127).
    blocks = torch.randint(0, 256, (2 * 8 * 16 * 16,), generator=gen, dtype=torch.int64)
    blocks[:256] = torch.randperm(256, generator=gen)
    blocks = blocks.to(torch.uint8).reshape(2, 8, 16, 16)
    scales = torch.cat([torch.arange(255), torch.tensor([127])])
    scales = scales[torch.randperm(256, generator=gen)].to(torch.uint8).reshape(2, 8, 16)
    out["mxfp4.moe_blocks"] = blocks
    out["mxfp4.moe_scales"] = scales
    out["mxfp4.moe_bf16"] = convert_moe_packed_tensors(blocks, scales)
    out["mxfp4.moe_f32"] = convert_moe_packed_tensors(blocks, scales, dtype=torch.float32)

    lin_blocks = torch.randint(0, 256, (6, 2, 16), generator=gen, dtype=torch.int64)
    lin_blocks = lin_blocks.to(torch.uint8)
    lin_scales = torch.randint(120, 132, (6, 2), generator=gen, dtype=torch.int64)
    lin_scales = lin_scales.to(torch.uint8)
    out["mxfp4.linear_blocks"] = lin_blocks
    out["mxfp4.linear_scales"] = lin_scales
    out["mxfp4.linear_bf16"] = convert_moe_packed_tensors(lin_blocks, lin_scales, transpose=False)

    x = torch.randn(6, 64, generator=gen, dtype=torch.float32)
    # Row 0, block 0: amax 6 (scale 1): every E2M1 midpoint, its neighbours, both signs.
    ties = [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0]
    row = []
    for t in ties:
        row += [t, math.nextafter(t, 0), math.nextafter(t, 10)]
    row += [-0.25, -0.75, -1.25, -2.5, -3.5, -5.0, -6.0, 0.0, -0.0, 6.0, -0.1]
    x[0, :32] = torch.tensor(row[:32], dtype=torch.float32)
    x[0, 32:] = torch.randn(32, generator=gen) * 7.9  # saturation above 6 * scale
    x[1, :32] = 0.0  # an all-zero block: scale 2^-127
    x[1, 32:] = torch.randn(32, generator=gen) * 1e-40  # float subnormals
    x[2] = torch.randn(64, generator=gen) * 1e37
    x[3] = torch.randn(64, generator=gen) * 3e-3
    x[4, :32] = 4.0  # amax exactly a power of two
    x[4, 32:] = torch.randn(32, generator=gen) * 0.1
    out["mxfp4.quant_input"] = x
    out["mxfp4.quant_blocks"], out["mxfp4.quant_scales"] = quantize_mxfp4(x)

    w = torch.randn(8, 48, generator=gen, dtype=torch.float32) * torch.linspace(0.01, 2, 8)[:, None]
    w[3] = 0.0
    w[5, :6] = torch.tensor([127.0, 2.5, -3.5, 0.5, 126.5, -0.5])  # scale 1: ties to even
    w[5, 6:] = torch.randn(42, generator=gen) * 30
    out["int8.input"] = w
    out["int8.values"], out["int8.scale"], out["int8.dequant"] = quantize_int8(w)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parents[2] /
                        "tests/data/precision/quant_golden.safetensors")
    args = parser.parse_args()
    if sys.byteorder != "little":
        sys.exit("safetensors is little-endian; run this on a little-endian machine")
    metadata = {"format": "pt", "producer": f"torch {torch.__version__}"}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(serialize(tensors(), metadata))
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
