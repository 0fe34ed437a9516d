"""teacher_forced_dump(): per-prompt logits for `equiv teacher-forced`."""

import json
import unittest

import torch

import equiv_cli
import equiv_dump
from support import TinyLlamaCase
from equiv_dump.safetensors import read_safetensors
from tiny_llama import VOCAB, TinyLlama

PROMPTS = [[1, 2, 3, 4, 5, 6, 7, 8], [9, 8, 7, 6, 5, 4, 3, 2], [11, 12, 13, 14, 15, 16, 17, 18]]
NEW_TOKENS = 8


class TeacherForcedDumpTest(TinyLlamaCase):

    def dump(self, bug=None, **kwargs):
        path = self.path(f"logits_{bug}.safetensors")
        summary = equiv_dump.teacher_forced_dump(
            path, self.reference, TinyLlama.port_of(self.reference, bug), PROMPTS,
            new_tokens=NEW_TOKENS, model="tiny-llama-py", device="cpu-bf16", **kwargs)
        return path, summary

    def test_the_dump_holds_each_prompts_logits_and_teacher(self):
        path, summary = self.dump()
        n = len(PROMPTS[0]) + NEW_TOKENS - 1
        self.assertEqual(summary, {"prompts": 3, "positions": 3 * n, "vocab": VOCAB})
        dump = read_safetensors(path)
        self.assertEqual(dump.dtypes["prompt_0.ref_fp32"], "F32")
        self.assertEqual(dump.dtypes["prompt_0.ref_bf16"], "BF16")
        self.assertEqual(dump.dtypes["prompt_0.target"], "BF16")
        self.assertEqual(dump.dtypes["prompt_0.ids"], "I64")
        self.assertEqual(dump["prompt_2.target"].shape, (n, VOCAB))
        teacher = dump["prompt_1.ids"].tolist()
        self.assertEqual(teacher[:8], PROMPTS[1])
        self.assertEqual(len(teacher), n + 1)
        # The teacher continues the prompt greedily on the fp32 reference.
        with torch.no_grad():
            logits = self.reference(torch.tensor([teacher]))[0]
        self.assertEqual(teacher[8:], logits[7:-1].argmax(-1).tolist())
        self.assertEqual(dump.metadata["prompt_1.prompt_length"], "8")
        self.assertEqual((dump.metadata["model"], dump.metadata["device"],
                          dump.metadata["new_tokens"]), ("tiny-llama-py", "cpu-bf16", "8"))

    def test_without_ids(self):
        path, _ = self.dump(with_ids=False)
        dump = read_safetensors(path)
        self.assertEqual(sorted(dump.names()), sorted(f"prompt_{k}.{kind}" for k in range(3)
                                                      for kind in ("ref_fp32", "ref_bf16",
                                                                   "target")))
        self.assertNotIn("prompt_0.prompt_length", dump.metadata)
        code, out, err = equiv_cli.run("teacher-forced", path)
        self.assertEqual(code, 0, out + err)

    def test_the_port_call_sees_the_prompt_length(self):
        lengths = []

        def port_call(port, ids, prompt_length):
            lengths.append((ids.shape[1], prompt_length))
            return port(ids)

        self.dump(port_call=port_call)
        self.assertEqual(lengths, [(16, 8)] * 3)

    def test_too_few_rows_of_logits_are_refused(self):
        with self.assertRaisesRegex(ValueError, "prompt_0.target: 8 rows of logits for a teacher "
                                                "sequence of 16 ids \\(expected >= 15\\)"):
            self.dump(port_call=lambda port, ids, n: port(ids[:, :n]))

    def test_equiv_teacher_forced_passes_a_faithful_port(self):
        path, _ = self.dump()
        out_json = self.path("tf.json")
        code, out, err = equiv_cli.run("teacher-forced", path, "-o", out_json)
        self.assertEqual(code, 0, out + err)
        self.assertIn("(model tiny-llama-py, device cpu-bf16, 3 prompts, 45 positions, vocab 96)",
                      out)
        self.assertIn("PASS: every criterion holds", out)
        with open(out_json) as f:
            result = json.load(f)
        self.assertEqual(result["schema"], "equiv.teacher_forced")
        self.assertTrue(result["passed"])
        self.assertEqual(result["prompts"][0]["prompt"], PROMPTS[0])
        self.assertEqual(result["new_tokens"], NEW_TOKENS)

    def test_equiv_teacher_forced_fails_a_rope_layout_bug(self):
        path, _ = self.dump("rope_interleaved")
        code, out, err = equiv_cli.run("teacher-forced", path, "--json")
        self.assertEqual(code, 1, out + err)
        result = json.loads(out)
        self.assertFalse(result["passed"])
        self.assertEqual(result["failures"][0]["condition"], "r_ratio_p95")


if __name__ == "__main__":
    unittest.main()
