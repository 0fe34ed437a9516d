"""The numpy-only safetensors writer and reader of equiv_dump."""

import json
import os
import struct
import unittest

import numpy as np
import torch

from support import TempDirCase
from equiv_dump.safetensors import (Bf16, bf16_bits, read_safetensors, serialize_safetensors,
                                    widen_bf16, write_safetensors)


def header_of(data):
    (n,) = struct.unpack("<Q", data[:8])
    return n, json.loads(data[8:8 + n])


class SafetensorsTest(TempDirCase):
    def test_every_dtype_round_trips_bit_for_bit(self):
        special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 3.4e38], dtype=np.float32)
        tensors = {
            "f64": np.arange(6, dtype=np.float64).reshape(2, 3) / 7,
            "f32": special,
            "f16": np.array([1.5, -2.0, 65504.0], dtype=np.float16),
            "bf16": Bf16(bf16_bits(special)),
            "i64": np.array([-(2 ** 62), 7], dtype=np.int64),
            "i32": np.array([[1, -2]], dtype=np.int32),
            "u8": np.array([0, 255], dtype=np.uint8),
            "bool": np.array([True, False]),
            "scalar": np.float32(2.5),
            "empty": np.zeros((0, 4), dtype=np.float32),
        }
        write_safetensors(self.path("all.safetensors"), tensors, {"b": "2", "a": "1"})
        back = read_safetensors(self.path("all.safetensors"))
        self.assertEqual(back.metadata, {"a": "1", "b": "2"})
        self.assertEqual(back.dtypes, {"f64": "F64", "f32": "F32", "f16": "F16", "bf16": "BF16",
                                       "i64": "I64", "i32": "I32", "u8": "U8", "bool": "BOOL",
                                       "scalar": "F32", "empty": "F32"})
        for name, value in tensors.items():
            expected = value.to_float32() if isinstance(value, Bf16) else np.asarray(value)
            self.assertEqual(back[name].shape, expected.shape, name)
            np.testing.assert_array_equal(back[name].reshape(-1).view(np.uint8),
                                          expected.reshape(-1).view(np.uint8), err_msg=name)

    def test_layout_is_the_reference_writers(self):
        data = serialize_safetensors({"b": np.zeros(3, np.float16), "a": np.zeros(1, np.int64),
                                      "c": np.zeros(2, np.float32), "d": np.zeros(1, np.bool_),
                                      "e": Bf16(np.zeros(1, np.uint16))}, {"producer": "t"})
        n, header = header_of(data)
        self.assertEqual(n % 8, 0)
        self.assertEqual(list(header), ["__metadata__", "a", "c", "e", "b", "d"])
        text = data[8:8 + n].decode()
        self.assertTrue(text.startswith('{"__metadata__":{"producer":"t"},"a":{"dtype":"I64"'))
        for name, entry in header.items():
            if name != "__metadata__":
                size = {"I64": 8, "F32": 4, "BF16": 2, "F16": 2, "BOOL": 1}[entry["dtype"]]
                self.assertEqual(entry["data_offsets"][0] % size, 0, name)

    def test_bf16_rounding_matches_torch(self):
        x = torch.cat([torch.randn(10000, generator=torch.Generator().manual_seed(1)) * 100,
                       torch.tensor([0.0, -0.0, float("inf"), -float("inf"), float("nan"),
                                     3.4e38, 1e-40, 1.00390625, 1.01171875])])
        expected = x.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
        nan = torch.isnan(x).numpy()
        np.testing.assert_array_equal(bf16_bits(x.numpy())[~nan], expected[~nan])
        # Every NaN is 0x7FC0, as in equiv's core: torch's own NaN bits depend on its code path.
        np.testing.assert_array_equal(bf16_bits(x.numpy())[nan], [0x7FC0])
        np.testing.assert_array_equal(widen_bf16(expected)[~nan].view(np.uint32),
                                      x.to(torch.bfloat16).float().numpy()[~nan].view(np.uint32))

    def test_torch_tensors_keep_their_dtype(self):
        t = torch.randn(3, 5).to(torch.bfloat16)
        write_safetensors(self.path("t.safetensors"),
                          {"bf16": t, "f32": t.float().t(), "ids": torch.arange(4)})
        back = read_safetensors(self.path("t.safetensors"))
        self.assertEqual(back.dtypes, {"bf16": "BF16", "f32": "F32", "ids": "I64"})
        np.testing.assert_array_equal(back["bf16"], t.float().numpy())
        np.testing.assert_array_equal(back["f32"], t.float().t().numpy())  # made contiguous

    def test_bad_input_is_refused_with_the_name(self):
        with self.assertRaisesRegex(ValueError, "reserved"):
            serialize_safetensors({"__metadata__": np.zeros(1)})
        with self.assertRaisesRegex(TypeError, "tensor 'c': dtype complex64"):
            serialize_safetensors({"c": np.zeros(1, np.complex64)})
        with self.assertRaisesRegex(TypeError, "metadata 'n'"):
            serialize_safetensors({}, {"n": 1})
        with self.assertRaisesRegex(TypeError, "uint16 bit patterns"):
            Bf16(np.zeros(2, np.float32))

    def test_writes_atomically_and_reads_strictly(self):
        path = self.path("x.safetensors")
        write_safetensors(path, {"x": np.ones(4, np.float32)})
        self.assertEqual(os.listdir(self.dir), ["x.safetensors"])
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[:-3])
        with self.assertRaisesRegex(ValueError, "tensor 'x': data_offsets"):
            read_safetensors(path)
        with open(path, "wb") as f:
            f.write(data + b"\0")
        with self.assertRaisesRegex(ValueError, "1 bytes after the last tensor"):
            read_safetensors(path)


if __name__ == "__main__":
    unittest.main()
