#!/usr/bin/python3
"""Writes examples/data/layers_0_mlp_input.npy: 24 positions x 128 features, N(0, 1) float32
(torch seed 7), an input for tiny-llama's layer-0 MLP in docs/howto/validate-device-dumps.md.

Run with Debian's python3-torch: /usr/bin/python3 tools/golden/make_example_input.py
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "data",
                   "layers_0_mlp_input.npy")

torch.manual_seed(7)
np.save(OUT, torch.randn(24, 128, dtype=torch.float32).numpy())
print(f"{os.path.normpath(OUT)}: [24, 128] float32")
