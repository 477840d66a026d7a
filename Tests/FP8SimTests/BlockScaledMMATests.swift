import FP8Formats
import Testing

@testable import FP8Sim

/// `BlockScaledMMA.reference` against cases worked out by hand (ties decided by bits far below
/// a `Double`'s reach, subnormal results, overflow, per-block rounding) and, on data where plain
/// `Double` arithmetic is exact, against that.
@Suite struct BlockScaledMMATests {
  /// One output element: c += Σ_blocks sa·sb·Σ a·b.
  static func one(_ c: Float, _ a: [Float], _ b: [Float], block: Int, sa: [Double], sb: [Double]) -> Float {
    var out = [c]
    BlockScaledMMA.reference(
      a: a, aScales: sa, b: b, bScales: sb, c: &out, m: 1, n: 1, k: a.count, block: block)
    return out[0]
  }

  @Test func blockTermIsExactBeforeItsOneRounding() {
    // 2^24 + (1 + 2^-60): above the tie between 2^24 and 2^24 + 2, so up. A Double sum of the
    // products would drop 2^-60 and tie to even (2^24).
    #expect(Self.one(0x1p24, [1, 0x1p-30], [1, 0x1p-30], block: 2, sa: [1], sb: [1]) == 0x1p24 + 2)
    // The same products as two blocks of one: each block rounds on its own, 2^24 + 1 ties to
    // even twice, and the 2^-60 is lost in the second.
    #expect(Self.one(0x1p24, [1, 0x1p-30], [1, 0x1p-30], block: 1, sa: [1, 1], sb: [1, 1]) == 0x1p24)
    // Scales multiply the whole block term: 2^-3 · 2^5 · (3·1.5) = 18.
    #expect(Self.one(0, [3, 0], [1.5, 7], block: 2, sa: [0x1p-3], sb: [0x1p5]) == 18)
  }

  /// A term 1 + 2^-24 is a tie between 1 and 1 + 2^-23; an accumulator of ±2^-140 (far below,
  /// the path that cuts the sum to 124 bits) breaks it either way; 0 leaves it to even.
  @Test func aFarSmallerAccumulatorBreaksATie() {
    let a: [Float] = [1, 0x1p-12]
    let b: [Float] = [1, 0x1p-12]
    #expect(Self.one(0x1p-140, a, b, block: 2, sa: [1], sb: [1]) == 1 + 0x1p-23)
    #expect(Self.one(-0x1p-140, a, b, block: 2, sa: [1], sb: [1]) == 1)
    #expect(Self.one(0, a, b, block: 2, sa: [1], sb: [1]) == 1)
    // Negative term: −(1 + 2^-24) with +2^-140 moves toward zero, below the tie: −1.
    #expect(Self.one(0x1p-140, a, b, block: 2, sa: [-1], sb: [1]) == -1)
    #expect(Self.one(-0x1p-140, a, b, block: 2, sa: [-1], sb: [1]) == -(1 + 0x1p-23))
  }

  @Test func subnormalResultsAndOverflow() {
    // 2^-75 · 2^-75 = 2^-150: the tie between 0 and 2^-149 goes to 0; a hair above goes up.
    #expect(Self.one(0, [0x1p-75], [0x1p-75], block: 1, sa: [1], sb: [1]) == 0)
    #expect(Self.one(0, [0x1p-75, 0x1p-90], [0x1p-75, 0x1p-80], block: 2, sa: [1], sb: [1]) == 0x1p-149)
    // 3 · 2^-151 = 0.75 · 2^-149 → 2^-149.
    #expect(Self.one(0, [3 * 0x1p-76], [0x1p-75], block: 1, sa: [1], sb: [1]) == 0x1p-149)
    // f32max + 2^103: half f32max's last bit, which is odd: up, to 2^128, which is inf.
    #expect(Self.one(.greatestFiniteMagnitude, [1], [1], block: 1, sa: [0x1p103], sb: [1]) == .infinity)
    #expect(
      Self.one(.greatestFiniteMagnitude, [1], [1], block: 1, sa: [0x1p102], sb: [1])
        == .greatestFiniteMagnitude)
    // Exact cancellation gives +0; −0 + a zero term stays as IEEE says (+0).
    #expect(Self.one(-3, [1.5], [2], block: 1, sa: [1], sb: [1]).bitPattern == Float(0).bitPattern)
    #expect(Self.one(-0.0, [0], [5], block: 1, sa: [1], sb: [1]).bitPattern == Float(0).bitPattern)
  }

  @Test func nonFiniteValuesFollowIEEE() {
    #expect(Self.one(1, [.nan, 1], [1, 1], block: 2, sa: [1], sb: [1]).isNaN)
    #expect(Self.one(1, [1, 1], [1, 1], block: 2, sa: [.nan], sb: [1]).isNaN)
    #expect(Self.one(1, [.infinity, 1], [1, 1], block: 2, sa: [1], sb: [1]) == .infinity)
    #expect(Self.one(1, [.infinity, 1], [0, 1], block: 2, sa: [1], sb: [1]).isNaN)  // inf · 0
  }

  /// MXFP4-like data (E2M1 elements, power-of-two scales 2^-8 … 2^8, accumulators multiples of
  /// 2^-18 below 2^30): every partial sum is exact in `Double`, so `Float(Double(d) + t)` per
  /// block is the definition. Random shapes, several blocks.
  @Test func matchesDoubleArithmeticWhereItIsExact() {
    var rng = SplitMix64(seed: 0xB10C)
    let fp4: [Float] = [0, 0.5, 1, 1.5, 2, 3, 4, 6].flatMap { [$0, -$0] }
    for _ in 0..<40 {
      let (m, n, block) = (
        1 + Int(rng.next() % 5), 1 + Int(rng.next() % 6), [1, 4, 16, 32][Int(rng.next() % 4)]
      )
      let k = block * (1 + Int(rng.next() % 3))
      let blocks = k / block
      let a = (0..<(m * k)).map { _ in fp4[Int(rng.next() % UInt64(fp4.count))] }
      let b = (0..<(k * n)).map { _ in fp4[Int(rng.next() % UInt64(fp4.count))] }
      let pow2 = { (r: inout SplitMix64) in
        Double(sign: .plus, exponent: Int(r.next() % 17) - 8, significand: 1)
      }
      let sa = (0..<(m * blocks)).map { _ in pow2(&rng) }
      let sb = (0..<(blocks * n)).map { _ in pow2(&rng) }
      let c0 = (0..<(m * n)).map { _ in
        Float(Int64(rng.next() % (1 << 24)) - (1 << 23)) * 0x1p-18 * Float(1 << Int(rng.next() % 12))
      }
      var got = c0
      BlockScaledMMA.reference(a: a, aScales: sa, b: b, bScales: sb, c: &got, m: m, n: n, k: k, block: block)
      for i in 0..<m {
        for j in 0..<n {
          var d = c0[i * n + j]
          for blk in 0..<blocks {
            var p = 0.0
            for kk in (blk * block)..<((blk + 1) * block) {
              p += Double(a[i * k + kk]) * Double(b[kk * n + j])
            }
            d = Float(Double(d) + sa[i * blocks + blk] * sb[blk * n + j] * p)
          }
          #expect(got[i * n + j].bitPattern == d.bitPattern, "\(m)×\(n)×\(k)/\(block) [\(i), \(j)]")
        }
      }
    }
  }
}
