"""The new user's journey of issue 15, run as written in docs/dumps.md ("From a port in Python
to a CI gate"): a small PyTorch Llama (tiny_llama.py) with a faithful port and ports with a
RoPE-layout bug and a bf16-softmax bug; the inputs from `equiv inputs`; dumps from equiv_dump's
feed; one CTest suite per port from equiv_add_dump_suite, run by ctest --output-junit; the
localized report and its markdown summary; then a new dump, run with no rebuild.

Run by CTest as python.journey (label python). It needs torch, and from the build: the equiv
binary (EQUIV_BINARY), the dump suite's program (EQUIV_DUMP_SUITE), cmake and ctest
(EQUIV_CMAKE, EQUIV_CTEST) and the source tree (EQUIV_SOURCE_DIR); it skips without them.
Its folder is EQUIV_JOURNEY_DIR (kept for a look), else a temporary one.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ElementTree

import equiv_dump
from tiny_llama import HEAD_DIM, HEADS, HIDDEN, INTERMEDIATE, KV_HEADS, LAYERS, VOCAB, TinyLlama

ENV = {k: os.environ.get(k, "") for k in ("EQUIV_BINARY", "EQUIV_DUMP_SUITE", "EQUIV_CMAKE",
                                           "EQUIV_CTEST", "EQUIV_SOURCE_DIR")}
CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": HIDDEN,
          "intermediate_size": INTERMEDIATE, "num_hidden_layers": LAYERS,
          "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS, "head_dim": HEAD_DIM,
          "vocab_size": VOCAB, "max_position_embeddings": 512, "rms_norm_eps": 1e-5,
          "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": False}
PATHS = ["model.layers.0.input_layernorm", "model.layers.0.self_attn", "model.layers.0.mlp",
         "model.layers.0"]
PORTS = {"faithful": None, "rope": "rope_interleaved", "softmax": "softmax_bf16"}
CMAKE_LISTS = """cmake_minimum_required(VERSION 3.20)
project(journey NONE)
enable_testing()
# What find_package(equiv) gives an installed user: the program and the function.
add_executable(equiv::dump_suite IMPORTED)
set_target_properties(equiv::dump_suite PROPERTIES IMPORTED_LOCATION [==[{program}]==])
include([==[{source}/generators/EquivDumpSuite.cmake]==])
foreach(port faithful rope softmax)
  equiv_add_dump_suite(${{port}} DUMPS dumps/${{port}} CONFIG config.json
                       RESULTS results/${{port}}.json LABELS journey)
endforeach()
"""


def run(*args, cwd=None, expect=(0,)):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                       timeout=600)
    if p.returncode not in expect:
        raise AssertionError(f"{' '.join(map(str, args))}: exit {p.returncode}\n{p.stdout}\n"
                             f"{p.stderr}")
    return p


def junit(path):
    """{test name: (status, system-out)} of ctest's JUnit file."""
    cases = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        out = case.find("system-out")
        cases[case.get("name")] = (case.get("status"), out.text if out is not None else "")
    return cases


class JourneyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        missing = [k for k, v in ENV.items() if not v]
        if missing:
            raise unittest.SkipTest(f"{', '.join(missing)} not set (CTest's python.journey sets "
                                    "them)")
        cls.dir = os.environ.get("EQUIV_JOURNEY_DIR") or tempfile.mkdtemp(prefix="journey")
        shutil.rmtree(cls.dir, ignore_errors=True)
        os.makedirs(cls.dir)
        cls.times = {}
        d = cls.path

        def step(name, fn):
            start = time.monotonic()
            result = fn()
            cls.times[name] = time.monotonic() - start
            return result

        with open(d("config.json"), "w") as f:
            json.dump(CONFIG, f, indent=2)
        # 2. The suite's inputs for this config.
        cls.inputs_out = step("equiv inputs", lambda: run(
            ENV["EQUIV_BINARY"], "inputs", "--config", d("config.json"), "--out", d("inputs"),
            "--kinds", "normal,outlier_channels,long_sequence").stdout)
        # 3. Each port fed those inputs beside the reference, dumped with the package.
        reference = TinyLlama(seed=1)

        def dump(port_name, paths, file):
            port = TinyLlama.port_of(reference, PORTS[port_name])
            triples = equiv_dump.feed(reference, port, paths, d("inputs"))
            os.makedirs(d("dumps", port_name), exist_ok=True)
            equiv_dump.write_dump(d("dumps", port_name, file), triples)

        for name in PORTS:
            step(f"dump {name}", lambda name=name: dump(name, PATHS, "layer0.safetensors"))
        # 4. One CTest suite per port, run with the JUnit file a CI system reads.
        with open(d("CMakeLists.txt"), "w") as f:
            f.write(CMAKE_LISTS.format(program=ENV["EQUIV_DUMP_SUITE"],
                                       source=ENV["EQUIV_SOURCE_DIR"]))
        step("cmake", lambda: run(ENV["EQUIV_CMAKE"], "-S", cls.dir, "-B", d("build")))
        cls.ctest = step("ctest", lambda: run(
            ENV["EQUIV_CTEST"], "--test-dir", d("build"), "-j2", "--output-junit",
            d("junit.xml"), expect=(8,)))
        cls.junit = junit(d("junit.xml"))
        # 5. The report and the markdown summary of the failing ports.
        cls.markdown = {}
        for name in ("rope", "softmax"):
            cls.markdown[name] = step(f"report {name}", lambda name=name: run(
                ENV["EQUIV_BINARY"], "report", d("build", "results", f"{name}.json"), "--format",
                "markdown").stdout)
            run(ENV["EQUIV_BINARY"], "report", d("build", "results", f"{name}.json"), "--localize", "-o",
                d(f"{name}.html"))
        # A new dump: ctest lists it at its next run, with no cmake and no build.
        step("dump layer 1", lambda: dump("faithful", ["model.layers.1.mlp"],
                                          "layer1.safetensors"))
        step("ctest again", lambda: run(ENV["EQUIV_CTEST"], "--test-dir", d("build"), "-L",
                                        "journey", "-R", "^faithful[.]", "--output-junit",
                                        d("junit2.xml")))
        cls.junit2 = junit(d("junit2.xml"))
        print("\njourney times (s): " + ", ".join(f"{k} {v:.2f}" for k, v in cls.times.items()),
              file=sys.stderr)

    @classmethod
    def path(cls, *parts):
        return os.path.join(cls.dir, *parts)

    def _tests_of(self, port, junit_cases=None):
        cases = self.junit if junit_cases is None else junit_cases
        return {k[len(port) + 1:]: v for k, v in cases.items() if k.startswith(port + ".")}

    def test_inputs_are_long_enough_for_a_bf16_softmax(self):
        self.assertIn("long_sequence: 256 positions", self.inputs_out)
        self.assertTrue(os.path.isfile(self.path("inputs", "attention", "long_sequence",
                                                 "hidden.npy")))

    def test_the_faithful_port_passes(self):
        tests = self._tests_of("faithful")
        self.assertIn("layers_0_attention/long_sequence", tests)
        self.assertEqual(len(tests), 8, sorted(tests))
        for name, (status, _) in tests.items():
            self.assertEqual(status, "run", name)

    def test_the_rope_bug_fails_in_self_attn_and_is_localized_there(self):
        tests = self._tests_of("rope")
        failed = sorted(n for n, (status, _) in tests.items() if status == "fail")
        self.assertEqual(failed[:2], ["layers_0_attention/long_sequence",
                                      "layers_0_attention/normal"])
        for name in failed[2:]:  # and the decoder layer that contains self_attn, nothing else
            self.assertTrue(name.startswith("layers_0_decoder_layer/"), name)
        self.assertEqual(tests["layers_0_mlp/normal"][0], "run")
        md = self.markdown["rope"]
        self.assertIn("## equiv: FAIL", md)
        self.assertIn("**Primary suspect:** `layers_0_attention/", md)
        self.assertIn("`model.layers.0.self_attn`", md)
        self.assertIn("targets dumped by the port", md)
        self.assertNotIn("clean", md)
        with open(self.path("rope.html")) as f:
            html = f.read()
        self.assertIn('id="primary-suspect"', html)
        self.assertIn("model.layers.0.self_attn", html)
        self.assertNotIn("clean port", html)

    def test_the_softmax_bug_fails_at_the_long_inputs_only(self):
        tests = self._tests_of("softmax")
        self.assertEqual(tests["layers_0_attention/long_sequence"][0], "fail")
        self.assertEqual(tests["layers_0_attention/normal"][0], "run")  # 24 positions hide it
        self.assertEqual(tests["layers_0_mlp/normal"][0], "run")
        self.assertIn("**Primary suspect:** `layers_0_attention/long_sequence`",
                      self.markdown["softmax"])

    def test_the_junit_file_holds_r_band_and_outcome_of_every_test(self):
        self.assertEqual(len(self.junit), 24)
        for name, (status, out) in self.junit.items():
            self.assertRegex(out or "", r"r_ratio=\S+ band=\w+ outcome=\w+", name)

    def test_a_new_dump_runs_with_no_rebuild(self):
        tests = self._tests_of("faithful", self.junit2)
        self.assertEqual(tests["layers_1_mlp/normal"][0], "run")
        self.assertEqual(len(tests), 9, sorted(tests))


if __name__ == "__main__":
    unittest.main()
