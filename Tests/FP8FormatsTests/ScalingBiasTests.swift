import Testing

@testable import FP8Formats

/// The FP8-AMAX rule `floor(log2(max / amax)) - margin`, clamped, at its edges.
@Suite struct ScalingBiasTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var format: FloatFormat
    var amax: Double
    var margin = 0
    var bias: Int
    var testDescription: String { "\(format) amax=\(amax) margin=\(margin) → \(bias)" }
  }

  @Test(arguments: [
    Case(format: .e4m3fn, amax: 0, bias: 0),  // undefined → documented 0
    Case(format: .e4m3fn, amax: 448, bias: 0),  // amax = max_num
    Case(format: .e4m3fn, amax: 224, bias: 1),  // exactly max/2
    Case(format: .e4m3fn, amax: 224.0.nextUp, bias: 0),  // just above max/2
    Case(format: .e4m3fn, amax: 7, bias: 6),  // 448/7 = 64 exactly
    Case(format: .e4m3fn, amax: 7.0.nextUp, bias: 5),  // ratio just below 64
    Case(format: .e4m3fn, amax: 1, bias: 8),  // powers of two
    Case(format: .e4m3fn, amax: 2, bias: 7),
    Case(format: .e4m3fn, amax: 0.5, bias: 9),
    Case(format: .e4m3fnuz, amax: 1, bias: 7),  // 240: floor(log2 240) = 7
    Case(format: .e4m3fnuz, amax: 240, bias: 0),
    Case(format: .e5m2, amax: 1, bias: 15),  // 57344
    Case(format: .e5m2fnuz, amax: 1, margin: 3, bias: 12),  // the paper's margin
    Case(format: .e4m3fn, amax: 0x1p-40, bias: 31),  // clamped
    Case(format: .e4m3fn, amax: 1e30, bias: -31),  // clamped
    Case(format: .e4m3fn, amax: -2, bias: 7),  // sign ignored
    Case(format: .e4m3fn, amax: .infinity, bias: 0),  // undefined
    Case(format: .e4m3fn, amax: .nan, bias: 0),  // undefined
    Case(format: .e4m3fn, amax: 1000, bias: -2),  // 1000·2^-2 = 250 ≤ 448 < 500
    Case(format: .f16, amax: 1, bias: 15),
  ])
  func amaxRule(c: Case) {
    #expect(ScalingBias.amax(c.amax, format: c.format, margin: c.margin) == c.bias)
  }

  @Test func undefinedValueAndClampAreConfigurable() {
    #expect(ScalingBias.amax(0, format: .e4m3fn, undefined: 5) == 5)
    #expect(ScalingBias.amax(0x1p-40, format: .e4m3fn, range: -8...8) == 8)
    #expect(ScalingBias.amax(1, format: .e4m3fn, margin: Int.min) == 31)
    #expect(ScalingBias.rawAmaxBias(0, maxValue: 448) == nil)
  }

  /// With margin 0 the scaled amax lands in (max/2, max]: nothing overflows, nothing is wasted.
  @Test func scaledAmaxLandsInTheTopBinade() {
    var rng = SplitMix64(seed: 11)
    for _ in 0..<20_000 {
      // Exponents where the bias stays inside the default clamp [-31, 31] for every format.
      let amax = ScalingBias.powerOfTwo(Int(rng.next() % 24) - 14) * (1 + rng.nextUnit())
      for format in [FloatFormat.e4m3fn, .e4m3fnuz, .e5m2] {
        let b = ScalingBias.amax(amax, format: format)
        let scaled = ScalingBias.scaled(amax, by: b)
        #expect(scaled <= format.maxFinite && scaled > format.maxFinite / 2)
        #expect(format.encode(scaled, overflow: .nonfinite).event != .overflow)
      }
    }
  }
}
