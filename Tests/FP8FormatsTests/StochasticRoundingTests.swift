import Testing

@testable import FP8Formats

/// Stochastic rounding: only the two neighbours, unbiased in the mean, repeatable with a seed.
@Suite struct StochasticRoundingTests {
  @Test(arguments: [1.03, 1.0625, 1.1, -3.3, 0.0003, 200.5])
  func isUnbiasedInTheMean(x: Double) {
    let format = FloatFormat.e4m3fn
    let n = 200_000
    var sum = 0.0
    let down = format.round(x, rounding: .towardZero)
    let quantum = (format.round(x.magnitude, rounding: .towardZero).nextUp).ulpOfFormat(format)
    for i in 0..<n {
      let v = format.round(
        x, rounding: .stochastic, randomBits: RandomBits.at(seed: 7, index: UInt64(i)))
      // Only the two neighbours occur.
      #expect(v == down || (v - down).magnitude == quantum, "\(v) is not a neighbour of \(x)")
      sum += v
    }
    // Each sample has standard deviation ≤ quantum/2: the mean is within 6 sigma.
    let tolerance = 6 * (quantum / 2) / Double(n).squareRoot()
    #expect((sum / Double(n) - x).magnitude < tolerance)
  }

  @Test func isRepeatableForASeedAndDiffersAcrossSeeds() {
    func codes(seed: UInt64) -> [UInt32] {
      (0..<256).map {
        FloatFormat.e5m2.encode(
          1.1, rounding: .stochastic, randomBits: RandomBits.at(seed: seed, index: UInt64($0))
        ).code
      }
    }
    #expect(codes(seed: 1) == codes(seed: 1))
    #expect(codes(seed: 1) != codes(seed: 2))
  }

  @Test func exactValuesNeverMove() {
    for i in 0..<1000 {
      let e = FloatFormat.e4m3fn.encode(
        1.125, rounding: .stochastic, randomBits: RandomBits.at(seed: 3, index: UInt64(i)))
      #expect(e.code == 0x39 && e.event == .exact)
    }
  }
}

extension Double {
  /// The spacing of `format` at this (already representable, positive) magnitude.
  fileprivate func ulpOfFormat(_ format: FloatFormat) -> Double {
    let e = Swift.max(Int(self.exponent), format.minNormalExponent) - format.mantissaBits
    return ScalingBias.powerOfTwo(e)
  }
}
