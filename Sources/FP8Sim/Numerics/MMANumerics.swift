import FP8Formats

/// The tensor unit's accumulators, exactly as `isa/ISA.md` (`mma`) defines them.
public enum Accumulator: String, Sendable, CaseIterable {
  case f32, f16, bf16, fp22
}

/// `C[M×N] += A[M×K] · B[K×N]` on packed row-major `Float` matrices, for each accumulator.
///
/// Every product is exact: products of FP8, f16 and bf16 values fit in `Float` (at most 11 × 11
/// significant bits) and f32 inputs use a fused multiply-add. Each element accumulates its
/// products in increasing k, rounding once per addition to the accumulator's format.
///
/// `inputs` says how many significant bits the products have, which decides how a narrow
/// accumulator can round correctly: FP8 products (at most 8 bits) can be added in `Float` and
/// rounded to f16 or bf16 directly (24 ≥ 2·11 + 2); wider products are added in `Double` with
/// round-to-odd first. The FP32 shadow run passes `inputs: .fp8` semantics for speed on any
/// input (`shadow: true`): each product and each sum rounded to f32.
public enum MMANumerics {
  /// Width of an fp22 alignment group along K, and the fractional bits kept (DeepSeek-V3 §3.5.2;
  /// hardware-numbers §A6).
  public static let fp22Group = 32
  public static let fp22FractionBits = 13

  public static func multiply(
    a: [Float], b: [Float], c: inout [Float], m: Int, n: Int, k: Int, accumulator: Accumulator,
    inputs: MMAInputClassName = .fp8
  ) {
    precondition(a.count == m * k && b.count == k * n && c.count == m * n)
    #if DEBUG
      // Unoptimised SIMD code is slower than plain loops: debug builds (the test suite) use the
      // reference, which `KernelTests` prove bit-identical to the kernels.
      reference(a: a, b: b, c: &c, m: m, n: n, k: k, accumulator: accumulator, inputs: inputs)
    #else
      fast(a: a, b: b, c: &c, m: m, n: n, k: k, accumulator: accumulator, inputs: inputs)
    #endif
  }

  /// The fast kernels (MMAKernels.swift): exactly what `reference` defines, bit for bit.
  static func fast(
    a: [Float], b: [Float], c: inout [Float], m: Int, n: Int, k: Int, accumulator: Accumulator,
    inputs: MMAInputClassName
  ) {
    switch (accumulator, inputs) {
    case (.f32, .fp8), (.f32, .half):
      MMAKernels.multiply(F32Accumulation.self, a: a, b: b, c: &c, m: m, n: n, k: k)
    case (.f16, .fp8): MMAKernels.multiply(F16Accumulation.self, a: a, b: b, c: &c, m: m, n: n, k: k)
    case (.bf16, .fp8): MMAKernels.multiply(BF16Accumulation.self, a: a, b: b, c: &c, m: m, n: n, k: k)
    case (.fp22, .fp8), (.fp22, .half): FP22Kernel.multiply(a: a, b: b, c: &c, m: m, n: n, k: k)
    default: reference(a: a, b: b, c: &c, m: m, n: n, k: k, accumulator: accumulator, inputs: inputs)
    }
  }

  /// The FP32 shadow run's matmul: every product and every sum rounded to f32, in increasing k.
  public static func shadow(a: [Float], b: [Float], c: inout [Float], m: Int, n: Int, k: Int) {
    #if DEBUG
      f32(a, b, &c, m, n, k)
    #else
      MMAKernels.multiply(F32Accumulation.self, a: a, b: b, c: &c, m: m, n: n, k: k)
    #endif
  }

  /// The definition of every accumulator, one element and one product at a time.
  public static func reference(
    a: [Float], b: [Float], c: inout [Float], m: Int, n: Int, k: Int, accumulator: Accumulator,
    inputs: MMAInputClassName = .fp8
  ) {
    switch accumulator {
    case .f32:
      if inputs == .single { f32Fused(a, b, &c, m, n, k) } else { f32(a, b, &c, m, n, k) }
    case .f16: rounded(a, b, &c, m, n, k, narrowProducts: inputs == .fp8) { Float(Float16($0)) }
    case .bf16: rounded(a, b, &c, m, n, k, narrowProducts: inputs == .fp8) { roundToBF16($0) }
    case .fp22: fp22(a, b, &c, m, n, k)
    }
  }

  /// f32 accumulation, vectorised across N: for each k, `C[i, :] += A[i, k] · B[k, :]`.
  static func f32(_ a: [Float], _ b: [Float], _ c: inout [Float], _ m: Int, _ n: Int, _ k: Int) {
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          for i in 0..<m {
            let row = pc.baseAddress! + i * n
            for kk in 0..<k {
              let s = pa[i * k + kk]
              let brow = pb.baseAddress! + kk * n
              for j in 0..<n { row[j] += s * brow[j] }
            }
          }
        }
      }
    }
  }

  static func f32Fused(_ a: [Float], _ b: [Float], _ c: inout [Float], _ m: Int, _ n: Int, _ k: Int) {
    for i in 0..<m {
      for kk in 0..<k {
        let s = a[i * k + kk]
        for j in 0..<n { c[i * n + j] = c[i * n + j].addingProduct(s, b[kk * n + j]) }
      }
    }
  }

  /// An accumulator narrower than f32: `acc = round(acc + a·b)` after every product.
  ///
  /// With products of at most 8 significant bits (FP8 inputs) the `Float` sum followed by one
  /// rounding to f16 or bf16 is correctly rounded (24 ≥ 2·11 + 2). Wider products are added in
  /// `Double` with round-to-odd, which keeps the final rounding correct.
  static func rounded(
    _ a: [Float], _ b: [Float], _ c: inout [Float], _ m: Int, _ n: Int, _ k: Int, narrowProducts: Bool,
    _ round: (Float) -> Float
  ) {
    for i in 0..<m {
      for kk in 0..<k {
        let s = a[i * k + kk]
        for j in 0..<n {
          let acc = c[i * n + j]
          if narrowProducts {
            c[i * n + j] = round(acc + s * b[kk * n + j])
          } else {
            // The exact product in Double (f32 inputs: up to 48 bits), then one rounding.
            let p = Double(s) * Double(b[kk * n + j])
            c[i * n + j] = round(floatRoundedToOdd(sumRoundedToOdd(Double(acc), p)))
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

  /// FP22 (H100-like FP8 path): per group of 32 products, align to the largest exponent of the
  /// group and the accumulator, truncate every term to 13 fractional bits, add exactly, then
  /// truncate the sum to 14 significant bits.
  static func fp22(_ a: [Float], _ b: [Float], _ c: inout [Float], _ m: Int, _ n: Int, _ k: Int) {
    var terms = [Double](repeating: 0, count: fp22Group + 1)
    for i in 0..<m {
      for j in 0..<n {
        var acc = Double(c[i * n + j])
        var k0 = 0
        while k0 < k {
          let count = min(fp22Group, k - k0)
          terms[0] = acc
          for t in 0..<count { terms[t + 1] = Double(a[i * k + k0 + t]) * Double(b[(k0 + t) * n + j]) }
          acc = fp22Group(terms[0...count])
          k0 += count
        }
        c[i * n + j] = Float(acc)
      }
    }
  }

  /// One aligned group: `terms[0]` is the accumulator.
  static func fp22Group(_ terms: ArraySlice<Double>) -> Double {
    var maxExponent = Int.min
    var nonFinite = false
    for t in terms {
      if !t.isFinite {
        nonFinite = true
      } else if t != 0 {
        maxExponent = max(maxExponent, Int(t.exponent))
      }
    }
    if nonFinite { return Double(Float(terms.reduce(0, +))) }
    if maxExponent == Int.min { return 0 }
    let quantum = maxExponent - fp22FractionBits
    var sum = 0.0
    for t in terms where t != 0 {
      sum += truncate(t, toMultipleOf: quantum)
    }
    if sum == 0 { return 0 }
    let result = truncate(sum, toMultipleOf: Int(sum.exponent) - fp22FractionBits)
    // The register has f32's exponent range.
    if result.magnitude > Double(Float.greatestFiniteMagnitude) { return result < 0 ? -.infinity : .infinity }
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
