#!/usr/bin/env python3
"""Regenerates exact_encode_vectors.txt: float64 inputs rounded exactly to every format.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install ml_dtypes==0.6.0 numpy
    /tmp/v/bin/python Tests/FP8FormatsTests/Fixtures/generate_exact.py

encode_vectors.txt (generate.py) comes from ml_dtypes array casts, which convert float64 to the
8-bit formats and bf16 through float32: a double rounding. This table is written independently of
both ml_dtypes and the Swift code: each input is a Python `Fraction` (exact), rounded once with
integer arithmetic, for nearest-even and toward-zero, with both overflow modes. The inputs sit
where one rounding and two differ: ties, and values 2^-30 and 2^-40 (relative to the binade)
above and below ties and grid points, in the normal and subnormal ranges and around the largest
finite value. Every format is covered, f32 included.

Cross-checks (the script stops on any disagreement):
- nearest-even / nonfinite against ml_dtypes on the inputs that are exact in float32 (where its
  double rounding cannot matter), for the 8-bit formats and bf16;
- nearest-even / nonfinite against numpy's own float64 -> float16 and float64 -> float32 casts
  on every input (those convert directly, with one rounding).

Columns: format, input (float64 bits), the code for nearest-even/nonfinite,
nearest-even/saturate, toward-zero/nonfinite, toward-zero/saturate, and a flag: 1 when rounding
the input through float32 first (what an ml_dtypes float64 array cast does) gives a different
nearest-even code, so the tests can check that the table holds such cases.
"""
import math
import os
import struct
from fractions import Fraction

import ml_dtypes
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (exponent bits, mantissa bits, bias, specials, numpy dtype)
FORMATS = {
    "e4m3fn": (4, 3, 7, "finite", ml_dtypes.float8_e4m3fn),
    "e5m2": (5, 2, 15, "ieee", ml_dtypes.float8_e5m2),
    "e4m3fnuz": (4, 3, 8, "fnuz", ml_dtypes.float8_e4m3fnuz),
    "e5m2fnuz": (5, 2, 16, "fnuz", ml_dtypes.float8_e5m2fnuz),
    "e2m1fn": (2, 1, 1, "none", ml_dtypes.float4_e2m1fn),
    "e2m3fn": (2, 3, 1, "none", ml_dtypes.float6_e2m3fn),
    "e3m2fn": (3, 2, 3, "none", ml_dtypes.float6_e3m2fn),
    "e8m0fnu": (8, 0, 127, "e8m0", ml_dtypes.float8_e8m0fnu),
    "f16": (5, 10, 15, "ieee", np.float16),
    "bf16": (8, 7, 127, "ieee", ml_dtypes.bfloat16),
    "f32": (8, 23, 127, "ieee", np.float32),
}


class Format:
    def __init__(self, name):
        self.name = name
        self.e, self.m, self.bias, self.specials, self.dtype = FORMATS[name]
        signed = self.specials != "e8m0"
        self.bits = int(signed) + self.e + self.m
        self.sign = 1 << (self.bits - 1) if signed else 0
        all_ones = (1 << self.e) - 1
        if self.specials == "e8m0":
            self.max_field, self.max_mantissa = all_ones - 1, 0
        elif self.specials == "ieee":
            self.max_field, self.max_mantissa = all_ones - 1, (1 << self.m) - 1
        elif self.specials == "finite":
            self.max_field, self.max_mantissa = all_ones, (1 << self.m) - 2
        else:
            self.max_field, self.max_mantissa = all_ones, (1 << self.m) - 1
        self.emin = 1 - self.bias if signed else -self.bias
        self.max = Fraction((1 << self.m) + self.max_mantissa) * pow2(self.max_field - self.bias - self.m)

    def code(self, negative, field, mantissa):
        return (self.sign if negative else 0) | (field << self.m) | mantissa

    def nan(self, negative):
        # "none" (FP6, FP4) has no NaN: ml_dtypes 0.6 gives a zero of the opposite sign.
        if self.specials == "none":
            return 0 if negative else self.sign
        if self.specials == "e8m0":
            return 0xFF
        if self.specials == "fnuz":
            return self.sign
        if self.specials == "finite":
            return self.code(negative, (1 << self.e) - 1, (1 << self.m) - 1)
        return self.code(negative, (1 << self.e) - 1, 1 << (self.m - 1))

    def inf(self, negative):
        return self.code(negative, (1 << self.e) - 1, 0) if self.specials == "ieee" else None

    def zero(self, negative):
        return self.sign if negative and self.specials != "fnuz" else 0

    def max_code(self, negative):
        return self.code(negative, self.max_field, self.max_mantissa)

    def overflow(self, negative, rounding, overflow):
        # Toward zero never leaves the finite range (IEEE 754 section 7.4); saturate neither.
        if overflow == "saturate" or rounding == "toward-zero" or self.specials == "none":
            return self.max_code(negative)
        inf = self.inf(negative)
        return inf if inf is not None else self.nan(negative)

    def encode(self, x, rounding, overflow):
        """The code of float64 x, rounded once from its exact value."""
        if self.specials == "e8m0":
            return self.encode_e8m0(x, rounding, overflow)
        if math.isnan(x):
            return self.nan(math.copysign(1, x) < 0)
        negative = math.copysign(1, x) < 0
        if math.isinf(x):
            if overflow == "nonfinite" and self.inf(negative) is not None:
                return self.inf(negative)
            return self.overflow(negative, "nearest-even", overflow)
        if x == 0:
            return self.zero(negative)
        v = abs(Fraction(x))
        e = floor_log2(v)
        q = max(e, self.emin) - self.m  # the quantum: 2^q
        scaled = v / pow2(q)
        n = scaled.numerator // scaled.denominator
        rest = scaled - n
        if rounding == "nearest-even":
            if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and n % 2 == 1):
                n += 1
        elif rounding != "toward-zero":
            raise ValueError(rounding)
        if n == 0:
            return self.zero(negative)
        value = n * pow2(q)
        if value > self.max:
            return self.overflow(negative, rounding, overflow)
        if n < (1 << self.m):  # subnormal (only at the smallest exponent)
            return self.code(negative, 0, n)
        e = floor_log2(value)
        mantissa = value / pow2(e - self.m)
        assert mantissa.denominator == 1
        return self.code(negative, e + self.bias, int(mantissa) - (1 << self.m))

    def encode_e8m0(self, x, rounding, overflow):
        """A power of two: nearest with ties up (no mantissa to make even), or toward zero; below
        2^-127 the smallest code (no zero); NaN, zero and negative values are NaN."""
        if math.isnan(x) or x <= 0:
            return 0xFF
        if math.isinf(x):
            return self.overflow(False, "nearest-even", overflow)
        v = Fraction(x)
        e = floor_log2(v)
        if e < self.emin:
            return 0
        if rounding == "nearest-even":
            up = v / pow2(e) >= Fraction(3, 2)
        elif rounding == "toward-zero":
            up = False
        else:
            raise ValueError(rounding)
        field = e + self.bias + int(up)
        if field > self.max_field:
            return self.overflow(False, rounding, overflow)
        return field

    def numpy_code(self, x):
        """What numpy / ml_dtypes give for a float64 array cast (nearest-even, nonfinite)."""
        raw = np.array([x], dtype=np.float64).astype(self.dtype)
        width = raw.dtype.itemsize
        return int(raw.view({1: np.uint8, 2: np.uint16, 4: np.uint32}[width])[0])


def pow2(k):
    return Fraction(2) ** k


def floor_log2(v):
    """floor(log2(v)) for a positive Fraction."""
    e = v.numerator.bit_length() - v.denominator.bit_length()
    if pow2(e) > v:
        e -= 1
    if pow2(e + 1) <= v:
        e += 1
    return e


def as_double(f):
    d = float(f)
    assert Fraction(d) == f, f"{f} is not a double"
    return d


def inputs_for(fmt):
    """Ties, grid points and their 2^-30 / 2^-40 neighbours, normal, subnormal and near max."""
    values = set()
    if fmt.specials == "e8m0":
        # Powers of two, the ties between them (1.5 · 2^e) and their neighbours, around the
        # smallest and largest codes and 1.
        for e in [-131, -128, -127, -126, -2, -1, 0, 1, 2, 125, 126, 127, 128]:
            for point in (pow2(e), 3 * pow2(e - 1)):
                for k in (None, 30, 40):
                    for s in ((0,) if k is None else (1, -1)):
                        values.add(as_double(point + s * pow2(e - (k or 0))))
        values.update([1e300, 5e-324, 1e-300])
        values = sorted(values)
        return [v for x in values for v in (x, -x)] + [math.inf, -math.inf, 0.0, -0.0]

    def around(point):
        # point exactly, and 2^-30, 2^-40 of its binade above and below it.
        binade = floor_log2(point)
        for k in (None, 30, 40):
            if k is None:
                values.add(as_double(point))
            else:
                for s in (1, -1):
                    p = point + s * pow2(binade - k)
                    if p > 0:
                        values.add(as_double(p))

    emax = fmt.max_field - fmt.bias
    exponents = sorted({fmt.emin, fmt.emin + 1, -1, 0, 1, 3, emax - 1, emax})
    top = (1 << fmt.m) - 1
    mantissas = sorted({0, 1, 2, top // 2, top - 1, top})
    for e in exponents:
        ulp = pow2(e - fmt.m)
        for mant in mantissas:
            grid = ((1 << fmt.m) + mant) * ulp
            around(grid)  # truncation just below a grid point drops to the one below
            around(grid + ulp / 2)  # a tie, and just above / below it
    # Subnormals: ties between consecutive subnormals, half the smallest one, the top of the range.
    q = fmt.emin - fmt.m
    for n in sorted({0, 1, 2, 3, top // 2, top - 1, top}):
        around(n * pow2(q) + pow2(q - 1))
        if n > 0:
            around(n * pow2(q))
    # Around the largest finite value: max, the tie to the next grid point, that grid point.
    ulp_max = pow2(fmt.max_field - fmt.bias - fmt.m)
    for point in (fmt.max, fmt.max + ulp_max / 2, fmt.max + ulp_max, 2 * fmt.max):
        around(point)
    values.update([1 + 2.0**-4 + 2.0**-30, 1e300, 5e-324])  # the first: 0x39 in e4m3fn
    values = sorted(values)
    return [v for x in values for v in (x, -x)] + [math.inf, -math.inf]


def main():
    np.seterr(over="ignore")  # float64 -> float32 of huge inputs is inf, on purpose
    lines = []
    disagreements = []
    checked = 0
    flagged = {}
    for name in FORMATS:
        fmt = Format(name)
        flagged[name] = 0
        for x in inputs_for(fmt):
            exact32 = float(np.float32(x)) == x
            via32 = fmt.encode(float(np.float32(x)), "nearest-even", "nonfinite")
            ours = fmt.encode(x, "nearest-even", "nonfinite")
            if exact32 or name in ("f16", "f32"):
                checked += 1
                if fmt.numpy_code(x) != ours:
                    disagreements.append(f"{name} {x!r}: numpy/ml_dtypes {fmt.numpy_code(x):#x}, exact {ours:#x}")
            flag = int(via32 != ours)
            flagged[name] += flag
            bits = struct.unpack("<Q", struct.pack("<d", x))[0]
            codes = [
                f"0x{fmt.encode(x, rounding, overflow):0{fmt.bits // 4}X}"
                for rounding in ("nearest-even", "toward-zero")
                for overflow in ("nonfinite", "saturate")
            ]
            lines.append(f"{name} 0x{bits:016X} {' '.join(codes)} {flag}")
    if disagreements:
        raise SystemExit("cross-check failed:\n" + "\n".join(disagreements[:20]))
    with open(os.path.join(HERE, "exact_encode_vectors.txt"), "w") as out:
        out.write("# Generated by generate_exact.py (exact rational rounding; cross-checked with ml_dtypes "
                  f"{ml_dtypes.__version__} and numpy {np.__version__}). Do not edit.\n")
        out.write("# format input(float64 bits) code(nearest-even, nonfinite) code(nearest-even, saturate)"
                  " code(toward-zero, nonfinite) code(toward-zero, saturate) via-float32-differs\n")
        out.write("\n".join(lines) + "\n")
    print(f"{len(lines)} inputs, {checked} cross-checked; those whose float32 route differs: {flagged}")


if __name__ == "__main__":
    main()
