import FP8Formats
import Testing

@testable import FP8Sim

/// The host-conversion path of `OutputCast.store` (f16 and f32 results, nearest-even,
/// non-finite overflow) against the general encoder it stands in for: same stored value (bit
/// for bit) and same event, on every f16 neighbour pair's ends, ties and just-off-ties, on
/// f32 ties, subnormals, overflows and random values, with several scaling biases.
@Suite struct OutputCastTests {
  /// The general path: `encode` then `decode`, as `store` does for every other format.
  func reference(_ x: Double, _ format: FloatFormat, bias: Int) -> (Float, CastEvent) {
    let e = format.encode(x, scale: bias, rounding: .nearestEven, overflow: .nonfinite)
    return (Float(format.decode(e.code)), e.event)
  }

  func check(_ xs: [Double], _ format: FloatFormat, biases: [Int]) -> Int {
    var mismatches = 0
    for bias in biases {
      let cast = OutputCast(format: format, bias: bias, rounding: .nearestEven, overflow: .nonfinite, seed: 0)
      for x in xs {
        let (v, e) = cast.store(x, index: 0)
        let (rv, re) = reference(x, format, bias: bias)
        if v.bitPattern != rv.bitPattern && !(v.isNaN && rv.isNaN) || e != re {
          mismatches += 1
          if mismatches <= 5 {
            Issue.record("\(format.name) bias \(bias): \(x) -> \(v) \(e), expected \(rv) \(re)")
          }
        }
      }
    }
    return mismatches
  }

  @Test func f16MatchesTheEncoderOnEveryNeighbourPair() {
    // Every finite non-negative f16 value, the midpoint to the next and doubles just off it.
    var xs: [Double] = []
    for code in UInt16(0)..<0x7C00 {
      let a = Double(Float16(bitPattern: code))
      let b = code == 0x7BFF ? 65520.0 : Double(Float16(bitPattern: code + 1))
      let mid = (a + b) / 2
      for x in [a, mid, mid.nextUp, mid.nextDown, Double(Float(mid).nextUp), Double(Float(mid).nextDown)] {
        xs += [x, -x]
      }
    }
    xs += [0x1p-26, 0x1p-25, 0x1p-25.nextUp, 1e-9, 65519.99, 65520, 1e6, .infinity, -.infinity, .nan]
    #expect(check(xs, .f16, biases: [0]) == 0)
    // Scaled: every 7th value under a few biases (the scaled value is rounded, not x).
    let some = stride(from: 0, to: xs.count, by: 7).map { xs[$0] }
    #expect(check(some, .f16, biases: [-20, -3, 1, 4, 15]) == 0)
  }

  @Test func f32MatchesTheEncoderOnTiesSubnormalsAndOverflow() {
    var rng = SplitMix64(seed: 0xF32)
    var xs: [Double] = []
    for _ in 0..<20_000 {
      // A random f32 (any exponent, subnormals included), its tie with the next and off-ties.
      let a = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x7F7F_FFFF)
      let mid = (Double(a) + Double(a.nextUp)) / 2
      xs += [Double(a), mid, mid.nextUp, mid.nextDown, -mid, Double(rng.nextUnit()) * 1e-40]
    }
    xs += [
      Double(Float.greatestFiniteMagnitude), 3.4028235677973366e38, 3.5e38, 0x1p-150, 0x1p-150.nextUp,
      0x1p-151,
    ]
    #expect(check(xs, .f32, biases: [0, -5, 7]) == 0)
  }

  /// Every narrow format (FP8, FP6, FP4, the fnuz and finite-only kinds): every code's value,
  /// the midpoint to the next code and the doubles beside it, past the largest finite value, and
  /// several biases, with both overflow modes; the fast path answers where it can and must agree.
  @Test func narrowFormatsMatchTheEncoderEverywhere() {
    var total = 0
    for format in FloatFormat.all
    where format.totalBits <= 16 && format.isSigned && format.hasZero {
      var values: [Double] = []
      for code in UInt32(0)..<UInt32(format.codeCount) {
        let v = format.decode(code)
        if v.isFinite && v >= 0 { values.append(v) }
      }
      values = Array(Set(values)).sorted()
      var xs: [Double] = []
      for (i, a) in values.enumerated() {
        let b = i + 1 < values.count ? values[i + 1] : a * 1.125
        let mid = (a + b) / 2
        for x in [a, mid, mid.nextUp, mid.nextDown, a * 0.75 + b * 0.25] { xs += [x, -x] }
      }
      xs += [format.maxFinite * 2, format.minSubnormal / 2, format.minSubnormal * 0.75, 1e-300, .nan]
      for overflow in [OverflowMode.nonfinite, .saturate] {
        for bias in [0, -3, 5] {
          let cast = OutputCast(
            format: format, bias: bias, rounding: .nearestEven, overflow: overflow, seed: 0)
          for x in xs {
            let (v, e) = cast.store(x, index: 0)
            let r = format.encode(x, scale: bias, rounding: .nearestEven, overflow: overflow)
            let rv = Float(format.decode(r.code))
            if !(v.bitPattern == rv.bitPattern || (v.isNaN && rv.isNaN)) || e != r.event {
              total += 1
              if total <= 5 {
                Issue.record(
                  "\(format.name) bias \(bias) \(overflow): \(x) -> \(v) \(e), expected \(rv) \(r.event)")
              }
            }
          }
        }
      }
    }
    #expect(total == 0)
  }

  /// Break the fast path (e.g. round through Float before Float16, or call a tie "exact") and
  /// these differ: the check is not vacuous.
  @Test func doubleRoundingWouldBeCaught() {
    // 1 + 2^-11 + 2^-40 rounds up in f16 directly, but through f32 it first becomes the tie
    // 1 + 2^-11, which rounds to even: 1.
    let x = 1 + 0x1p-11 + 0x1p-40
    #expect(Float(Float16(Float(x))) == 1)
    #expect(reference(x, .f16, bias: 0).0 == Float(1 + 0x1p-10))
    #expect(check([x], .f16, biases: [0]) == 0)
  }
}
