#!/usr/bin/env python3
"""fp8sim's f32rz accumulator against a port of MMA-Sim's Blackwell (tcgen05) model.

MMA-Sim (Xie, Wang, Yang, Yang, arXiv 2511.10909; github.com/microsoft/MMA-Sim,
mmasim/simulator/arithmetic.py and nv.py) models `tcgen05.mma` into f32 as follows:
- kind::f8f6f4 (one instruction: K = 32) and kind::mxf8f6f4 (one E8M0 scale per 32 values of
  K): every product aligned at ea + eb (+ the two scales' exponents), inputs read as a
  significand in [1, 2) times 2^e with e at least the format's smallest normal exponent; C at
  its own exponent (at least -126); every term truncated toward zero to 25 fractional bits below
  the largest exponent, summed exactly, the sum truncated toward zero to f32 (23 fractional bits).
- kind::mxf4 (K = 64, one E8M0 scale per 32) and kind::mxf4nvf4 (NVFP4: one E4M3 scale per
  16, read as at least 2^-6): exact sums of 16 element products, each times its two scales and
  aligned at their exponents e0 + e1; with C, 35 fractional bits; then toward zero to f32. The
  NVFP4 tensor scales stay outside (applied to the result, as fp8sim's NVFP4 tensors leave them).
The two dot functions below follow that code, with its arithmetic from mmasim_port.py;
nothing here is fp8sim's. The MX and NVFP4 quantisation is done here with ml_dtypes (OCP MX v1.0 §6.3: scale
2^(floor(log2 amax) - emax), elements rounded to nearest even, saturating; NVFP4 as Transformer
Engine documents it), and the script checks that fp8sim's block-scaled values are the same
before it compares the products.

The script writes random inputs as .npy files, runs one fp8sim program per case on b200 with
`mma ..., acc=f32rz`, and counts the outputs where the two differ; it exits 1 if any does.

    python3 docs/validation/f32rz_vs_mmasim.py [--fp8sim .build/release/fp8sim] [--rows 64]

Needs numpy and ml_dtypes; without them it says so and exits 0.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

from mmasim_port import MIN_EXPONENT, extract, fused_sum, to_f32_toward_zero

EMAX = {"e4m3fn": 8, "e5m2": 15, "e2m1fn": 2}


def f8f6f4_dot(a, b, c, fmt, scale_a=1.0, scale_b=1.0):
    """One instruction (32 values of K) of kind::f8f6f4 or kind::mxf8f6f4."""
    total = sum(float(x) * float(y) * scale_a * scale_b for x, y in zip(a, b)) + c
    if not math.isfinite(total):
        return total
    sc, ec = extract(c, MIN_EXPONENT["f32"])
    _, esa = extract(scale_a, MIN_EXPONENT["e8m0"])
    _, esb = extract(scale_b, MIN_EXPONENT["e8m0"])
    significands, exponents = [sc], [ec]
    for x, y in zip(a, b):
        sx, ex = extract(float(x), MIN_EXPONENT[fmt])
        sy, ey = extract(float(y), MIN_EXPONENT[fmt])
        significands.append(sx * sy)
        exponents.append(ex + ey + esa + esb)
    return to_f32_toward_zero(*fused_sum(significands, exponents, 25))


def mxf4_dot(a, b, c, scales_a, scales_b, block=32, scale_format="e8m0"):
    """One instruction (64 values of K) of kind::mxf4 (E8M0 scales per 32) or kind::mxf4nvf4
    (E4M3 scales per 16): sums per 16."""
    sc, ec = extract(c, MIN_EXPONENT["f32"])
    significands, exponents = [sc], [ec]
    for k in range(0, len(a), 16):
        s = sum(float(x) * float(y) for x, y in zip(a[k:k + 16], b[k:k + 16]))
        s0, e0 = extract(abs(float(scales_a[k // block])), MIN_EXPONENT[scale_format])
        s1, e1 = extract(abs(float(scales_b[k // block])), MIN_EXPONENT[scale_format])
        significands.append(s * s0 * s1)
        exponents.append(e0 + e1)
    return to_f32_toward_zero(*fused_sum(significands, exponents, 35))


def nvfp4_quantise(x, ml_dtypes, np):
    """NVFP4 along the last axis (Transformer Engine's recipe): the tensor scale
    g = f32(amax / (448 · 6)); per 16 values an E4M3 scale RN(amax_block / 6 / g), saturating;
    elements RN_e2m1(v / (scale · g)), saturating (zero where the scale is zero). Returns the
    elements as float, the scales (without g) and g."""
    g = float(np.float32(np.abs(x).max() / 2688.0))
    blocks = x.reshape(*x.shape[:-1], -1, 16)
    amax = np.abs(blocks).max(axis=-1, keepdims=True)
    scale = np.clip(amax / 6.0 / g, 0, 448).astype(ml_dtypes.float8_e4m3fn).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(scale > 0, blocks / (scale * g), 0.0)
    elems = np.clip(ratio, -6, 6).astype(ml_dtypes.float4_e2m1fn).astype(np.float64)
    return elems.reshape(x.shape), scale[..., 0], g


def mx_quantise(x, dtype, fmt, ml_dtypes, np):
    """OCP MX along the last axis in blocks of 32: (elements as float, scales), by ml_dtypes."""
    blocks = x.reshape(*x.shape[:-1], -1, 32)
    amax = np.abs(blocks).max(axis=-1, keepdims=True)
    exp = np.where(amax > 0, np.floor(np.log2(np.where(amax > 0, amax, 1))) - EMAX[fmt], -127)
    scale = np.exp2(np.clip(exp, -127, 127))
    maxv = float(ml_dtypes.finfo(dtype).max)
    elems = np.clip(blocks / scale, -maxv, maxv).astype(dtype).astype(np.float64)
    return elems.reshape(x.shape), scale[..., 0]


PROGRAM = """.device b200
.tensor A f32 [{m}, {k}] sram npy("a.npy")
.tensor B f32 [{n}, {k}] sram npy("b.npy")
.tensor QA {ta} [{m}, {k}] sram
.tensor QB {tb} [{n}, {k}] sram
.tensor C f32 [{m}, {n}] sram npy("c.npy")
.tensor CD f32 [{m}, {n}] dram
.tensor AD {ta} [{m}, {k}] dram
.tensor BD {tb} [{n}, {k}] dram
.output CD
.output AD
.output BD
  bne tid, 0, done
  cast QA, A
  cast QB, B
  mma C, QA, QB, tb=1, acc=f32rz
  dma.store CD, C
  dma.store AD, QA
  dma.store BD, QB
  dma.wait
done:
  halt
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fp8sim", default=".build/release/fp8sim")
    parser.add_argument("--rows", type=int, default=64, help="rows of A (outputs: rows × 16 per case)")
    parser.add_argument("--k", type=int, default=256)
    parser.add_argument("--seed", type=int, default=25)
    args = parser.parse_args()
    try:
        import ml_dtypes
        import numpy as np
    except ImportError as e:
        print(f"f32rz_vs_mmasim.py: skipped: {e.name} is not installed (pip install numpy ml_dtypes)")
        return 0
    m, n, k = args.rows, 16, args.k
    cases = [
        ("f8f6f4 e4m3fn", "e4m3fn", "e4m3fn", ml_dtypes.float8_e4m3fn, 1.0),
        ("f8f6f4 e5m2, mostly subnormal A", "e5m2", "e5m2", ml_dtypes.float8_e5m2, 2.0 ** -15),
        ("mxf8f6f4 mxfp8_e4m3", "mxfp8_e4m3", "e4m3fn", ml_dtypes.float8_e4m3fn, 1.0),
        ("mxf8f6f4 mxfp8_e5m2", "mxfp8_e5m2", "e5m2", ml_dtypes.float8_e5m2, 1.0),
        ("mxf4 mxfp4", "mxfp4", "e2m1fn", ml_dtypes.float4_e2m1fn, 1.0),
        ("mxf4nvf4 nvfp4", "nvfp4", "e2m1fn", ml_dtypes.float4_e2m1fn, 1.0),
    ]
    total = 0
    for name, dtype_name, fmt, dtype, scale in cases:
        rng = np.random.default_rng(args.seed)
        # Rows of different magnitudes, so that blocks get different scales.
        a = rng.standard_normal((m, k)) * np.exp2(rng.integers(-8, 8, (m, 1))) * scale
        b = rng.standard_normal((n, k)) * np.exp2(rng.integers(-8, 8, (n, 1)))
        c = (rng.standard_normal((m, n)) * 4).astype(np.float32)
        block = dtype_name.startswith("mx") or dtype_name == "nvfp4"
        nv = dtype_name == "nvfp4"
        if not block:  # saturated to the format, so that the comparison is about finite values
            maxv = float(ml_dtypes.finfo(dtype).max)
            a = np.clip(a, -maxv, maxv).astype(dtype).astype(np.float32)
            b = np.clip(b, -maxv, maxv).astype(dtype).astype(np.float32)
        a = a.astype(np.float32)
        b = b.astype(np.float32)
        with tempfile.TemporaryDirectory() as tmp:
            for key, value in (("a", a), ("b", b), ("c", c)):
                np.save(os.path.join(tmp, f"{key}.npy"), value)
            with open(os.path.join(tmp, "p.isa"), "w") as f:
                f.write(PROGRAM.format(m=m, n=n, k=k, ta=dtype_name, tb=dtype_name))
            subprocess.run([args.fp8sim, "run", os.path.join(tmp, "p.isa"), "--dump", os.path.join(tmp, "out")],
                           check=True, stdout=subprocess.DEVNULL)
            sim = np.load(os.path.join(tmp, "out", "CD.npy"))
            sim_a = np.load(os.path.join(tmp, "out", "AD.npy"))
            sim_b = np.load(os.path.join(tmp, "out", "BD.npy"))
        if nv:  # fp8sim's NVFP4 tensors hold element × block scale (the tensor scale apart)
            ea, sa, _ = nvfp4_quantise(a.astype(np.float64), ml_dtypes, np)
            eb, sb, _ = nvfp4_quantise(b.astype(np.float64), ml_dtypes, np)
            qa = (ea.reshape(m, -1, 16) * sa[..., None]).reshape(m, k)
            qb = (eb.reshape(n, -1, 16) * sb[..., None]).reshape(n, k)
        elif block:
            ea, sa = mx_quantise(a.astype(np.float64), dtype, fmt, ml_dtypes, np)
            eb, sb = mx_quantise(b.astype(np.float64), dtype, fmt, ml_dtypes, np)
            qa = (ea.reshape(m, -1, 32) * sa[..., None]).reshape(m, k)
            qb = (eb.reshape(n, -1, 32) * sb[..., None]).reshape(n, k)
        if block:
            if not (np.array_equal(qa.astype(np.float32), sim_a) and np.array_equal(qb.astype(np.float32), sim_b)):
                print(f"{name}: fp8sim's block-scaled values differ from the quantisation done here")
                total += 1
                continue
        differ = 0
        first = None
        for i in range(m):
            for j in range(n):
                acc = float(c[i, j])
                step = 64 if fmt == "e2m1fn" else 32
                for k0 in range(0, k, step):
                    if nv:
                        acc = mxf4_dot(ea[i, k0:k0 + 64], eb[j, k0:k0 + 64], acc,
                                       sa[i, k0 // 16:k0 // 16 + 4], sb[j, k0 // 16:k0 // 16 + 4], 16, "e4m3fn")
                    elif fmt == "e2m1fn":
                        acc = mxf4_dot(ea[i, k0:k0 + 64], eb[j, k0:k0 + 64], acc,
                                       sa[i, k0 // 32:k0 // 32 + 2], sb[j, k0 // 32:k0 // 32 + 2])
                    elif block:
                        acc = f8f6f4_dot(ea[i, k0:k0 + 32], eb[j, k0:k0 + 32], acc, fmt,
                                         float(sa[i, k0 // 32]), float(sb[j, k0 // 32]))
                    else:
                        acc = f8f6f4_dot(a[i, k0:k0 + 32], b[j, k0:k0 + 32], acc, fmt)
                if np.float32(acc) != sim[i, j] and not (math.isnan(acc) and math.isnan(sim[i, j])):
                    differ += 1
                    first = first or (i, j, float(sim[i, j]), acc)
        total += differ
        print(f"f32rz vs MMA-Sim's tcgen05 model, {name}: {differ} of {m * n} outputs differ (K = {k})")
        if first:
            print(f"  first: [{first[0]}, {first[1]}] fp8sim {first[2]!r}, MMA-Sim model {first[3]!r}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
