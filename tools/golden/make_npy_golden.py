#!/usr/bin/python3
"""Writes tests/data/io/npy/*.npy, small .npy files written by real numpy and PyTorch that
libequiv/io/npy.h must read bit for bit (and, for some, write byte for byte), plus the seed
corpus of the npy fuzzer (fuzz/corpus/npy_fuzzer/).

Run with Debian's interpreter (python3-numpy, python3-torch) from the repository root:
    /usr/bin/python3 tools/golden/make_npy_golden.py

The element values follow formulas that tests/libequiv/io/npy_test.cc repeats, so the
test needs no Python. Over the row-major (C order) flat index i of the logical array:

  floating (f2, f4, f8): i < 7: -0.0, inf, -inf, nan, 1/3, the smallest subnormal, the
                         largest finite value of the dtype; then (i % 17 - 8) / 8
  integers (i4, i8):     i < 5: min, max, -1, 0, 1; then (i * 7919) % 1000 - 500
  u1:                    i < 2: 0, 255; then (i * 37) % 256
  b1:                    i % 3 == 0

Fortran-order files hold the same logical array as their C-order twins (only the bytes on
disk are permuted), so the reader must give identical row-major results.

PyTorch files: torch.arange(12, dtype=torch.float32).reshape(3, 4) / 3, saved via .numpy()
as is (torch_f32.npy), transposed (torch_f32_t.npy: F-contiguous, so numpy writes
fortran_order True), in float16 (torch_f16.npy), and rounded to bfloat16 then widened back
to float32 (torch_bf16_as_f32.npy: how a bf16 tensor reaches an .npy file).
"""

import argparse
import io
import pathlib
import struct
import warnings

import numpy as np
import torch


def float_values(n, dtype):
    info = np.finfo(dtype)
    specials = [-0.0, np.inf, -np.inf, np.nan, 1 / 3, float(info.smallest_subnormal),
                float(info.max)]
    values = [specials[i] if i < len(specials) else (i % 17 - 8) / 8 for i in range(n)]
    return np.array(values, dtype=dtype)


def int_values(n, dtype):
    info = np.iinfo(dtype)
    specials = [info.min, info.max, -1, 0, 1]
    values = [specials[i] if i < len(specials) else (i * 7919) % 1000 - 500 for i in range(n)]
    return np.array(values, dtype=dtype)


def u1_values(n):
    return np.array([[0, 255][i] if i < 2 else (i * 37) % 256 for i in range(n)], dtype=np.uint8)


def b1_values(n):
    return np.array([i % 3 == 0 for i in range(n)], dtype=np.bool_)


def values(kind, shape):
    n = int(np.prod(shape))
    if kind in ("f2", "f4", "f8"):
        flat = float_values(n, {"f2": np.float16, "f4": np.float32, "f8": np.float64}[kind])
    elif kind in ("i4", "i8"):
        flat = int_values(n, {"i4": np.int32, "i8": np.int64}[kind])
    elif kind == "u1":
        flat = u1_values(n)
    else:
        flat = b1_values(n)
    return flat.reshape(shape)


def saved(array, version=None, allow_pickle=False):
    """The bytes np.save (or write_array with an explicit version) writes for `array`."""
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array, allow_pickle=allow_pickle)
    else:
        np.lib.format.write_array(buffer, array, version=version, allow_pickle=allow_pickle)
    return buffer.getvalue()


def golden_files():
    files = {}
    for kind in ("f4", "f8", "f2", "i8", "i4", "u1", "b1"):
        files[f"{kind}.npy"] = saved(values(kind, (3, 4)))
        files[f"{kind}_fortran.npy"] = saved(np.asfortranarray(values(kind, (3, 4))))
    for kind in ("f8", "u1", "f2"):
        files[f"{kind}_fortran_3d.npy"] = saved(np.asfortranarray(values(kind, (2, 3, 4))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy warns that old readers cannot read 2.0/3.0
        files["f4_v2.npy"] = saved(values("f4", (3, 4)), version=(2, 0))
        files["f4_v3.npy"] = saved(values("f4", (3, 4)), version=(3, 0))
        files["i8_v2.npy"] = saved(values("i8", (3, 4)), version=(2, 0))
        files["f8_fortran_v3.npy"] = saved(np.asfortranarray(values("f8", (3, 4))),
                                           version=(3, 0))
    files["f4_vector.npy"] = saved(values("f4", (7,)))
    files["f8_scalar.npy"] = saved(np.array(2.5, dtype=np.float64))
    files["f4_empty.npy"] = saved(np.zeros((0,), dtype=np.float32))
    files["f4_empty_3x0.npy"] = saved(np.zeros((3, 0), dtype=np.float32))
    files["f4_4d.npy"] = saved(values("f4", (2, 1, 3, 2)))

    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 3
    files["torch_f32.npy"] = saved(base.numpy())
    transposed = base.t().numpy()
    assert transposed.flags["F_CONTIGUOUS"] and not transposed.flags["C_CONTIGUOUS"]
    files["torch_f32_t.npy"] = saved(transposed)
    files["torch_f16.npy"] = saved(base.half().numpy())
    files["torch_bf16_as_f32.npy"] = saved(base.bfloat16().float().numpy())

    # Files numpy writes that the reader must reject.
    files["reject_big_endian.npy"] = saved(values("f4", (3, 4)).astype(">f4"))
    files["reject_object.npy"] = saved(np.array([1, "a", None], dtype=object), allow_pickle=True)
    files["reject_complex.npy"] = saved(np.arange(4, dtype=np.complex64))
    files["reject_structured.npy"] = saved(np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
    return files


def npy(header, data=b"", version=(1, 0), length=None):
    """Hand-made .npy bytes: a header text, its length field and the data."""
    header = header.encode("latin1")
    size = len(header) if length is None else length
    field = struct.pack("<H" if version[0] == 1 else "<I", size)
    return b"\x93NUMPY" + bytes(version) + field + header + data


def malformed_seeds():
    dict_f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n"
    return {
        "bad_magic.npy": b"\x93NUMPZ\x01\x00" + b"\x00" * 8,
        "version_4.npy": npy(dict_f4, b"\x00" * 8, version=(4, 0)),
        "header_too_long.npy": npy(dict_f4, b"\x00" * 8, version=(2, 0), length=2 << 20),
        "header_past_end.npy": npy(dict_f4, length=200),
        "not_dict.npy": npy("['descr', '<f4']\n"),
        "extra_key.npy": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}\n",
                             b"\x00" * 4),
        "int_shape.npy": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}\n",
                             b"\x00" * 8),
        "negative_dim.npy": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}\n"),
        "overflow.npy": npy("{'descr': '<f8', 'fortran_order': False, "
                            "'shape': (4294967296, 4294967296)}\n"),
        "truncated.npy": npy(dict_f4, b"\x00" * 7),
        "trailing.npy": npy(dict_f4, b"\x00" * 9),
        "bad_bool.npy": npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,)}\n",
                            b"\x00\x01\x02"),
        "python2_long.npy": npy("{'descr': '<i4', 'fortran_order': True, 'shape': (2L, 2L), }\n",
                                bytes(range(16))),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="tests/data/io/npy", type=pathlib.Path)
    parser.add_argument("--corpus", default="fuzz/corpus/npy_fuzzer", type=pathlib.Path)
    args = parser.parse_args()

    files = golden_files()
    args.data.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (args.data / name).write_bytes(data)
        # Every file must read back in numpy as the array it was written from.
        if not name.startswith("reject_"):
            np.load(io.BytesIO(data))

    seeds = dict(files)
    seeds.update(malformed_seeds())
    args.corpus.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        (args.corpus / name).write_bytes(data)
    print(f"wrote {len(files)} files to {args.data}, {len(seeds)} seeds to {args.corpus}")


if __name__ == "__main__":
    main()
