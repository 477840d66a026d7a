import FP8Formats
import Testing

@testable import FP8Sim

/// The fast mma kernels give exactly the bits of the reference definitions.
@Suite struct KernelTests {
  /// Random FP8 values (all codes except NaN/inf), so products are exact in f32.
  static func fp8Values(_ count: Int, format: FloatFormat, rng: inout SplitMix64, scale: Double = 1)
    -> [Float]
  {
    (0..<count).map { _ in
      while true {
        let v = format.decode(UInt32(rng.next() & 0xFF))
        if v.isFinite { return Float(v * scale) }
      }
    }
  }

  struct Shape: Sendable, CustomTestStringConvertible {
    var m: Int
    var n: Int
    var k: Int
    var testDescription: String { "\(m)×\(n)×\(k)" }
  }

  @Test(
    arguments: Accumulator.allCases,
    [
      Shape(m: 1, n: 1, k: 1), Shape(m: 3, n: 5, k: 7), Shape(m: 4, n: 8, k: 32), Shape(m: 9, n: 17, k: 65),
      Shape(m: 64, n: 64, k: 100), Shape(m: 5, n: 130, k: 33),
    ])
  func fastKernelEqualsReference(accumulator: Accumulator, shape: Shape) {
    var rng = SplitMix64(seed: UInt64(shape.m * 1000 + shape.n * 10 + shape.k))
    let (m, n, k) = (shape.m, shape.n, shape.k)
    // Large-magnitude E5 values push f16/bf16 accumulators into overflow and subnormals.
    let a = Self.fp8Values(m * k, format: .e4m3fn, rng: &rng)
    let b = Self.fp8Values(k * n, format: accumulator == .f16 ? .e5m2 : .e4m3fn, rng: &rng, scale: 0.01)
    let c0 = Self.fp8Values(m * n, format: .e4m3fn, rng: &rng)
    var fast = c0
    var slow = c0
    MMANumerics.fast(a: a, b: b, c: &fast, m: m, n: n, k: k, accumulator: accumulator, inputs: .fp8)
    MMANumerics.reference(a: a, b: b, c: &slow, m: m, n: n, k: k, accumulator: accumulator)
    let mismatches = (0..<(m * n)).filter {
      !(fast[$0].bitPattern == slow[$0].bitPattern || (fast[$0].isNaN && slow[$0].isNaN))
    }
    #expect(
      mismatches.isEmpty,
      "\(mismatches.count) mismatches; first: \(mismatches.first.map { "\(fast[$0]) vs \(slow[$0])" } ?? "")")
  }

  @Test func halfRoundingMatchesFloat16OnEveryKindOfValue() {
    var rng = SplitMix64(seed: 1)
    var inputs: [Float] = [
      0, -0, 65504, 65519.99, 65520, -65520, 1e-8, -3e-8, 5.9604645e-8, 2.9802322e-8, .infinity, -.infinity,
      .nan, 1.0009765, 6.1035156e-5,
    ]
    for _ in 0..<100_000 { inputs.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
    var i = 0
    while i + 8 <= inputs.count {
      let v = SIMD8<Float>(inputs[i..<(i + 8)])
      let r = HalfRounding.round(v)
      for lane in 0..<8 {
        let want = Float(Float16(v[lane]))
        let ok = r[lane].bitPattern == want.bitPattern || (r[lane].isNaN && want.isNaN)
        if !ok {
          Issue.record("f16 rounding of \(v[lane]): got \(r[lane]), want \(want)")
          return
        }
      }
      i += 8
    }
  }

  @Test func parallelSplitIsDeterministic() {
    var rng = SplitMix64(seed: 9)
    let (m, n, k) = (96, 80, 96)  // above the parallel threshold
    let a = Self.fp8Values(m * k, format: .e4m3fn, rng: &rng)
    let b = Self.fp8Values(k * n, format: .e4m3fn, rng: &rng)
    var first = [Float](repeating: 0, count: m * n)
    var second = first
    MMANumerics.fast(a: a, b: b, c: &first, m: m, n: n, k: k, accumulator: .f16, inputs: .fp8)
    MMANumerics.fast(a: a, b: b, c: &second, m: m, n: n, k: k, accumulator: .f16, inputs: .fp8)
    #expect(first.map(\.bitPattern) == second.map(\.bitPattern))
  }
}

@Suite struct WideProductTests {
  /// f16 × f16 products have 22 bits: an f16 accumulator must still round each addition once.
  @Test func halfInputsIntoAnF16AccumulatorRoundCorrectly() {
    var rng = SplitMix64(seed: 77)
    let (m, n, k) = (3, 4, 200)
    func value() -> Float { Float(FloatFormat.f16.round((rng.nextUnit() - 0.5) * 64)) }
    let a = (0..<(m * k)).map { _ in value() }
    let b = (0..<(k * n)).map { _ in value() }
    var c = [Float](repeating: 0, count: m * n)
    MMANumerics.multiply(a: a, b: b, c: &c, m: m, n: n, k: k, accumulator: .f16, inputs: .half)
    for i in 0..<m {
      for j in 0..<n {
        var acc: Float = 0
        for kk in 0..<k {
          // acc + a·b is exact in Double here (at most 22 + 11 bits within a narrow range).
          acc = Float(Float16(Double(acc) + Double(a[i * k + kk]) * Double(b[kk * n + j])))
        }
        #expect(c[i * n + j] == acc)
      }
    }
  }
}
