#!/usr/bin/python3
"""PyTorch's bf16 HF-style SwiGLU MLP at Llama-3.1-8B shapes, timed for docs/benchmarks.md.

The baseline of component_benchmark's BM_ReferenceMlp/bf16 and BM_PortMlp at shape:1
(issue 17): LlamaMLP.forward, down_proj(act_fn(gate_proj(x)) * up_proj(x)), nn.Linear without
bias, every tensor in bfloat16 (PyTorch 1.13 runs the three matmuls through oneDNN's
AVX512_BF16 kernels, float32 accumulation, one rounding), on x [128, 4096] with
hidden 4096 -> intermediate 14336 -> 4096. Prints, per thread count, the median wall time of
one call and its GFLOP/s (2 * 128 * 3 * 4096 * 14336 = 45.1 GFLOP per call), and the CPU time
per call, as component_benchmark counts it (per CPU second of the process).

    /usr/bin/python3 tools/bench/torch_mlp.py --threads 1 2 --repetitions 5
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repetitions", type=int, default=5, help="timed calls per thread count")
    parser.add_argument("--positions", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=4096)
    parser.add_argument("--intermediate", type=int, default=14336)
    args = parser.parse_args()

    torch.manual_seed(0)
    dtype = torch.bfloat16
    h, i, n = args.hidden, args.intermediate, args.positions
    gate = torch.nn.Linear(h, i, bias=False).to(dtype)
    up = torch.nn.Linear(h, i, bias=False).to(dtype)
    down = torch.nn.Linear(i, h, bias=False).to(dtype)
    x = torch.randn(n, h).to(dtype)
    flops = 3 * 2.0 * n * h * i

    def mlp():
        return down(F.silu(gate(x)) * up(x))

    print(f"torch {torch.__version__}, bf16 SwiGLU MLP [{n}, {h}] -> {i} -> {h}, "
          f"{flops / 1e9:.1f} GFLOP per call")
    with torch.inference_mode():
        for threads in args.threads:
            torch.set_num_threads(threads)
            mlp()  # warm-up: oneDNN's primitives and the weights' reorders
            walls, cpus = [], []
            for _ in range(args.repetitions):
                w0, c0 = time.perf_counter(), time.process_time()
                mlp()
                walls.append(time.perf_counter() - w0)
                cpus.append(time.process_time() - c0)
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            print(f"threads {threads}: wall {wall * 1e3:.1f} ms = {flops / wall / 1e9:.1f} GFLOP/s; "
                  f"cpu {cpu * 1e3:.1f} ms = {flops / cpu / 1e9:.1f} GFLOP/s per CPU second")


if __name__ == "__main__":
    main()
