"""capture() and write_dump(): triples from a reference and a port, checked by `equiv compare`."""

import json
import unittest

import torch

import equiv_cli
import equiv_dump
from support import TinyLlamaCase
from equiv_dump.safetensors import read_safetensors
from equiv_dump.triples import Recorder, _hooks_see_kwargs
from tiny_llama import HIDDEN, VOCAB, TinyLlama

PATHS = ["model.embed_tokens", "model.layers.0.input_layernorm", "model.layers.0.self_attn.q_proj",
         "model.layers.0.self_attn", "model.layers.0.post_attention_layernorm",
         "model.layers.0.mlp", "model.layers.0", "model.norm", "lm_head", ""]
N = 24


def ids(n=N, seed=3):
    return torch.randint(0, VOCAB, (1, n), generator=torch.Generator().manual_seed(seed))


class CaptureTest(TinyLlamaCase):

    def dump(self, bug=None, paths=PATHS, **kwargs):
        port = TinyLlama.port_of(self.reference, bug)
        triples = equiv_dump.capture(self.reference, port, paths, ids(), **kwargs)
        path = self.path(f"{bug}.safetensors")
        equiv_dump.write_dump(path, triples)
        return path, triples

    def test_a_faithful_port_gives_the_bf16_reference_exactly(self):
        _, triples = self.dump()
        self.assertEqual([t.name for t in triples], PATHS[:-1] + ["causal_lm"])
        for t in triples:
            self.assertEqual(t.ref_fp32.dtype, torch.float32, t.name)
            self.assertEqual(t.ref_bf16.dtype, torch.bfloat16, t.name)
            self.assertTrue(torch.equal(t.target, t.ref_bf16), t.name)
            self.assertFalse(torch.equal(t.ref_fp32, t.ref_bf16.float()), t.name)

    def test_the_dump_is_what_equiv_reads(self):
        path, triples = self.dump()
        dump = read_safetensors(path)
        attn = "model.layers.0.self_attn"
        self.assertEqual(dump.dtypes[f"{attn}.ref_fp32"], "F32")
        self.assertEqual(dump.dtypes[f"{attn}.ref_bf16"], "BF16")
        self.assertEqual(dump.dtypes[f"{attn}.target"], "BF16")
        self.assertEqual(dump[f"{attn}.target"].shape, (N, HIDDEN))  # the batch of 1 squeezed
        self.assertEqual(dump[f"{attn}.input"].shape, (N, HIDDEN))
        self.assertEqual(dump.dtypes["model.embed_tokens.input"], "I64")
        self.assertEqual(dump.metadata["equiv.schema"], "equiv.dump")
        meta = json.loads(dump.metadata[f"equiv.triple.{attn}"])
        self.assertEqual(meta, {"module_path": attn, "component": "attention", "layer": 0,
                                "input_kind": "captured", "positions": None})
        whole = json.loads(dump.metadata["equiv.triple.causal_lm"])
        self.assertEqual((whole["module_path"], whole["component"]), ("", "causal_lm"))

    def test_positions_come_from_position_ids(self):
        port = TinyLlama.port_of(self.reference)
        position_ids = torch.arange(5, 5 + N)[None]
        triples = equiv_dump.capture(self.reference, port, ["model.layers.0.mlp", ""], ids(),
                                     position_ids=position_ids)
        self.assertEqual(triples[1].positions, list(range(5, 5 + N)))
        self.assertIsNone(triples[0].positions)  # the mlp was not given position_ids

    def test_equiv_compare_passes_a_faithful_port(self):
        path, _ = self.dump()
        code, out, err = equiv_cli.run("compare", path)
        self.assertEqual(code, 0, out + err)
        self.assertIn("10 compared: 10 passed, 0 failed", out)

    def test_equiv_compare_fails_a_rope_layout_bug_in_self_attn(self):
        path, _ = self.dump("rope_interleaved")
        code, out, err = equiv_cli.run("compare", path)
        self.assertEqual(code, 1, out + err)
        rows = {line.split()[0]: line.split()[-1] for line in out.splitlines()[1:11]}
        self.assertEqual(rows["model.layers.0.self_attn"], "FAIL")
        self.assertEqual(rows["model.layers.0.self_attn.q_proj"], "PASS")  # before the rotation
        self.assertEqual(rows["model.layers.0.mlp"], "PASS")  # fed the same input: isolated
        self.assertEqual(rows["lm_head"], "PASS")

    def test_keyword_arguments_are_captured_and_replayed(self):
        class Calls(torch.nn.Module):  # calls its layer with keywords, as HF models do
            def __init__(self, inner):
                super().__init__()
                self.model = inner.model
                self.lm_head = inner.lm_head

            def forward(self, input_ids):
                h = self.model.embed_tokens(input_ids)
                h = self.model.layers[0](x=h, positions=torch.arange(N)[None])
                return self.lm_head(h)

        reference = Calls(self.reference)
        port = Calls(TinyLlama.port_of(self.reference))
        (t,) = equiv_dump.capture(reference, port, ["model.layers.0"], ids(), hooks=False)
        self.assertEqual(t.positions, None)
        self.assertEqual(tuple(t.input.shape), (1, N, HIDDEN))
        self.assertTrue(torch.equal(t.target, t.ref_bf16))

    def test_the_recorder_leaves_the_model_as_it_was(self):
        module = self.reference.model.layers[0].mlp
        with Recorder(self.reference, ["model.layers.0.mlp"], hooks=False) as recorder:
            self.assertIn("forward", module.__dict__)
            with torch.no_grad():
                self.reference(ids())
        self.assertNotIn("forward", module.__dict__)
        self.assertEqual(len(recorder.calls["model.layers.0.mlp"]), 1)
        with self.assertRaisesRegex(KeyError, "'model.layers.0.mpl' is not a module path of "
                                              "the reference"):
            with Recorder(self.reference, ["model.layers.0.mlp", "model.layers.0.mpl"], False):
                pass
        self.assertNotIn("forward", module.__dict__)  # undone on the error too

    def test_torch_hooks_when_torch_has_them(self):
        if not _hooks_see_kwargs():
            with self.assertRaisesRegex(RuntimeError, "no forward hooks with keyword arguments"):
                Recorder(self.reference, ["lm_head"], hooks=True)
            self.skipTest(f"torch {torch.__version__}: forward hooks without keyword arguments; "
                          "the forward wrapper is used")
        _, with_hooks = self.dump(hooks=True)
        _, wrapped = self.dump(hooks=False)
        for a, b in zip(with_hooks, wrapped):
            self.assertTrue(torch.equal(a.ref_fp32, b.ref_fp32), a.name)

    def test_a_port_of_another_structure_through_port_paths(self):
        port = TinyLlama.port_of(self.reference)
        fused = {"model.layers.0.mlp": lambda x: port.model.layers[0].mlp(x),
                  "model.norm": port.model.norm}
        triples = equiv_dump.capture(self.reference, lambda i: None, ["model.layers.0.mlp",
                                                                     "model.norm"], ids(),
                                     port_paths=fused)
        self.assertTrue(torch.equal(triples[0].target, triples[0].ref_bf16))
        with self.assertRaisesRegex(TypeError, "the port is a function, not a torch module"):
            equiv_dump.capture(self.reference, lambda i: None, ["model.layers.0.mlp"], ids())

    def test_a_module_called_twice_is_refused(self):
        class Twice(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.lm_head = inner.lm_head

            def forward(self, h):
                return self.lm_head(self.lm_head(h) @ self.lm_head.weight)

        with self.assertRaisesRegex(RuntimeError, "lm_head: the reference run called this "
                                                  "module 2 times"):
            equiv_dump.capture(Twice(self.reference), None, ["lm_head"], torch.randn(1, 3, HIDDEN))


if __name__ == "__main__":
    unittest.main()
