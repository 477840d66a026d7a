// AVX2 versions of the `mma` kernels in FP8Sim/Numerics/MMAKernels.swift (see FP8KernelsC.h).
// Compiled for baseline x86-64 like the rest of the package: only the functions marked AVX2 use
// 256-bit instructions, and they run only after fp8k_level() found them supported. Every product
// and every sum is its own IEEE operation (contraction into fused multiply-adds is off), so the
// results are the Swift kernels' bit for bit; KernelTests run both on the same data.

#include "FP8KernelsC.h"

#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) && defined(__clang__)

#include <cpuid.h>
#include <immintrin.h>

#pragma clang fp contract(off)

#define AVX2 __attribute__((target("avx2")))
#define INLINE static inline __attribute__((always_inline))

int fp8k_level(void) {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
  // OSXSAVE (bit 27) and AVX (bit 28); then the OS must save the YMM state (XCR0 bits 1, 2).
  if (!(ecx & (1u << 27)) || !(ecx & (1u << 28))) return 0;
  unsigned xcr0_low, xcr0_high;
  __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  if ((xcr0_low & 6u) != 6u) return 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
  return (ebx & (1u << 5)) ? 1 : 0;  // AVX2
}

// MARK: - Accumulators (one per accumulator mode; `mode` is a constant after inlining)

enum { F32 = 0, BF16 = 1, F16 = 2, F16_SPLIT = 3 };

INLINE AVX2 __m256i splat(uint32_t v) { return _mm256_set1_epi32((int)v); }

/// RN_f16(s) as f32 (`HalfRounding.round`): (s + c) − c with c = 1.5 · 2^(q+23), the exponent
/// clamped to [113, 143]; 65536 or more becomes inf; inf and NaN pass through; the sign is kept.
INLINE AVX2 __m256 round_f16(__m256 s) {
  __m256i bits = _mm256_castps_si256(s);
  __m256i magnitude = _mm256_and_si256(bits, splat(0x7FFFFFFF));
  __m256i field = _mm256_min_epu32(_mm256_max_epu32(_mm256_srli_epi32(magnitude, 23), splat(113)), splat(143));
  __m256 cv = _mm256_castsi256_ps(_mm256_or_si256(_mm256_slli_epi32(_mm256_add_epi32(field, splat(13)), 23), splat(0x00400000)));
  __m256i rounded = _mm256_and_si256(_mm256_castps_si256(_mm256_sub_ps(_mm256_add_ps(s, cv), cv)), splat(0x7FFFFFFF));
  __m256i out = _mm256_blendv_epi8(rounded, splat(0x7F800000), _mm256_cmpgt_epi32(rounded, splat(0x477FFFFF)));
  out = _mm256_blendv_epi8(out, magnitude, _mm256_cmpgt_epi32(magnitude, splat(0x7F7FFFFF)));
  return _mm256_castsi256_ps(_mm256_or_si256(out, _mm256_and_si256(bits, splat(0x80000000u))));
}

/// acc + a·b, then the mode's rounding; the same operations as the Swift AccumulatorRounding
/// types.
INLINE AVX2 __m256 accumulate(int mode, __m256 acc, __m256 a, __m256 b) {
  __m256 s = _mm256_add_ps(acc, _mm256_mul_ps(a, b));
  switch (mode) {
    case F32:
      return s;
    case BF16: {
      __m256i bits = _mm256_castps_si256(s);
      __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), splat(1));
      __m256i rounded =
          _mm256_and_si256(_mm256_add_epi32(_mm256_add_epi32(bits, splat(0x7FFF)), lsb), splat(0xFFFF0000u));
      // NaN stays NaN (the carry could turn a NaN with a low payload into inf).
      __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(bits, splat(0x7FFFFFFF)), splat(0x7F800000));
      return _mm256_castsi256_ps(_mm256_blendv_epi8(rounded, bits, nan));
    }
    case F16:
      return round_f16(s);
    default: {  // F16_SPLIT: Veltkamp's split t = s·8193; t − (t − s), overflow to s·inf.
      __m256 t = _mm256_mul_ps(s, _mm256_set1_ps(8193.0f));
      __m256 h = _mm256_sub_ps(t, _mm256_sub_ps(t, s));
      __m256i overflow =
          _mm256_cmpgt_epi32(_mm256_and_si256(_mm256_castps_si256(h), splat(0x7FFFFFFF)), splat(0x477FFFFF));
      __m256 inf = _mm256_mul_ps(s, _mm256_set1_ps(__builtin_inff()));
      return _mm256_blendv_ps(h, inf, _mm256_castsi256_ps(overflow));
    }
  }
}

AVX2 void fp8k_round_f16(const float *x, float *out, ptrdiff_t n) {
  ptrdiff_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, round_f16(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float v[8] = {0};
    for (ptrdiff_t j = i; j < n; j++) v[j - i] = x[j];
    _mm256_storeu_ps(v, round_f16(_mm256_loadu_ps(v)));
    for (ptrdiff_t j = i; j < n; j++) out[j] = v[j - i];
  }
}

// MARK: - Register tiles

/// Up to 8 consecutive floats of C (`width` of them, the rest 0).
INLINE AVX2 __m256 load_c(const float *c, ptrdiff_t width) {
  if (width == 8) return _mm256_loadu_ps(c);
  float v[8] = {0};
  for (ptrdiff_t j = 0; j < width; j++) v[j] = c[j];
  return _mm256_loadu_ps(v);
}

INLINE AVX2 void store_c(float *c, ptrdiff_t width, __m256 x) {
  if (width == 8) {
    _mm256_storeu_ps(c, x);
    return;
  }
  float v[8];
  _mm256_storeu_ps(v, x);
  for (ptrdiff_t j = 0; j < width; j++) c[j] = v[j];
}

/// ROWS rows × PANELS panels of C (ROWS ≤ 6, PANELS ≤ 2) from row i and panel p, all of K.
INLINE AVX2 void tile(int mode, int ROWS, int PANELS, const float *a, const float *packed, float *c,
                      ptrdiff_t i, ptrdiff_t p, ptrdiff_t n, ptrdiff_t k) {
  __m256 acc[6][2];
  ptrdiff_t width[2];
  for (int q = 0; q < PANELS; q++) {
    ptrdiff_t w = n - 8 * (p + q);
    width[q] = w < 8 ? w : 8;
  }
  for (int r = 0; r < ROWS; r++)
    for (int q = 0; q < PANELS; q++) acc[r][q] = load_c(c + (i + r) * n + 8 * (p + q), width[q]);
  const float *b0 = packed + p * k * 8;
  const float *b1 = b0 + k * 8;
  const float *arow = a + i * k;
  for (ptrdiff_t kk = 0; kk < k; kk++) {
    __m256 bv0 = _mm256_loadu_ps(b0 + kk * 8);
    __m256 bv1 = PANELS > 1 ? _mm256_loadu_ps(b1 + kk * 8) : bv0;
    for (int r = 0; r < ROWS; r++) {
      __m256 av = _mm256_broadcast_ss(arow + r * k + kk);
      acc[r][0] = accumulate(mode, acc[r][0], av, bv0);
      if (PANELS > 1) acc[r][1] = accumulate(mode, acc[r][1], av, bv1);
    }
  }
  for (int r = 0; r < ROWS; r++)
    for (int q = 0; q < PANELS; q++) store_c(c + (i + r) * n + 8 * (p + q), width[q], acc[r][q]);
}

/// ROWS rows from row i, every column: pairs of panels, then the last one.
INLINE AVX2 void rows(int mode, int ROWS, const float *a, const float *packed, float *c, ptrdiff_t i,
                      ptrdiff_t n, ptrdiff_t k) {
  ptrdiff_t panels = (n + 7) / 8;
  ptrdiff_t p = 0;
  for (; p + 2 <= panels; p += 2) tile(mode, ROWS, 2, a, packed, c, i, p, n, k);
  if (p < panels) tile(mode, ROWS, 1, a, packed, c, i, p, n, k);
}

/// Rows row0 ..< row1: blocks of 6 rows, then one block of the rest.
INLINE AVX2 void multiply(int mode, const float *a, const float *packed, float *c, ptrdiff_t row0,
                          ptrdiff_t row1, ptrdiff_t n, ptrdiff_t k) {
  ptrdiff_t i = row0;
  for (; i + 6 <= row1; i += 6) rows(mode, 6, a, packed, c, i, n, k);
  switch (row1 - i) {  // 0 to 5 rows left: one more block of that many
    case 5: rows(mode, 5, a, packed, c, i, n, k); break;
    case 4: rows(mode, 4, a, packed, c, i, n, k); break;
    case 3: rows(mode, 3, a, packed, c, i, n, k); break;
    case 2: rows(mode, 2, a, packed, c, i, n, k); break;
    case 1: rows(mode, 1, a, packed, c, i, n, k); break;
    default: break;
  }
}

AVX2 void fp8k_f32(const float *a, const float *packed, float *c, ptrdiff_t row0, ptrdiff_t row1,
                   ptrdiff_t n, ptrdiff_t k) {
  multiply(F32, a, packed, c, row0, row1, n, k);
}

AVX2 void fp8k_bf16(const float *a, const float *packed, float *c, ptrdiff_t row0, ptrdiff_t row1,
                    ptrdiff_t n, ptrdiff_t k) {
  multiply(BF16, a, packed, c, row0, row1, n, k);
}

AVX2 void fp8k_f16(const float *a, const float *packed, float *c, ptrdiff_t row0, ptrdiff_t row1,
                   ptrdiff_t n, ptrdiff_t k) {
  multiply(F16, a, packed, c, row0, row1, n, k);
}

AVX2 void fp8k_f16split(const float *a, const float *packed, float *c, ptrdiff_t row0,
                        ptrdiff_t row1, ptrdiff_t n, ptrdiff_t k) {
  multiply(F16_SPLIT, a, packed, c, row0, row1, n, k);
}

// MARK: - fp22

/// x truncated toward zero to a multiple of 2^(top − 140) (top: the group's largest exponent
/// field, at least 1): its low (top − e + 10) bits cleared, e its exponent field read as at
/// least 1; a magnitude below the quantum (24 or more bits to clear) becomes +0.
INLINE AVX2 __m256 truncated(__m256 x, __m256i top) {
  __m256i bits = _mm256_castps_si256(x);
  __m256i e = _mm256_max_epu32(_mm256_and_si256(_mm256_srli_epi32(bits, 23), splat(0xFF)), splat(1));
  __m256i count = _mm256_add_epi32(_mm256_sub_epi32(top, e), splat(10));
  __m256i mask = _mm256_and_si256(_mm256_sllv_epi32(splat(0xFFFFFFFFu), count), _mm256_cmpgt_epi32(splat(24), count));
  return _mm256_castsi256_ps(_mm256_and_si256(bits, mask));
}

/// One group of `count` products (≤ 32) for one row and panel; `aalign` and `palign` are the
/// alignments of the row of A and of the panel of B (powers of two, MMANumerics.fp22Alignment),
/// whose products give each product's alignment exponent. Returns 0 when the vector code
/// cannot decide it (an inf or NaN input or accumulator, or a sum past f32's range), without
/// touching *acc.
INLINE AVX2 int fp22_group(__m256 *acc, const float *arow, const float *panel, const float *aalign,
                           const float *palign, ptrdiff_t count) {
  __m256 terms[32];
  __m256i largest = _mm256_and_si256(_mm256_castps_si256(*acc), splat(0x7FFFFFFF));
  for (ptrdiff_t t = 0; t < count; t++) {
    terms[t] = _mm256_mul_ps(_mm256_broadcast_ss(arow + t), _mm256_loadu_ps(panel + t * 8));
    __m256 align = _mm256_mul_ps(_mm256_broadcast_ss(aalign + t), _mm256_loadu_ps(palign + t * 8));
    // Alignments are at least 2^-126 or +inf, so their products are never negative or NaN.
    largest = _mm256_max_epu32(largest, _mm256_castps_si256(align));
  }
  if (_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(largest, splat(0x7F7FFFFF))))) return 0;
  __m256i top = _mm256_max_epu32(_mm256_srli_epi32(largest, 23), splat(1));
  // The terms are exact multiples of 2^(E−13) below 2^(E+2): every partial sum is exact, so two
  // chains give the one chain's sum.
  __m256 sum0 = truncated(*acc, top);
  __m256 sum1 = _mm256_setzero_ps();
  ptrdiff_t t = 0;
  for (; t + 2 <= count; t += 2) {
    sum0 = _mm256_add_ps(sum0, truncated(terms[t], top));
    sum1 = _mm256_add_ps(sum1, truncated(terms[t + 1], top));
  }
  if (t < count) sum0 = _mm256_add_ps(sum0, truncated(terms[t], top));
  __m256i bits = _mm256_castps_si256(_mm256_add_ps(sum0, sum1));
  // Past f32's range (an infinite or NaN sum): the scalar definition decides.
  if (_mm256_movemask_ps(_mm256_castsi256_ps(
          _mm256_cmpgt_epi32(_mm256_and_si256(bits, splat(0x7FFFFFFF)), splat(0x7F7FFFFF)))))
    return 0;
  // 14 significant bits: the low 10 mantissa bits cleared; a zero sum is +0.
  bits = _mm256_and_si256(bits, splat(0xFFFFFC00u));
  __m256i zero = _mm256_cmpeq_epi32(_mm256_and_si256(bits, splat(0x7FFFFFFF)), _mm256_setzero_si256());
  *acc = _mm256_castsi256_ps(_mm256_andnot_si256(zero, bits));
  return 1;
}

AVX2 ptrdiff_t fp8k_fp22(const float *a, const float *packed, const float *aalign,
                         const float *palign, float *c, ptrdiff_t row0, ptrdiff_t row1,
                         ptrdiff_t n, ptrdiff_t k, uint8_t *left) {
  const ptrdiff_t group = 32;
  ptrdiff_t panels = (n + 7) / 8;
  ptrdiff_t undecided = 0;
  for (ptrdiff_t i = row0; i < row1; i++) {
    const float *arow = a + i * k;
    const float *alrow = aalign + i * k;
    for (ptrdiff_t p = 0; p < panels; p++) {
      ptrdiff_t w = n - 8 * p;
      ptrdiff_t width = w < 8 ? w : 8;
      const float *panel = packed + p * k * 8;
      const float *alpanel = palign + p * k * 8;
      __m256 acc = load_c(c + i * n + 8 * p, width);
      int decided = 1;
      for (ptrdiff_t k0 = 0; k0 < k && decided; k0 += group) {
        ptrdiff_t count = k - k0 < group ? k - k0 : group;
        decided = fp22_group(&acc, arow + k0, panel + k0 * 8, alrow + k0, alpanel + k0 * 8, count);
      }
      if (decided) {
        store_c(c + i * n + 8 * p, width, acc);
      } else {
        left[(i - row0) * panels + p] = 1;
        undecided++;
      }
    }
  }
  return undecided;
}

#else  // not x86-64 with clang: no vector kernels, fp8k_level() is 0 and the Swift kernels run.

#include <stdlib.h>

int fp8k_level(void) { return 0; }

// Never called (fp8k_level() is 0); stop rather than return C unchanged.
void fp8k_f32(const float *a, const float *packed, float *c, ptrdiff_t row0, ptrdiff_t row1,
              ptrdiff_t n, ptrdiff_t k) { abort(); }
void fp8k_bf16(const float *a, const float *packed, float *c, ptrdiff_t row0, ptrdiff_t row1,
               ptrdiff_t n, ptrdiff_t k) { abort(); }
void fp8k_f16(const float *a, const float *packed, float *c, ptrdiff_t row0, ptrdiff_t row1,
              ptrdiff_t n, ptrdiff_t k) { abort(); }
void fp8k_f16split(const float *a, const float *packed, float *c, ptrdiff_t row0,
                   ptrdiff_t row1, ptrdiff_t n, ptrdiff_t k) { abort(); }
ptrdiff_t fp8k_fp22(const float *a, const float *packed, const float *aalign,
                    const float *palign, float *c, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t n,
                    ptrdiff_t k, uint8_t *left) { abort(); }
void fp8k_round_f16(const float *x, float *out, ptrdiff_t n) { abort(); }

#endif
