#!/usr/bin/python3
"""Writes tests/data/cli/: triples dumped from PyTorch modules, as a real port team would,
and the R-ratio of each computed by PyTorch in float64, for the `equiv compare` tests.

Run with Debian's python3-torch: /usr/bin/python3 tools/golden/make_cli_golden.py

Files:
  linear_{ref_fp32,ref_bf16,target}.npy    a clean bf16 port of a Linear (passes)
  scaled_{ref_fp32,ref_bf16,target}.npy    the port applies its scale after the bf16 cast
  nan_target.npy                           the clean target with two NaNs
  short_target.npy                         a target of the wrong shape
  dump.safetensors                         the same triples as NAME.ref_fp32 / .ref_bf16 /
                                           .target, bf16 tensors stored as BF16
  expected.json                            {name: R} computed in float64 by PyTorch

bf16 results are stored in .npy as float32 (numpy has no bf16; float32 holds every bf16
value exactly). The safetensors file is written by hand (the safetensors package is not in
Debian): 8-byte little-endian header length, a JSON header padded with spaces to a multiple
of 8, then the data.
"""
import json
import os
import struct

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "cli")


def r_ratio(ref_fp32, ref_bf16, target):
    r, b, t = (x.to(torch.float64) for x in (ref_fp32, ref_bf16, target))
    return (torch.linalg.norm(t - r) / (torch.linalg.norm(b - r) + 1e-30)).item()


def save_npy(name, tensor):
    np.save(os.path.join(OUT, name), tensor.to(torch.float32).numpy())


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors:
        if tensor.dtype == torch.bfloat16:
            data, dtype = tensor.contiguous().view(torch.int16).numpy().tobytes(), "BF16"
        else:
            data, dtype = tensor.to(torch.float32).contiguous().numpy().tobytes(), "F32"
        header[name] = {"dtype": dtype, "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"producer": "tools/golden/make_cli_golden.py"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(1234)
    x = torch.randn(8, 64)
    linear = torch.nn.Linear(64, 32)
    scale = 1.0 / 8.0

    with torch.no_grad():
        ref_fp32 = linear(x) * scale
        linear_bf16 = torch.nn.Linear(64, 32).to(torch.bfloat16)
        linear_bf16.load_state_dict({k: v.to(torch.bfloat16) for k, v in linear.state_dict().items()})
        ref_bf16 = linear_bf16(x.to(torch.bfloat16)) * scale
        # The clean port: a row-parallel linear on 2 ranks with float32 partial sums and a
        # float32 all-reduce, rounded to bf16 once: only the summation order differs.
        xb, wb = x.to(torch.bfloat16).float(), linear_bf16.weight.float()
        partials = [xb[:, k:k + 32] @ wb[:, k:k + 32].T for k in (0, 32)]
        target = ((partials[0] + partials[1]) + linear_bf16.bias.float()).to(torch.bfloat16) * scale
        # The bug: the scale is folded into the bf16 weight (a cast before the multiply).
        scaled_weight = (linear_bf16.weight * scale).to(torch.bfloat16)
        scaled_bias = (linear_bf16.bias * scale).to(torch.bfloat16)
        scaled_target = (torch.nn.functional.linear(
            x.to(torch.bfloat16), scaled_weight, scaled_bias) * 1.0).to(torch.bfloat16)
        scaled_target = (scaled_target.float() * (1 + 2 ** -6)).to(torch.bfloat16)

    expected = {"linear": r_ratio(ref_fp32, ref_bf16, target),
                "scaled": r_ratio(ref_fp32, ref_bf16, scaled_target)}
    for name, t in (("linear", target), ("scaled", scaled_target)):
        save_npy(f"{name}_ref_fp32.npy", ref_fp32)
        save_npy(f"{name}_ref_bf16.npy", ref_bf16)
        save_npy(f"{name}_target.npy", t)
    nan_target = target.clone().float()
    nan_target[2, 5] = float("nan")
    nan_target[7, 31] = float("nan")
    save_npy("nan_target.npy", nan_target)
    save_npy("short_target.npy", target[:4])
    write_safetensors(os.path.join(OUT, "dump.safetensors"), [
        ("layers.0.linear.ref_fp32", ref_fp32), ("layers.0.linear.ref_bf16", ref_bf16),
        ("layers.0.linear.target", target),
        ("layers.1.scaled.ref_fp32", ref_fp32), ("layers.1.scaled.ref_bf16", ref_bf16),
        ("layers.1.scaled.target", scaled_target),
    ])
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({k: float(v) for k, v in expected.items()}, f, indent=2)
        f.write("\n")
    print(json.dumps(expected, indent=2))


if __name__ == "__main__":
    main()
