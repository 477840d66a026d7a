import FP8Formats
import FP8ISA

/// `C[M×N] += A[M×K] · B[K×N]` on packed row-major `Float` matrices, for each accumulator,
/// exactly as `isa/ISA.md` (`mma`) states it:
///
/// - Every product `a·b` is exact: never rounded, never flushed, never overflowing on its own
///   (bf16 products span 2^-266 … 2^256 and f32 products have 48 bits, so a `Float` product is
///   not enough in general).
/// - `f32`, `f16`, `bf16`: each element adds its products in increasing k, rounding the exact
///   `acc + a·b` once to the accumulator's format, to nearest even, with subnormals (no flush to
///   zero) and IEEE overflow to ±inf: an f32 accumulator is a chain of fused multiply-adds.
/// - `fp22`: see `fp22Group`.
///
/// `reference` is that definition, written plainly. The fast kernels (`MMAKernels.swift`) work in
/// `Float` lanes, which is exact only for some data; `fast` checks the data first
/// (`OperandProfile`) and uses the reference for the rest, so both give the same bits for every
/// input. Debug builds (the test suite) run the reference, release builds `fast`; `KernelTests`
/// call both explicitly, so the comparison does not depend on the build configuration.
///
/// `c` must hold values of the accumulator's format for `f16` and `bf16` (the assembler only
/// lets those accumulate into an f16 or bf16 D); the reference rounds any other value as part of
/// the first addition.
public enum MMANumerics {
  /// Width of an fp22 alignment group along K, and the fractional bits kept (DeepSeek-V3
  /// technical report, §3.5.2, on H800 FP8 GEMM accumulation).
  public static let fp22Group = 32
  public static let fp22FractionBits = 13
  /// The smallest exponent of the fp22 register (f32's smallest normal exponent): a subnormal
  /// accumulator is aligned as if it had this exponent, as IEEE subnormals share `e_min`, and no
  /// group aligns below it.
  public static let fp22MinExponent = -126

  /// The smallest exponent fp22 reads an input of `format` with (its smallest normal exponent:
  /// a subnormal input is a significand below 1 times 2^that); f32's when the format is not
  /// known.
  public static func fp22Floor(_ format: FloatFormat?) -> Int { format?.minNormalExponent ?? fp22MinExponent }

  /// The exponent a zero input is read with (MMA-Sim's `extract_significand_exponent`): a zero
  /// product still takes part in choosing a group's largest exponent, at −126 + e of the other.
  public static let zeroInputExponent = -126

  /// The exponent fp22 and f32rz read input `x` with: at least `floor` (its format's smallest
  /// normal exponent, plus `scale`) for a finite nonzero x, `zeroInputExponent + scale` for a
  /// zero, 0 for inf and NaN (their group is decided apart). `scale` is a block scale's exponent
  /// (MX, NVFP4), added to its element's.
  @inline(__always)
  static func inputExponent(_ x: Float, floor: Int, scale: Int = 0) -> Int {
    if !x.isFinite { return 0 }
    return x == 0 ? zeroInputExponent + scale : max(Int(x.exponent), floor)
  }

  /// The power of two fp22 aligns an input by: 2^(`inputExponent`) (2^-126 for a zero), +inf
  /// for inf and NaN (so that a product of alignments is not finite where the product is not).
  /// The product of two alignments is 2^(ea + eb), exactly, wherever that is a normal `Float`;
  /// below 2^-126 it does not matter (E is at least −126).
  @inline(__always)
  static func fp22Alignment(_ x: Float, floor: Int) -> Float {
    if !x.isFinite { return .infinity }
    return Float(sign: .plus, exponent: inputExponent(x, floor: floor), significand: 1)
  }

  /// `formats`: the formats every value of A and of B is exact in (the machine's tensors are;
  /// a caller must be as sure), which can spare the fast path its look at the values
  /// (`productsFit`) and choose a cheaper exact f16 rounding (`splitApplies`).
  public static func multiply(
    a: [Float], b: [Float], c: inout [Float], m: Int, n: Int, k: Int, accumulator: Accumulator,
    inputs: MMAInputClass = .fp8, parallel: Bool = true, formats: (a: FloatFormat, b: FloatFormat)? = nil
  ) {
    precondition(a.count == m * k && b.count == k * n && c.count == m * n)
    #if DEBUG
      // Unoptimised SIMD code is slower than plain loops: debug builds (the test suite) use the
      // reference, which `KernelTests` prove bit-identical to the kernels.
      reference(
        a: a, b: b, c: &c, m: m, n: n, k: k, accumulator: accumulator, inputs: inputs, formats: formats)
    #else
      fast(
        a: a, b: b, c: &c, m: m, n: n, k: k, accumulator: accumulator, inputs: inputs, parallel: parallel,
        formats: formats)
    #endif
  }

  /// The fast kernels (MMAKernels.swift) where the data lets their `Float` arithmetic give
  /// exactly the reference's bits, the reference elsewhere. The input class does not matter:
  /// only the values do.
  static func fast(
    a: [Float], b: [Float], c: inout [Float], m: Int, n: Int, k: Int, accumulator: Accumulator,
    inputs: MMAInputClass, parallel: Bool = true, formats: (a: FloatFormat, b: FloatFormat)? = nil,
    kernels: KernelSet = .best
  ) {
    if kernelApplies(a: a, b: b, c: c, accumulator: accumulator, formats: formats) {
      switch accumulator {
      case .f32:
        MMAKernels.multiply(
          F32Accumulation.self, a: a, b: b, c: &c, m: m, n: n, k: k, parallel: parallel, kernels: kernels)
      case .f16 where splitApplies(a: a, b: b, c: c, formats: formats):
        MMAKernels.multiply(
          F16SplitAccumulation.self, a: a, b: b, c: &c, m: m, n: n, k: k, parallel: parallel, kernels: kernels
        )
      case .f16:
        MMAKernels.multiply(
          F16Accumulation.self, a: a, b: b, c: &c, m: m, n: n, k: k, parallel: parallel, kernels: kernels)
      case .bf16:
        MMAKernels.multiply(
          BF16Accumulation.self, a: a, b: b, c: &c, m: m, n: n, k: k, parallel: parallel, kernels: kernels)
      case .f32rz:
        reference(
          a: a, b: b, c: &c, m: m, n: n, k: k, accumulator: accumulator, inputs: inputs, formats: formats)
      case .fp22:
        FP22Kernel.multiply(
          a: a, b: b, c: &c, m: m, n: n, k: k, floors: (fp22Floor(formats?.a), fp22Floor(formats?.b)),
          parallel: parallel, kernels: kernels)
      }
    } else {
      reference(
        a: a, b: b, c: &c, m: m, n: n, k: k, accumulator: accumulator, inputs: inputs, formats: formats)
    }
  }

  /// Whether the fast kernel of `accumulator` is exact on this data:
  /// - every product is exact in `Float` and a normal number (its significand fits 24 bits and
  ///   its magnitude is in [2^-126, 2^128)), so the `Float` product is the exact product and
  ///   `acc + a·b` in `Float` is the fused multiply-add (f32), and fp22 sees the true exponents;
  /// - f16 / bf16 add in `Float` and round the sum again, which is correct only for products of
  ///   at most 8 significant bits (FP8 × FP8: 24 ≥ 2·11 + 2) and an accumulator that already
  ///   holds values of its format.
  ///
  /// With `formats`, the formats alone decide the first condition when they can
  /// (`productsFit`); otherwise the values are profiled (`OperandProfile`).
  static func kernelApplies(
    a: [Float], b: [Float], c: [Float], accumulator: Accumulator,
    formats: (a: FloatFormat, b: FloatFormat)? = nil
  ) -> Bool {
    if accumulator == .f32rz { return false }  // the definition runs (no vector kernel)
    let fitBits = accumulator == .f16 || accumulator == .bf16 ? 8 : 24
    let promised = formats.map { productsFit($0.a, $0.b, bits: fitBits) } ?? false
    guard promised || OperandProfile(a).productsWith(OperandProfile(b), fitBits: fitBits) else {
      return false
    }
    switch accumulator {
    case .f32, .fp22: return true
    case .f32rz: return false
    case .f16: return c.allSatisfy { $0.isNaN || Float(Float16($0)) == $0 }
    case .bf16: return c.allSatisfy { $0.isNaN || roundToBF16($0) == $0 }
    }
  }

  /// Whether the f16 kernel may round by Veltkamp's split (`F16SplitAccumulation`), on top of
  /// `kernelApplies`: the formats make every product a multiple of 2^-24 (each value is a
  /// multiple of its format's smallest subnormal), and no operand value is NaN.
  static func splitApplies(a: [Float], b: [Float], c: [Float], formats: (a: FloatFormat, b: FloatFormat)?)
    -> Bool
  {
    guard let formats, formats.a.minSubnormal * formats.b.minSubnormal >= 0x1p-24 else { return false }
    func noNaN(_ values: [Float]) -> Bool {
      values.withUnsafeBufferPointer { v in
        var worst: UInt32 = 0
        for x in v { worst = max(worst, x.bitPattern & 0x7FFF_FFFF) }
        return worst <= 0x7F80_0000
      }
    }
    return noNaN(a) && noNaN(b) && noNaN(c)
  }

  /// Whether every product of a finite value of `fa` and one of `fb` has at most `bits`
  /// significant bits and, unless zero, is a normal `Float` (what `OperandProfile.productsWith`
  /// checks on values), from the formats alone: significands of `mantissaBits + 1` bits, and the
  /// extreme products within [2^-126, 2^128). True for every pair of FP8 formats.
  static func productsFit(_ fa: FloatFormat, _ fb: FloatFormat, bits: Int) -> Bool {
    fa.mantissaBits + fb.mantissaBits + 2 <= bits && fa.maxFinite * fb.maxFinite < 0x1p128
      && fa.minSubnormal * fb.minSubnormal >= 0x1p-126
  }

  /// The FP32 shadow run's matmul: every product and every sum rounded to f32 (not fused), in
  /// increasing k. `shadowF32` and the `F32Accumulation` kernel do the same two roundings.
  public static func shadow(
    a: [Float], b: [Float], c: inout [Float], m: Int, n: Int, k: Int, parallel: Bool = true
  ) {
    #if DEBUG
      shadowF32(a, b, &c, m, n, k)
    #else
      MMAKernels.multiply(F32Accumulation.self, a: a, b: b, c: &c, m: m, n: n, k: k, parallel: parallel)
    #endif
  }

  /// The definition of every accumulator, one element and one product at a time. `inputs` does
  /// not change the result (every product is exact whatever the inputs); `formats` (the formats
  /// of A's and B's values) sets the smallest exponent fp22 reads an input with (`fp22Floor`).
  public static func reference(
    a: [Float], b: [Float], c: inout [Float], m: Int, n: Int, k: Int, accumulator: Accumulator,
    inputs: MMAInputClass = .fp8, formats: (a: FloatFormat, b: FloatFormat)? = nil
  ) {
    switch accumulator {
    case .f32: f32Fused(a, b, &c, m, n, k)
    case .f16: rounded(a, b, &c, m, n, k) { Float(Float16($0)) }
    case .bf16: rounded(a, b, &c, m, n, k) { roundToBF16($0) }
    case .fp22: fp22(a, b, &c, m, n, k, formats: formats)
    case .f32rz:
      f32rz(
        a: a, b: b, c: &c, m: m, n: n, k: k, scaling: (.plain(formats?.a), .plain(formats?.b)), fp4Sums: false
      )
    }
  }

  /// The shadow's f32 matmul, vectorised across N: for each k, `C[i, :] += A[i, k] · B[k, :]`,
  /// the product rounded to f32, then the sum.
  static func shadowF32(_ a: [Float], _ b: [Float], _ c: inout [Float], _ m: Int, _ n: Int, _ k: Int) {
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          // Empty when m, n or k is 0: nothing to add.
          guard let cBase = pc.baseAddress, let bBase = pb.baseAddress else { return }
          for i in 0..<m {
            let row = cBase + i * n
            for kk in 0..<k {
              let s = pa[i * k + kk]
              let brow = bBase + kk * n
              for j in 0..<n { row[j] += s * brow[j] }
            }
          }
        }
      }
    }
  }

  /// f32 accumulation: `acc = RN_f32(acc + a·b)` with the exact product, a fused multiply-add.
  static func f32Fused(_ a: [Float], _ b: [Float], _ c: inout [Float], _ m: Int, _ n: Int, _ k: Int) {
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          // Empty when m, n or k is 0: nothing to add.
          guard let cBase = pc.baseAddress, let bBase = pb.baseAddress else { return }
          for i in 0..<m {
            let row = cBase + i * n
            for kk in 0..<k {
              let s = pa[i * k + kk]
              let brow = bBase + kk * n
              for j in 0..<n { row[j] = row[j].addingProduct(s, brow[j]) }
            }
          }
        }
      }
    }
  }

  /// An accumulator narrower than f32: `acc = round(acc + a·b)` after every product, rounding
  /// the exact sum once. The product is exact in `Double` (at most 48 bits, exponents far inside
  /// `Double`'s range). A sum that is exact in `Float` is rounded directly; any other is rounded
  /// to `Double` and then to `Float` with round-to-odd, which keeps the final rounding to f16 or
  /// bf16 correct (53 and 24 ≥ 11 + 2, and `Float`'s subnormal spacing 2^-149 is far below
  /// bf16's, 2^-133).
  static func rounded(
    _ a: [Float], _ b: [Float], _ c: inout [Float], _ m: Int, _ n: Int, _ k: Int, _ round: (Float) -> Float
  ) {
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          // Empty when m, n or k is 0: nothing to add.
          guard let cBase = pc.baseAddress, let bBase = pb.baseAddress else { return }
          for i in 0..<m {
            let row = cBase + i * n
            for kk in 0..<k {
              let s = Double(pa[i * k + kk])
              let brow = bBase + kk * n
              for j in 0..<n {
                let x = Double(row[j])
                let p = s * Double(brow[j])
                // When the sum is exact in `Float` (the usual case), round it once; otherwise
                // round to odd first. (The error term is TwoSum's, inlined: this loop is what
                // debug builds run.)
                let sum = x + p
                let bb = sum - x
                let error = (x - (sum - bb)) + (p - bb)
                let f = Float(sum)
                row[j] = round(error == 0 && Double(f) == sum ? f : floatRoundedToOdd(sumRoundedToOdd(x, p)))
              }
            }
          }
        }
      }
    }
  }

  /// `x + y` rounded to `Double` with round-to-odd (sticky last bit), so that a later rounding
  /// to any format of at most 51 bits is correctly rounded.
  static func sumRoundedToOdd(_ x: Double, _ y: Double) -> Double {
    let s = x + y
    guard s.isFinite else { return s }
    let bb = s - x
    let error = (x - (s - bb)) + (y - bb)
    if error == 0 || s.bitPattern & 1 == 1 { return s }
    return error > 0 ? s.nextUp : s.nextDown
  }

  /// `x` rounded to `Float` with round-to-odd: exact values stay, others take the neighbour
  /// whose last bit is 1. A later rounding to a format of at most 22 bits is then correct.
  static func floatRoundedToOdd(_ x: Double) -> Float {
    let f = Float(x)
    guard f.isFinite, Double(f) != x, f.bitPattern & 1 == 0 else { return f }
    return Double(f) < x ? f.nextUp : f.nextDown
  }

  /// FP22 (H100-like FP8 path): per group of 32 products, align every product by its inputs'
  /// exponents and the accumulator by its own, truncate every term to 13 fractional bits below
  /// the largest, add exactly, then truncate the sum to 14 significant bits (see `fp22Group`):
  /// the aligned accumulation `f32rz` uses too, with 13 fraction and 13 mantissa bits.
  static func fp22(
    _ a: [Float], _ b: [Float], _ c: inout [Float], _ m: Int, _ n: Int, _ k: Int,
    formats: (a: FloatFormat, b: FloatFormat)?
  ) {
    alignedAccumulation(
      a: a, b: b, c: &c, m: m, n: n, k: k, scaling: (.plain(formats?.a), .plain(formats?.b)), fp4Sums: false,
      fractionBits: fp22FractionBits, mantissaBits: fp22FractionBits)
  }

  /// One aligned group: `terms[0]` is the accumulator, the others exact products; `exponents`
  /// are their alignment exponents: the accumulator's own exponent, and for a product `a·b` the
  /// sum `ea + eb` of its inputs' exponents, each input read as a significand in [1, 2) times
  /// 2^e with e at least its format's smallest normal exponent (`fp22Floor`), a zero at −126
  /// (`inputExponent`), so that a product's significand is in [0, 4), not renormalised (MMA-Sim's
  /// and Khattak and Mikaitis's bit-accurate Hopper models, docs/hardware-numbers.md E7).
  ///
  /// - E = the largest of −126 and the alignment exponents of all terms, zero products included
  ///   (an accumulator below f32's normal range is aligned at −126, the register's `e_min`);
  /// - every term is truncated toward zero to a multiple of 2^(E−13); the terms are added
  ///   exactly;
  /// - the sum is truncated toward zero to a multiple of 2^(max(exponent(sum), −126) − 13): 14
  ///   significant bits, or a multiple of 2^-139 below 2^-126 (the register is f32 with its low
  ///   10 mantissa bits cleared, subnormals included);
  /// - a result of magnitude 2^128 or more is ±inf (the f32 register overflows); a zero result
  ///   is +0;
  /// - with an inf or NaN term the result is the IEEE sum of the terms (NaN, or that inf).
  static func fp22Group(_ terms: ArraySlice<Double>, exponents: ArraySlice<Int>) -> Double {
    alignedGroup(
      terms, exponents: exponents, fractionBits: fp22FractionBits, mantissaBits: fp22FractionBits,
      zerosAlign: true)
  }

  /// The aligned group of `fp22` (13 fraction bits, 13 mantissa bits) and `f32rz` (25 or 35
  /// fraction bits, 23 mantissa bits: f32 rounded toward zero): E is the largest of −126 and
  /// the alignment exponents (of the nonzero terms, or of every term with `zerosAlign`); every
  /// term truncated toward zero to a multiple of 2^(E − fractionBits); the exact sum truncated
  /// toward zero to `mantissaBits + 1` significant bits (a multiple of 2^(−126 − mantissaBits)
  /// below 2^-126); ±inf from 2^128 up; a zero result +0; with an inf or NaN term, the IEEE sum.
  /// Exact in `Double` for the widths used: at most 65 terms of `fractionBits` + 11 bits.
  static func alignedGroup(
    _ terms: ArraySlice<Double>, exponents: ArraySlice<Int>, fractionBits: Int, mantissaBits: Int,
    zerosAlign: Bool = false
  ) -> Double {
    var maxExponent = fp22MinExponent
    var nonFinite = false
    var nonzero = false
    for (t, e) in zip(terms, exponents) {
      if !t.isFinite {
        nonFinite = true
      } else if t != 0 {
        nonzero = true
        maxExponent = max(maxExponent, e)
      } else if zerosAlign {
        maxExponent = max(maxExponent, e)
      }
    }
    if nonFinite { return terms.reduce(0, +) }
    if !nonzero { return 0 }
    let quantum = maxExponent - fractionBits
    var sum = 0.0
    for t in terms where t != 0 {
      sum += truncate(t, toMultipleOf: quantum)  // exact (see above)
    }
    if sum == 0 { return 0 }
    let result = truncate(sum, toMultipleOf: max(Int(sum.exponent), fp22MinExponent) - mantissaBits)
    // The register has f32's exponent range.
    if result.magnitude >= 0x1p128 { return result < 0 ? -.infinity : .infinity }
    return result
  }

  /// `x` truncated toward zero to a multiple of `2^e` (exact: a power-of-two scaling).
  @inline(__always)
  static func truncate(_ x: Double, toMultipleOf e: Int) -> Double {
    ScalingBias.scaled(ScalingBias.scaled(x, by: -e).rounded(.towardZero), by: e)
  }

  /// Round-to-nearest-even to bfloat16, as a `Float`.
  @inline(__always)
  static func roundToBF16(_ x: Float) -> Float {
    if x.isNaN { return x }
    let bits = x.bitPattern
    let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
    return Float(bitPattern: rounded & 0xFFFF_0000)
  }
}
