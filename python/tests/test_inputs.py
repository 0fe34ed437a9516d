"""load_inputs() and feed(): the layout `equiv inputs` writes, fed to a reference and a port."""

import os
import unittest

import numpy as np
import torch

import equiv_cli
import equiv_dump
from support import TinyLlamaCase
from equiv_dump.safetensors import read_safetensors
from tiny_llama import HIDDEN, VOCAB, TinyLlama


def write_inputs(root):
    """A folder as `equiv inputs` writes it, with the extra files a reader must ignore."""
    rng = np.random.default_rng(1)

    def save(rel, array):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.save(path, array)

    save("mlp/normal/hidden.npy", rng.standard_normal((16, HIDDEN), dtype=np.float32))
    save("mlp/outlier_channels/hidden.npy", 30 * rng.standard_normal((1, 16, HIDDEN),
                                                                     dtype=np.float32))
    save("attention/long_sequence/hidden.npy", rng.standard_normal((96, HIDDEN), dtype=np.float32))
    save("attention/long_sequence/positions.npy", np.arange(96, dtype=np.int64))
    save("attention/normal/hidden.npy", rng.standard_normal((16, HIDDEN), dtype=np.float32))
    save("embedding/normal/ids.npy", rng.integers(0, VOCAB, 16).astype(np.int32))
    for extra in ("inputs.json", "README.md", "mlp/notes.txt", "attention/normal/seed.txt"):
        with open(os.path.join(root, extra), "w") as f:
            f.write("{}\n")
    os.makedirs(os.path.join(root, "mlp", "empty"))
    os.makedirs(os.path.join(root, "future_component", "normal"))
    save("future_component/normal/other.npy", np.zeros(3))


class InputsTest(TinyLlamaCase):
    def setUp(self):
        super().setUp()
        self.inputs = self.path("inputs")
        write_inputs(self.inputs)

    def test_reads_the_layout_and_ignores_the_rest(self):
        items = equiv_dump.load_inputs(self.inputs)
        self.assertEqual([(i.component, i.kind) for i in items],
                         [("attention", "long_sequence"), ("attention", "normal"),
                          ("embedding", "normal"), ("mlp", "normal"), ("mlp", "outlier_channels")])
        long = items[0]
        self.assertEqual(long.hidden.shape, (96, HIDDEN))
        self.assertEqual(long.positions.dtype, np.int64)
        self.assertEqual(items[2].ids.dtype, np.int64)  # int32 widened
        self.assertEqual(items[4].hidden.shape, (16, HIDDEN))  # a batch of 1 squeezed

    def test_malformed_inputs_name_the_file(self):
        bad = os.path.join(self.inputs, "mlp", "normal")
        np.save(os.path.join(bad, "hidden.npy"), np.zeros(5, np.float32))
        with self.assertRaisesRegex(ValueError, "mlp/normal/hidden.npy: hidden is float32 \\[5\\], "
                                                "expected floating \\[n, features\\]"):
            equiv_dump.load_inputs(self.inputs)
        np.save(os.path.join(bad, "hidden.npy"), np.zeros((4, HIDDEN), np.float32))
        np.save(os.path.join(bad, "positions.npy"), np.arange(3))
        with self.assertRaisesRegex(ValueError, "positions.npy: 3 positions for 4 rows"):
            equiv_dump.load_inputs(self.inputs)
        with self.assertRaisesRegex(FileNotFoundError, "not a folder of inputs"):
            equiv_dump.load_inputs(self.path("none"))

    def feed(self, bug=None, paths=("model.embed_tokens", "model.layers.0.self_attn",
                                     "model.layers.1.mlp")):
        port = TinyLlama.port_of(self.reference, bug)
        triples = equiv_dump.feed(self.reference, port, list(paths), self.inputs)
        path = self.path(f"fed_{bug}.safetensors")
        equiv_dump.write_dump(path, triples)
        return path, triples

    def test_feeds_every_input_kind_of_each_component(self):
        path, triples = self.feed()
        self.assertEqual([t.name for t in triples],
                         ["model.embed_tokens/normal", "model.layers.0.self_attn/long_sequence",
                          "model.layers.0.self_attn/normal", "model.layers.1.mlp/normal",
                          "model.layers.1.mlp/outlier_channels"])
        for t in triples:
            self.assertTrue(torch.equal(t.target, t.ref_bf16), t.name)
        long = triples[1]
        self.assertEqual((long.component, long.layer, long.input_kind),
                         ("attention", 0, "long_sequence"))
        self.assertEqual(long.positions, list(range(96)))
        self.assertEqual(read_safetensors(path)["model.layers.0.self_attn/long_sequence.target"]
                         .shape, (96, HIDDEN))

    def test_a_call_for_modules_of_another_signature(self):
        seen = []

        def call(module, x, positions):
            seen.append((x.dtype, positions is None))
            return module(x)

        port = TinyLlama.port_of(self.reference)
        equiv_dump.feed(self.reference, port, ["model.layers.0.mlp"], self.inputs,
                        call={"mlp": call}, kinds=["normal"])
        self.assertEqual(seen, [(torch.float32, True), (torch.bfloat16, True),
                                (torch.bfloat16, True)])
        with self.assertRaisesRegex(ValueError, "model.norm: no inputs for component 'final_norm' "
                                                "\\(there are: attention/long_sequence, "):
            equiv_dump.feed(self.reference, port, ["model.norm"], self.inputs)

    def test_equiv_compare_judges_the_fed_dump(self):
        code, out, err = equiv_cli.run("compare", self.feed()[0])
        self.assertEqual(code, 0, out + err)
        code, out, err = equiv_cli.run("compare", self.feed("rope_interleaved")[0])
        self.assertEqual(code, 1, out + err)
        rows = {line.split()[0]: line.split()[-1] for line in out.splitlines()[1:6]}
        self.assertEqual(rows, {"model.embed_tokens/normal": "PASS",
                                "model.layers.0.self_attn/long_sequence": "FAIL",
                                "model.layers.0.self_attn/normal": "FAIL",
                                "model.layers.1.mlp/normal": "PASS",
                                "model.layers.1.mlp/outlier_channels": "PASS"})


if __name__ == "__main__":
    unittest.main()
