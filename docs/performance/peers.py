#!/usr/bin/env python3
"""The peers' side of `fp8sim bench`: numpy + ml_dtypes doing the work of a numeric fp8sim run.

A numeric `fp8sim run` of an FP8 GEMM computes the device's values (E4M3 operands, f32
accumulation, a bf16 output), the FP32 shadow of the same GEMM, and the output's error against
it. The closest thing a user would write instead is numpy + ml_dtypes: cast A and B to
float8_e4m3fn, multiply in f32, cast to bfloat16, multiply the unquantised A and B in f32 for the
reference, and compute the SNR. This script times both as whole processes (interpreter or
simulator start-up, data generation, work, report), several times, in the same run, and prints
the best of each and their ratio; the machine is shared, so only ratios mean much.

    python3 docs/performance/peers.py [--fp8sim .build/release/fp8sim] [--size 2048] [--repeats 3]

Without numpy or ml_dtypes it says so and exits 0 (they are never needed to build or test
fp8sim).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

WORK = r"""
import sys
import numpy as np
import ml_dtypes
n = int(sys.argv[1])
rng = np.random.default_rng(1)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
# Device values: E4M3 operands, f32 products and sums, a bf16 output.
a8 = a.astype(ml_dtypes.float8_e4m3fn).astype(np.float32)
b8 = b.astype(ml_dtypes.float8_e4m3fn).astype(np.float32)
c = (a8 @ b8).astype(ml_dtypes.bfloat16).astype(np.float32)
# FP32 reference and the error report.
ref = a @ b
err = c.astype(np.float64) - ref
snr = 10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / np.sum(err ** 2))
print(f"SNR {snr:.2f} dB, max abs err {np.max(np.abs(err)):.4g}")
"""


def best_of(repeats, command):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fp8sim", default=".build/release/fp8sim")
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    try:
        import ml_dtypes  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as e:
        print(f"peers.py: skipped: {e.name} is not installed (pip install numpy ml_dtypes)")
        return 0
    n = args.size
    with tempfile.TemporaryDirectory() as tmp:
        program = os.path.join(tmp, "gemm.isa")
        subprocess.run(
            [args.fp8sim, "gen", "gemm", "--device", "h100", "--shape", f"{n}x{n}x{n}", "-o", program],
            check=True, stdout=subprocess.DEVNULL)
        sim = best_of(args.repeats, [args.fp8sim, "run", program])
        peer = best_of(args.repeats, [sys.executable, "-c", WORK, str(n)])
    print(f"numeric FP8 GEMM {n}³ (device values, FP32 reference, SNR), whole process, best of {args.repeats}:")
    print(f"  fp8sim run (h100, generated GEMM)   {sim:8.3f} s")
    print(f"  numpy + ml_dtypes                   {peer:8.3f} s")
    print(f"  fp8sim / numpy                      {sim / peer:8.2f}×  (target ≤ 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
