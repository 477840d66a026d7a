#!/usr/bin/env python3
"""fp8sim's fp22 accumulator against a port of MMA-Sim's Hopper FP8 model, on random inputs.

MMA-Sim (Xie, Wang, Yang, Yang, arXiv 2511.10909; github.com/microsoft/MMA-Sim,
mmasim/simulator/arithmetic.py at c785138) models `wgmma` FP8 into f32 as: per group of 32
products along K, each product aligned by its inputs' exponents ea + eb (inputs read as a
significand in [1, 2) times 2^e, subnormal inputs at the format's smallest normal exponent, the
product significand in [0, 4) not renormalised), C by its own exponent (at least -126); every term
truncated toward zero to 13 fractional bits below the largest of these exponents; the terms
summed exactly; the sum truncated to 13 mantissa bits (E8M13). The arithmetic is ported once
for both validation scripts in mmasim_port.py; nothing here is fp8sim's.

The script writes random E4M3 and E5M2 inputs (ordinary, and scaled so that most of A is
subnormal) as .npy files, runs an fp8sim program with one `mma ..., acc=fp22` on the h100
preset, and counts the outputs where the two differ; it exits 1 if any does.

    python3 docs/validation/fp22_vs_mmasim.py [--fp8sim .build/release/fp8sim] [--cases 2000]

Needs numpy and ml_dtypes; without them it says so and exits 0.
"""
import argparse
import os
import subprocess
import sys
import tempfile

from mmasim_port import MIN_EXPONENT, extract, fused_sum, to_f32_toward_zero


def hopper_fp8_dot(a, b, c, min_exponent):
    """One output element: groups of 32 along K, each group's result the next group's C."""
    for k0 in range(0, len(a), 32):
        sc, ec = extract(c, MIN_EXPONENT["f32"])
        significands, exponents = [sc], [ec]
        for x, y in zip(a[k0:k0 + 32], b[k0:k0 + 32]):
            sa, ea = extract(float(x), min_exponent)
            sb, eb = extract(float(y), min_exponent)
            significands.append(sa * sb)
            exponents.append(ea + eb)
        c = to_f32_toward_zero(*fused_sum(significands, exponents, 13), mantissa_bits=13)  # E8M13
    return c


PROGRAM = """.tensor A {fmt} [{m}, {k}] sram npy("a.npy")
.tensor B {fmt} [{k}, {n}] sram npy("b.npy")
.tensor C f32 [{m}, {n}] sram
.tensor CD f32 [{m}, {n}] dram
.output CD
  mma C, A, B, acc=fp22
  dma.store CD, C
  dma.wait
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fp8sim", default=".build/release/fp8sim")
    parser.add_argument("--cases", type=int, default=2000, help="output elements compared")
    parser.add_argument("--k", type=int, default=64)
    args = parser.parse_args()
    try:
        import ml_dtypes
        import numpy as np
    except ImportError as e:
        print(f"fp22_vs_mmasim.py: skipped: {e.name} is not installed (pip install numpy ml_dtypes)")
        return 0
    m, n, k = max(1, args.cases // 16), 16, args.k
    total = 0
    # Ordinary values, and values scaled so that most are subnormal (the inputs' exponent floor).
    for fmt, scale in [("e4m3fn", 1.0), ("e4m3fn", 2.0**-6), ("e5m2", 1.0), ("e5m2", 2.0**-14)]:
        rng = np.random.default_rng(22)
        dtype = getattr(ml_dtypes, "float8_e4m3fn" if fmt == "e4m3fn" else "float8_e5m2")
        a = (rng.standard_normal((m, k)) * scale).astype(dtype).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(dtype).astype(np.float32)
        with tempfile.TemporaryDirectory() as tmp:
            np.save(os.path.join(tmp, "a.npy"), a)
            np.save(os.path.join(tmp, "b.npy"), b)
            with open(os.path.join(tmp, "p.isa"), "w") as f:
                f.write(PROGRAM.format(fmt=fmt, m=m, n=n, k=k))
            subprocess.run([args.fp8sim, "run", os.path.join(tmp, "p.isa"), "--device", "h100", "--dump",
                            os.path.join(tmp, "out")], check=True, stdout=subprocess.DEVNULL)
            sim = np.load(os.path.join(tmp, "out", "CD.npy"))
        differ = 0
        first = None
        for i in range(m):
            for j in range(n):
                want = hopper_fp8_dot(a[i], b[:, j], 0.0, MIN_EXPONENT[fmt])
                if np.float32(want) != sim[i, j]:
                    differ += 1
                    first = first or (i, j, float(sim[i, j]), want)
        total += differ
        subnormal = np.mean(np.abs(a[a != 0]) < 2.0 ** MIN_EXPONENT[fmt])
        print(f"fp22 vs MMA-Sim's Hopper FP8 model, {fmt} (A {subnormal:.0%} subnormal): "
              f"{differ} of {m * n} outputs differ (K = {k})")
        if first:
            print(f"  first: [{first[0]}, {first[1]}] fp8sim {first[2]!r}, MMA-Sim model {first[3]!r}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
