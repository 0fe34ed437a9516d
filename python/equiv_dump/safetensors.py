"""safetensors files with numpy only (the safetensors package is not in Debian).

The format: an 8-byte little-endian header length N, N bytes of JSON
``{"__metadata__": {str: str}, NAME: {"dtype", "shape", "data_offsets": [begin, end]}}``
padded with spaces to a multiple of 8, then the tensors' bytes. The layout is the reference
writer's, as equiv's own writer (libequiv/io/safetensors.h): tensors ordered by dtype (I64,
F64, F32, I32, BF16, F16, U8, BOOL: element sizes never increase, so every tensor is aligned),
then by name; "__metadata__" first with sorted keys.

numpy has no bfloat16: a bf16 tensor is written from a torch.bfloat16 tensor, or from
``Bf16(bits)`` holding its 16-bit patterns (``bf16_bits(x)`` rounds float32 values to them,
round to nearest even as torch does). Read back, BF16 tensors are widened to float32 exactly.
"""

import json
import os
import struct

from . import _deps

np = _deps.numpy()

# dtype name -> numpy dtype (BF16: its bits), in the writer's order.
_DTYPES = {
    "I64": np.dtype("<i8"),
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "I32": np.dtype("<i4"),
    "BF16": np.dtype("<u2"),
    "F16": np.dtype("<f2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_ORDER = {name: i for i, name in enumerate(_DTYPES)}
_FROM_NUMPY = {np.dtype(v).str: k for k, v in _DTYPES.items() if k != "BF16"}
MAX_HEADER_BYTES = 100_000_000


class Bf16:
    """A bfloat16 array as its 16-bit patterns (numpy uint16), for the writer."""

    def __init__(self, bits):
        bits = np.asarray(bits)
        if bits.dtype != np.uint16:
            raise TypeError(f"Bf16 holds uint16 bit patterns, not {bits.dtype}; "
                            "round float values with bf16_bits(x)")
        self.bits = bits

    @property
    def shape(self):
        return self.bits.shape

    def to_float32(self):
        return widen_bf16(self.bits)


def bf16_bits(values):
    """float values -> bf16 bit patterns (uint16), round to nearest even; NaN -> 0x7FC0."""
    x = np.ascontiguousarray(values, dtype=np.float32)
    bits = x.view(np.uint32)
    rounded = ((bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
               >> np.uint32(16)).astype(np.uint16)
    rounded[np.isnan(x)] = 0x7FC0  # as equiv's core; torch's NaN bits depend on its code path
    return rounded


def widen_bf16(bits):
    """bf16 bit patterns -> float32, exactly."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def _contiguous(a):
    """Row-major (np.ascontiguousarray would make a 0-d array 1-d)."""
    return a if a.flags.c_contiguous else a.copy(order="C")


def _as_array(name, value):
    """(dtype name, contiguous little-endian numpy array) of a writer input."""
    if isinstance(value, Bf16):
        return "BF16", _contiguous(value.bits.astype("<u2", copy=False))
    if type(value).__module__.startswith("torch"):
        torch = _deps.torch()
        t = value.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            return "BF16", t.view(torch.int16).numpy().view("<u2")
        value = t.numpy()
    a = np.asarray(value)
    if a.dtype.kind == "f" and a.dtype.itemsize == 2:
        a = a.astype("<f2")
    elif a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    key = a.dtype.str if a.dtype.kind != "b" else np.dtype("?").str
    if key not in _FROM_NUMPY:
        raise TypeError(f"tensor {name!r}: dtype {a.dtype} has no safetensors type here "
                        f"(supported: float64/32/16, bfloat16, int64/32, uint8, bool)")
    return _FROM_NUMPY[key], _contiguous(a)


def serialize_safetensors(tensors, metadata=None):
    """The bytes of a safetensors file: `tensors` maps names to numpy arrays, torch tensors or
    Bf16; `metadata` maps strings to strings."""
    metadata = dict(metadata or {})
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"metadata {key!r}: keys and values must be str, not "
                            f"{type(key).__name__}: {type(value).__name__}")
    entries = []
    for name, value in tensors.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"tensor name {name!r}: expected a non-empty str")
        if name == "__metadata__":
            raise ValueError("tensor name '__metadata__' is reserved for the metadata")
        dtype, array = _as_array(name, value)
        entries.append((_ORDER[dtype], name, dtype, array))
    entries.sort(key=lambda e: (e[0], e[1]))
    header = {}
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    offset, blobs = 0, []
    for _, name, dtype, array in entries:
        data = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def write_safetensors(path, tensors, metadata=None):
    """Writes `tensors` (see serialize_safetensors) atomically: a temporary file in the same
    directory, flushed, then renamed over `path`."""
    data = serialize_safetensors(tensors, metadata)
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class SafetensorsDump:
    """What read_safetensors returns: tensors (numpy; BF16 widened to float32), their dtype
    names as stored, and the metadata."""

    def __init__(self, tensors, dtypes, metadata):
        self.tensors, self.dtypes, self.metadata = tensors, dtypes, metadata

    def __getitem__(self, name):
        return self.tensors[name]

    def __contains__(self, name):
        return name in self.tensors

    def names(self):
        return list(self.tensors)


def read_safetensors(path):
    """Reads a safetensors file (checking the header's offsets tile the data); raises
    ValueError naming the path and the tensor for a malformed file."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: {len(data)} bytes, too short for a safetensors header")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} is past the end of the file or too large")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None) or {}
    body = memoryview(data)[8 + n:]
    tensors, dtypes, end = {}, {}, 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        dtype = e["dtype"]
        if dtype not in _DTYPES:
            raise ValueError(f"{path}: tensor {name!r}: dtype {dtype} is not one of "
                             f"{', '.join(_DTYPES)}")
        begin, stop = e["data_offsets"]
        count = int(np.prod(e["shape"], dtype=np.int64))
        if begin != end or stop - begin != count * _DTYPES[dtype].itemsize or stop > len(body):
            raise ValueError(f"{path}: tensor {name!r}: data_offsets [{begin}, {stop}] do not "
                             f"follow the previous tensor (ending at {end}) or do not fit "
                             f"{dtype} {e['shape']}")
        array = np.frombuffer(body[begin:stop], dtype=_DTYPES[dtype]).reshape(e["shape"]).copy()
        tensors[name] = widen_bf16(array) if dtype == "BF16" else array
        dtypes[name] = dtype
        end = stop
    if end != len(body):
        raise ValueError(f"{path}: {len(body) - end} bytes after the last tensor")
    return SafetensorsDump(tensors, dtypes, metadata)
