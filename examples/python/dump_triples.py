#!/usr/bin/python3
"""Dumps 3-tensor triples from a PyTorch module into one safetensors file, in the naming
convention `equiv compare DUMP.safetensors` reads: NAME.ref_fp32, NAME.ref_bf16, NAME.target.

A porting team runs its reference module twice (float32, and with bf16 weights and input)
and takes the third tensor from its port; here the "ports" are two variants of the same
module, one faithful and one whose weight a state-dict conversion lost, so the round trip
shows both verdicts:

    /usr/bin/python3 examples/python/dump_triples.py /tmp/dump.safetensors
    build/release/cli/equiv compare /tmp/dump.safetensors

Needs Debian's python3-torch (scripts/bootstrap.sh --with-golden-tools). The safetensors file
is written by hand (the safetensors package is not in Debian): an 8-byte little-endian header
length, a JSON header padded with spaces to a multiple of 8, then the tensors' bytes.
"""
import json
import struct
import sys

import torch


class RmsNorm(torch.nn.Module):
    """HuggingFace's LlamaRMSNorm: the variance in float32 whatever the input dtype."""

    def __init__(self, hidden, eps=1e-5):
        super().__init__()
        self.weight = torch.nn.Parameter(1 + 0.1 * torch.randn(hidden))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        h = x.to(torch.float32)
        variance = h.pow(2).mean(-1, keepdim=True)
        h = h * torch.rsqrt(variance + self.eps)
        return self.weight * h.to(dtype)


def triple(module, port, x):
    """ref_fp32, ref_bf16 and the port's output, all from the same float32 weights and input."""
    with torch.no_grad():
        ref_fp32 = module(x)
        ref_bf16 = module.to(torch.bfloat16)(x.to(torch.bfloat16))
        target = port.to(torch.bfloat16)(x.to(torch.bfloat16))
        module.to(torch.float32)
    return ref_fp32, ref_bf16, target


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        if tensor.dtype == torch.bfloat16:
            data, dtype = tensor.contiguous().view(torch.int16).numpy().tobytes(), "BF16"
        else:
            data, dtype = tensor.to(torch.float32).contiguous().numpy().tobytes(), "F32"
        header[name] = {"dtype": dtype, "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"producer": "examples/python/dump_triples.py"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "dump.safetensors"
    torch.manual_seed(7)
    x = 3 * torch.randn(16, 256)  # residual-stream-sized activations
    tensors = {}
    reference = RmsNorm(256)
    faithful, buggy = RmsNorm(256), RmsNorm(256)
    faithful.load_state_dict(reference.state_dict())
    # The bug: a state-dict conversion that misses the norm's key leaves its weight at ones.
    buggy.load_state_dict(reference.state_dict())
    with torch.no_grad():
        buggy.weight.fill_(1.0)
    for name, port in (("layers.0.input_layernorm", faithful),
                       ("layers.1.input_layernorm", buggy)):
        for kind, t in zip(("ref_fp32", "ref_bf16", "target"), triple(reference, port, x)):
            tensors[f"{name}.{kind}"] = t
    write_safetensors(path, tensors)
    print(f"{path}: {len(tensors) // 3} triples")


if __name__ == "__main__":
    main()
