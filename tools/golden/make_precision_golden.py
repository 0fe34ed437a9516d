#!/usr/bin/python3
"""Writes tests/data/precision/rounding_golden.bin: PyTorch's float32 -> bfloat16 and
float32 -> float16 rounding, the reference that libequiv/precision/{bf16,f16}.h must match
bit for bit.

Run with Debian's interpreter (python3-torch, python3-numpy):
    /usr/bin/python3 tools/golden/make_precision_golden.py [--output PATH]

Binary format, version 1, all integers little-endian:

  offset  size  field
  0       8     magic b"EQVROUND"
  8       4     u32 version (1)
  12      4     u32 header_size (128)
  16      8     u64 seed of the splitmix64 stream
  24      4     u32 edge_count E
  28      4     u32 uniform_count U
  32      4     u32 f16_range_count R
  36      4     u32 f16_range_exponent_min (biased float32 exponent, inclusive)
  40      4     u32 f16_range_exponent_max (inclusive)
  44      4     u32 digest_chunk_bits B (the 2^32 inputs are digested in 2^(32-B) chunks)
  48      16    reserved, zero
  64      64    provenance: ASCII, NUL padded ("torch 1.13.0 numpy 1.24.2 cpu AVX2")
  128     8*E   edge cases: u32 input bits, u16 torch bf16 bits, u16 torch f16 bits
  ...     4*U   uniform patterns: u16 bf16 bits, u16 f16 bits
  ...     4*R   f16-range patterns: u16 bf16 bits, u16 f16 bits
  ...     16*C  C = 2^(32-B) chunk digests: u64 bf16 digest, u64 f16 digest

The random inputs are not stored; they are outputs of splitmix64 (Steele et al.):
  state += 0x9E3779B97F4A7C15; z = state;
  z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9; z = (z ^ z >> 27) * 0x94D049BB133111EB;
  return z ^ z >> 31
with state starting at `seed`. Outputs 0..U-1 give the uniform patterns (input = z >> 32);
outputs U..U+R-1 give the f16-range patterns: lo = z & 0xFFFFFFFF, hi = z >> 32,
input = (lo & 0x807FFFFF) | (exponent_min + hi % (exponent_max - exponent_min + 1)) << 23.

The digests cover every one of the 2^32 inputs: chunk c holds inputs [c << B, (c+1) << B)
and its digest is sum(out(x) * w(x)) mod 2^64 over the non-NaN inputs x of the chunk, where
w(x) = splitmix64_output(x) | 1, the x-th output of the stream above (odd, so any single
wrong output changes the digest). NaN inputs are left out because PyTorch's NaN bits depend
on the code path (its AVX2 bf16 kernel gives 0xFFFF, the scalar one 0x7FC0); they are kept
as explicit records in the edge cases instead.

Every result is also checked here against an independent reference (round to nearest even
from the definition for bf16, numpy's float16 for f16), and the stored sets against
PyTorch's scalar (strided-tensor) path; the script fails on any disagreement for a non-NaN
input.
"""

import argparse
import pathlib
import struct
import sys

import numpy as np
import torch

MAGIC = b"EQVROUND"
VERSION = 1
HEADER_SIZE = 128
SEED = 0x6571756976  # "equiv"
UNIFORM_COUNT = 1 << 20
F16_RANGE_COUNT = 1 << 20
# 2^-27 .. 2^18: from below f16's rounding-to-zero point (2^-25) to past its overflow (65520).
F16_RANGE_EXPONENT_MIN = 100
F16_RANGE_EXPONENT_MAX = 145
DIGEST_CHUNK_BITS = 24

GAMMA = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)


def splitmix64(first, count, seed=SEED):
    """Outputs first..first+count-1 of the splitmix64 stream, as uint64."""
    index = np.arange(first + 1, first + count + 1, dtype=np.uint64)
    z = np.uint64(seed) + index * GAMMA
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    return z ^ (z >> np.uint64(31))


def uniform_inputs():
    return (splitmix64(0, UNIFORM_COUNT) >> np.uint64(32)).astype(np.uint32)


def f16_range_inputs():
    z = splitmix64(UNIFORM_COUNT, F16_RANGE_COUNT)
    lo = (z & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    hi = z >> np.uint64(32)
    span = np.uint64(F16_RANGE_EXPONENT_MAX - F16_RANGE_EXPONENT_MIN + 1)
    exponent = (np.uint64(F16_RANGE_EXPONENT_MIN) + hi % span).astype(np.uint32)
    return (lo & np.uint32(0x807FFFFF)) | (exponent << np.uint32(23))


def edge_inputs():
    """Hand-picked inputs; order is kept, duplicates removed."""
    cases = []
    add = cases.append
    # Zeros, subnormals, extremes, infinities, ordinary values.
    for bits in (0x00000000, 0x00000001, 0x00000002, 0x007FFFFF, 0x00400000, 0x00800000,
                 0x00800001, 0x7F7FFFFF, 0x7F7F0000, 0x7F800000, 0x3F800000, 0x3DCCCCCD,
                 0x40490FDB, 0x402DF854, 0x4B800000, 0x4B800001, 0x3EAAAAAB):
        add(bits)
    # bf16 keeps the top 16 bits: around the halfway point 0x8000 of the dropped half, for
    # every exponent and for kept mantissas that are even, odd, and all ones (the last one
    # carries into the next binade, and at exponent 254 into infinity).
    for exponent in range(0, 255):
        for kept in (0x00, 0x01, 0x02, 0x3F, 0x40, 0x7E, 0x7F):
            high = (exponent << 23) | (kept << 16)
            for low in (0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF):
                add(high | low)
    # f16 normals keep 10 of 23 mantissa bits: around the halfway point 0x1000 of the 13
    # dropped bits, for every f16 exponent (float exponents 113..142) and the neighbours.
    for exponent in range(110, 146):
        for kept in (0x000, 0x001, 0x002, 0x155, 0x1FF, 0x200, 0x3FE, 0x3FF):
            high = (exponent << 23) | (kept << 13)
            for low in (0x0000, 0x0001, 0x0FFF, 0x1000, 0x1001, 0x1FFF):
                add(high | low)
    # f16 overflow: 65504 is the largest f16, 65520 is halfway to 2^16 and rounds to inf.
    for value in (65504.0, 65519.99, 65520.0, 65536.0, 1e5, 3.4e38, 65503.99, 65505.0):
        add(struct.unpack("<I", struct.pack("<f", value))[0])
    for bits in (0x477FE000, 0x477FEFFF, 0x477FF000, 0x477FF001, 0x477FFFFF, 0x47800000):
        add(bits)
    # f16 subnormals: every k * 2^-24 and every halfway (k + 1/2) * 2^-24 for k = 0..1023,
    # each with its float neighbours; (1023 + 1/2) * 2^-24 rounds up to 2^-14, the smallest
    # f16 normal; 2^-25 is the halfway point to zero.
    for k in range(0, 1025):
        for twice in (2 * k, 2 * k + 1):
            if twice == 0:
                continue
            bits = struct.unpack("<I", struct.pack("<f", twice * 2.0**-25))[0]
            for delta in (-1, 0, 1):
                add(bits + delta)
    for value in (2.0**-14, 2.0**-24, 2.0**-25, 2.0**-26, 3 * 2.0**-25, 2.0**-14 - 2.0**-25,
                  2.0**-14 - 2.0**-24, 1e-8, 1e-10, 1e-30):
        add(struct.unpack("<I", struct.pack("<f", value))[0])
    # NaNs: quiet, signalling (smallest and largest payloads), payloads that live only in
    # the bits bf16 or f16 drop (a naive rounding turns those into infinity), negatives.
    for bits in (0x7FC00000, 0x7FC00001, 0x7FFFFFFF, 0x7F800001, 0x7F800002, 0x7F807FFF,
                 0x7F808000, 0x7F80FFFF, 0x7F801000, 0x7F800FFF, 0x7F802000, 0x7FBFFFFF,
                 0x7FA00000, 0x7F810000, 0x7FFF0000):
        add(bits)
    # Every case also with the sign bit set.
    cases += [bits | 0x80000000 for bits in cases]
    return np.array(list(dict.fromkeys(cases)), dtype=np.uint32)


def torch_round(inputs, dtype):
    """PyTorch's conversion of float32 bit patterns, as uint16 bit patterns."""
    floats = torch.from_numpy(inputs.view(np.float32))
    return floats.to(dtype).view(torch.int16).numpy().view(np.uint16)


def check_strided_path(inputs, bf16, f16, what):
    """A strided tensor takes PyTorch's scalar loop instead of its vectorised kernel; the two
    must agree on every non-NaN input (they differ on NaN bits: 0x7FC0 against 0xFFFF)."""
    spread = np.zeros(2 * inputs.size, dtype=np.uint32)
    spread[::2] = inputs
    strided = torch.from_numpy(spread.view(np.float32))[::2]
    not_nan = (inputs & np.uint32(0x7FFFFFFF)) <= np.uint32(0x7F800000)
    for name, dtype, contiguous in (("bf16", torch.bfloat16, bf16), ("f16", torch.float16, f16)):
        scalar = strided.to(dtype).contiguous().view(torch.int16).numpy().view(np.uint16)
        bad = np.count_nonzero(not_nan & (scalar != contiguous))
        if bad:
            sys.exit(f"{what}: torch's strided and contiguous {name} conversions disagree on "
                     f"{bad} non-NaN inputs")


def reference_bf16(inputs):
    """Round to nearest even from the definition: pick the nearer of the two bf16 values
    around |x| (exact in float64), the even one on a tie. NaN inputs give 0."""
    with np.errstate(invalid="ignore"):  # signalling NaNs raise it on the cast to float64
        return _reference_bf16(inputs)


def _reference_bf16(inputs):
    magnitude = inputs & np.uint32(0x7FFFFFFF)
    below = magnitude & np.uint32(0xFFFF0000)
    exponent = (magnitude >> np.uint32(23)).astype(np.int32)
    ulp = np.ldexp(1.0, np.maximum(exponent, 1) - 127 - 7)
    low_value = below.view(np.float32).astype(np.float64)
    distance_low = magnitude.view(np.float32).astype(np.float64) - low_value
    up = (distance_low > ulp / 2) | ((distance_low == ulp / 2) & (((below >> 16) & 1) == 1))
    result = (below >> np.uint32(16)) + up.astype(np.uint32)
    result |= (inputs >> np.uint32(16)) & np.uint32(0x8000)
    finite = magnitude < np.uint32(0x7F800000)
    result = np.where(finite, result, inputs >> np.uint32(16))
    return np.where(magnitude > np.uint32(0x7F800000), 0, result).astype(np.uint16)


def reference_f16(inputs):
    with np.errstate(over="ignore", invalid="ignore"):
        return inputs.view(np.float32).astype(np.float16).view(np.uint16)


def check_against_reference(inputs, bf16, f16, what):
    not_nan = (inputs & np.uint32(0x7FFFFFFF)) <= np.uint32(0x7F800000)
    for name, got, reference in (("bf16", bf16, reference_bf16(inputs)),
                                 ("f16", f16, reference_f16(inputs))):
        bad = np.nonzero(not_nan & (got != reference))[0]
        if bad.size:
            examples = ", ".join(f"{inputs[i]:#010x}: torch {got[i]:#06x} reference "
                                 f"{reference[i]:#06x}" for i in bad[:5])
            sys.exit(f"{what}: torch {name} disagrees with the reference on {bad.size} "
                     f"inputs, e.g. {examples}")
    # NaN must stay NaN.
    nan = ~not_nan
    for name, got, exponent_mask in (("bf16", bf16, 0x7F80), ("f16", f16, 0x7C00)):
        mantissa_mask = 0x7FFF & ~exponent_mask
        is_nan = ((got & exponent_mask) == exponent_mask) & ((got & mantissa_mask) != 0)
        if np.any(nan & ~is_nan):
            sys.exit(f"{what}: torch {name} turned a NaN into a non-NaN")


def digest(values, weights, keep):
    return int(np.sum(np.where(keep, values.astype(np.uint64) * weights, np.uint64(0)),
                      dtype=np.uint64))


def chunk_digests():
    """(bf16 digest, f16 digest) per chunk of 2^DIGEST_CHUNK_BITS consecutive inputs."""
    size = 1 << DIGEST_CHUNK_BITS
    block = min(size, 1 << 20)  # small blocks: far less time spent faulting in fresh memory
    digests = []
    for chunk in range(1 << (32 - DIGEST_CHUNK_BITS)):
        bf16_digest = f16_digest = 0
        for first in range(chunk * size, (chunk + 1) * size, block):
            inputs = np.arange(first, first + block, dtype=np.uint32)
            bf16 = torch_round(inputs, torch.bfloat16)
            f16 = torch_round(inputs, torch.float16)
            check_against_reference(inputs, bf16, f16, f"inputs from {first:#010x}")
            weights = splitmix64(first, block) | np.uint64(1)
            keep = (inputs & np.uint32(0x7FFFFFFF)) <= np.uint32(0x7F800000)
            bf16_digest = (bf16_digest + digest(bf16, weights, keep)) % (1 << 64)
            f16_digest = (f16_digest + digest(f16, weights, keep)) % (1 << 64)
        digests.append((bf16_digest, f16_digest))
        if chunk % 32 == 31:
            print(f"  digested {chunk + 1} of {1 << (32 - DIGEST_CHUNK_BITS)} chunks",
                  flush=True)
    return digests


def main():
    repo = pathlib.Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=pathlib.Path,
                        default=repo / "tests/data/precision/rounding_golden.bin")
    args = parser.parse_args()
    torch.set_flush_denormal(False)

    sections = []
    for name, inputs in (("edge", edge_inputs()), ("uniform", uniform_inputs()),
                         ("f16 range", f16_range_inputs())):
        bf16 = torch_round(inputs, torch.bfloat16)
        f16 = torch_round(inputs, torch.float16)
        check_against_reference(inputs, bf16, f16, name)
        check_strided_path(inputs, bf16, f16, name)
        sections.append((inputs, bf16, f16))
        print(f"{name}: {inputs.size} inputs", flush=True)
    digests = chunk_digests()

    capability = torch.__config__.show().split("CPU capability usage: ")[-1].split("\n")[0]
    provenance = f"torch {torch.__version__} numpy {np.__version__} cpu {capability}"
    (edge, edge_bf16, edge_f16), uniform, f16_range = sections
    header = struct.pack("<8sIIQIIIIII16s64s", MAGIC, VERSION, HEADER_SIZE, SEED, edge.size,
                         uniform[0].size, f16_range[0].size, F16_RANGE_EXPONENT_MIN,
                         F16_RANGE_EXPONENT_MAX, DIGEST_CHUNK_BITS, b"",
                         provenance.encode("ascii"))
    assert len(header) == HEADER_SIZE

    edge_records = np.zeros(edge.size, dtype=[("x", "<u4"), ("bf16", "<u2"), ("f16", "<u2")])
    edge_records["x"], edge_records["bf16"], edge_records["f16"] = edge, edge_bf16, edge_f16
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "wb") as out:
        out.write(header)
        out.write(edge_records.tobytes())
        for _, bf16, f16 in (uniform, f16_range):
            pairs = np.zeros(bf16.size, dtype=[("bf16", "<u2"), ("f16", "<u2")])
            pairs["bf16"], pairs["f16"] = bf16, f16
            out.write(pairs.tobytes())
        out.write(np.array(digests, dtype="<u8").tobytes())
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes): {edge.size} edge cases, "
          f"{uniform[0].size} uniform, {f16_range[0].size} f16-range, {len(digests)} digests; "
          f"{provenance}")


if __name__ == "__main__":
    main()
