// The `mma` kernels for the host's vector unit, chosen at run time (`fp8k_level`): x86-64
// AVX2 where the CPU and OS have it, nothing elsewhere (the portable Swift kernels in
// FP8Sim/Numerics/MMAKernels.swift then run). Same loops, same operations in the same order as
// the Swift kernels, so the same bits: every element adds its products in increasing k, each
// product rounded to f32 and then added (never fused), then the accumulator's rounding.
//
// Layout (as MMAKernels.pack makes it): A row-major m × k; B packed in panels of 8 columns,
// panel p holding B[kk][8p ..< 8p+8] at packed[(p·k + kk)·8], zero padded; C row-major m × n,
// read and written in place. Each call computes rows row0 ..< row1 of C, every column.
#ifndef FP8_KERNELS_C_H
#define FP8_KERNELS_C_H

#include <stddef.h>
#include <stdint.h>

/// A hint that the host cache line holding `p` will soon be read and written (the L2 model
/// prefetches the sets of a transfer's next rows). A hint only: no effect on any result.
static inline void fp8_prefetch(const void *p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 1, 3);
#else
  (void)p;
#endif
}

/// 1 when this host can run the AVX2 kernels (CPU and OS support for 256-bit registers), else 0.
int fp8k_level(void);

/// f32 accumulation: acc + a·b, product and sum each rounded to f32.
void fp8k_f32(const float *a, const float *packed, float *c, ptrdiff_t row0, ptrdiff_t row1,
              ptrdiff_t n, ptrdiff_t k);
/// bf16 accumulation: RN_bf16(acc + a·b) (`BF16Accumulation`).
void fp8k_bf16(const float *a, const float *packed, float *c, ptrdiff_t row0, ptrdiff_t row1,
               ptrdiff_t n, ptrdiff_t k);
/// f16 accumulation by the general rounding (`F16Accumulation`, `HalfRounding`).
void fp8k_f16(const float *a, const float *packed, float *c, ptrdiff_t row0, ptrdiff_t row1,
              ptrdiff_t n, ptrdiff_t k);
/// f16 accumulation by Veltkamp's split (`F16SplitAccumulation`).
void fp8k_f16split(const float *a, const float *packed, float *c, ptrdiff_t row0,
                   ptrdiff_t row1, ptrdiff_t n, ptrdiff_t k);
/// fp22 accumulation (`FP22Kernel`): groups of 32 products along K, each aligned by the
/// product of its inputs' alignments (`aalign`: m × k like A; `palign`: packed like B). A (row,
/// panel) with a group the vector code does not decide (an inf or NaN input, a sum that
/// overflows f32) is left untouched and marked: left[(row − row0) · panels + panel] = 1.
/// Returns how many were left.
ptrdiff_t fp8k_fp22(const float *a, const float *packed, const float *aalign,
                    const float *palign, float *c, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t n,
                    ptrdiff_t k, uint8_t *left);
/// out[i] = RN_f16(x[i]) as f32 (`HalfRounding.round`: overflow to inf, NaN kept), 8 at a time.
void fp8k_round_f16(const float *x, float *out, ptrdiff_t n);

#endif
