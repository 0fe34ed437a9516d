#!/usr/bin/python3
"""Writes tests/data/io/pytorch_golden.safetensors: tensors made by PyTorch, one per dtype the
reader accepts, so that libequiv/io/safetensors.h is checked against bytes PyTorch produced
(including its float32 -> float16/bfloat16 rounding) and not only against its own writer.

Run with Debian's interpreter (python3-torch; the `safetensors` package is not needed):
    /usr/bin/python3 tools/golden/make_safetensors_golden.py [--output PATH]

The file follows the format as the reference writer (huggingface/safetensors) lays it out:
an 8-byte little-endian header length N, N bytes of JSON (no spaces, "__metadata__" first,
padded with spaces to a multiple of 8), then the tensors' bytes, ordered by dtype as its
Dtype enum sorts them (descending: I64, F64, F32, I32, BF16, F16, U8, BOOL), then by name,
so every tensor is aligned to its element size.

The values (mirrored in tests/libequiv/io/safetensors_test.cc):
  VALUES (12 doubles, below) -> "f64" [12] as float64, "f32" [3, 4] as float32,
  "f16" [12] and "bf16" [2, 2, 3] as float32 then float16 / bfloat16 (PyTorch's rounding);
  "scalar" [] float32 42.5; "empty" [0, 3] float32;
  "i64" [5], "i32" [4], "u8" [5], "bool" [3] as listed in INTEGERS.
"""

import argparse
import json
import pathlib
import struct
import sys

import torch

VALUES = [0.0, -0.0, 1.0 / 3.0, -2.5, 1e-8, 65519.0, 70000.0, 3.141592653589793, 1e-40,
          1e30, -123.456, 2.0**-24]
INTEGERS = {
    "i64": ([-(2**62), -1, 0, 1, 2**62 + 3], torch.int64),
    "i32": ([-(2**31), -7, 0, 2**31 - 1], torch.int32),
    "u8": ([0, 1, 127, 128, 255], torch.uint8),
    "bool": ([True, False, True], torch.bool),
}
# The reference writer's order, first to last.
WRITE_ORDER = ["I64", "F64", "F32", "I32", "BF16", "F16", "I8", "U8", "BOOL"]
SAFETENSORS_DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
    torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
    torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL",
}


def tensors():
    f64 = torch.tensor(VALUES, dtype=torch.float64)
    f32 = f64.to(torch.float32)
    out = {
        "f64": f64,
        "f32": f32.reshape(3, 4),
        "f16": f32.to(torch.float16),
        "bf16": f32.to(torch.bfloat16).reshape(2, 2, 3),
        "scalar": torch.tensor(42.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }
    for name, (values, dtype) in INTEGERS.items():
        out[name] = torch.tensor(values, dtype=dtype)
    return out


def tensor_bytes(tensor):
    tensor = tensor.contiguous()
    if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16: take the raw bits
        tensor = tensor.view(torch.int16)
    return tensor.numpy().tobytes()  # native order, little-endian (checked in main)


def serialize(named, metadata):
    order = sorted(named, key=lambda name: (
        WRITE_ORDER.index(SAFETENSORS_DTYPES[named[name].dtype]), name))
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name in order:
        data = tensor_bytes(named[name])
        header[name] = {
            "dtype": SAFETENSORS_DTYPES[named[name].dtype],
            "shape": list(named[name].shape),
            "data_offsets": [offset, offset + len(data)],
        }
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parents[2] /
                        "tests/data/io/pytorch_golden.safetensors")
    args = parser.parse_args()
    if sys.byteorder != "little":
        sys.exit("safetensors is little-endian; run this on a little-endian machine")
    metadata = {"format": "pt", "producer": f"torch {torch.__version__}"}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(serialize(tensors(), metadata))
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
