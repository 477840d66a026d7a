"""The arithmetic of MMA-Sim's NVIDIA tensor-core models, ported for the validation scripts.

MMA-Sim (Xie, Wang, Yang, Yang, arXiv 2511.10909; github.com/microsoft/MMA-Sim,
mmasim/simulator/arithmetic.py): an input is read as a significand and an exponent at least its
format's smallest normal one (a zero at -126); the terms of a group are truncated toward zero to
`fractional_bits` below the largest exponent and summed exactly; the result is truncated toward
zero to f32 (23 fraction bits) or, on Hopper's FP8 path, to E8M13. Nothing here is fp8sim's.
"""
import math

# MMA-Sim's dtype_min_exponent, and FP4's (E2M1: bias 1).
MIN_EXPONENT = {"e4m3fn": -6, "e5m2": -14, "e2m1fn": 0, "f32": -126, "e8m0": -127}


def extract(x, min_exponent):
    """`extract_significand_exponent`: x = s · 2^e, s in [1, 2) or below 1 at the floor."""
    significand, exponent = math.frexp(x)
    significand *= 2
    exponent -= 1
    if exponent < min_exponent:
        significand *= 2.0 ** (exponent - min_exponent)
        exponent = min_exponent
    if significand == 0.0:
        exponent = -126
    return significand, exponent


def fused_sum(significands, exponents, fractional_bits):
    """`fused_sum`: each term truncated to `fractional_bits` below the largest exponent."""
    top = max(exponents)
    total = 0.0
    for s, e in zip(significands, exponents):
        total += math.trunc(s * 2.0 ** (fractional_bits + e - top)) * 2.0 ** -fractional_bits
    return total, top


def to_f32_toward_zero(s, e, mantissa_bits=23):
    """s · 2^e truncated toward zero to an f32 with `mantissa_bits` (13 for E8M13)."""
    value = s * 2.0 ** e
    if value == 0:
        return 0.0
    s, e = extract(value, MIN_EXPONENT["f32"])
    return math.trunc(s * 2.0 ** mantissa_bits) * 2.0 ** -mantissa_bits * 2.0 ** e
