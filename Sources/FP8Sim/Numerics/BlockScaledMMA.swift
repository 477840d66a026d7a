/// The block-scaled `mma` (Blackwell's `tcgen05.mma.kind::mxf8f6f4` / `mxf4`, and DeepSeek-V3's
/// fine-grained FP8 GEMM), defined one output element at a time:
///
/// K is cut into blocks of `block` elements. For output (i, n) and each block j in increasing
/// order, the term `T = sA[i, j] · sB[j, n] · Σ_{k ∈ j} A[i, k] · B[k, n]` is formed exactly
/// (every product exact, the block's sum exact, the scales multiplied in exactly), and the f32
/// accumulator takes it with one rounding: `D ← RN_f32(D + T)`. A NaN or an infinity among a
/// block's elements or scales makes that block's term follow IEEE arithmetic (in `Double`).
///
/// `reference` is that definition, written with integer arithmetic: each finite `Float` is an
/// integer significand times a power of two; a block's sum and the scale product are one
/// `Int128` significand and an exponent; the sum with D is rounded once, ties to even, with
/// f32's subnormals and overflow to ±inf. Exact as long as a block's products span at most
/// about 60 binades (the elements are FP8, FP6 or FP4 values: E5M2's span 2^-32 … 2^31); wider
/// inputs are a precondition failure, never a silently wrong sum.
public enum BlockScaledMMA {
  /// `c[m×n] += a[m×k] · b[k×n]`, with `aScales[m × k/block]` (row i, block j at
  /// `i · k/block + j`) and `bScales[k/block × n]` (block j, column n at `j · n + n`).
  public static func reference(
    a: [Float], aScales: [Double], b: [Float], bScales: [Double], c: inout [Float], m: Int, n: Int, k: Int,
    block: Int
  ) {
    precondition(block >= 1 && k % block == 0, "K must be a multiple of the block")
    let blocks = k / block
    precondition(a.count == m * k && b.count == k * n && c.count == m * n)
    precondition(aScales.count == m * blocks && bScales.count == blocks * n)
    for i in 0..<m {
      for col in 0..<n {
        var d = c[i * n + col]
        for j in 0..<blocks {
          let sa = aScales[i * blocks + j]
          let sb = bScales[j * n + col]
          let ks = (j * block)..<((j + 1) * block)
          let finite =
            sa.isFinite && sb.isFinite && ks.allSatisfy { a[i * k + $0].isFinite && b[$0 * n + col].isFinite }
          guard finite else {
            // IEEE semantics for NaN and infinities (no finite value is lost to rounding here
            // that could change a NaN or an infinity).
            var sum = 0.0
            for kk in ks { sum += Double(a[i * k + kk]) * Double(b[kk * n + col]) }
            d = Float(Double(d) + sa * sb * sum)
            continue
          }
          // Σ a·b as one Int128 significand over the smallest product exponent.
          var terms: [(Int128, Int)] = []
          for kk in ks {
            let (ma, ea) = split(Double(a[i * k + kk]))
            let (mb, eb) = split(Double(b[kk * n + col]))
            if ma != 0 && mb != 0 { terms.append((Int128(ma) * Int128(mb), ea + eb)) }
          }
          var sum = Int128(0)
          var exponent = 0
          if let low = terms.map(\.1).min() {
            exponent = low
            for (t, e) in terms {
              precondition(e - low <= 60, "a block's products span more than 60 binades")
              sum += t << (e - low)
            }
          }
          let (msa, esa) = split(sa)
          let (msb, esb) = split(sb)
          let term = sum * Int128(msa) * Int128(msb)
          d = roundedSum(d, term, exponent + esa + esb)
        }
        c[i * n + col] = d
      }
    }
  }

  /// A finite `Double` as `m · 2^e` with m an odd integer (or 0) of at most 53 bits.
  static func split(_ x: Double) -> (Int64, Int) {
    if x == 0 { return (0, 0) }
    var m = Int64(x.significandBitPattern | (x.isNormal ? 1 << 52 : 0))
    var e = Int(x.exponent) - 52
    if !x.isNormal { e = -1074 }
    let zeros = m.trailingZeroBitCount
    m >>= Int64(zeros)
    e += zeros
    return (x.sign == .minus ? -m : m, e)
  }

  /// `RN_f32(d + t · 2^e)` for a finite `d`, rounded once.
  static func roundedSum(_ d: Float, _ t: Int128, _ e: Int) -> Float {
    if t == 0 { return d + 0 }  // IEEE: −0 + +0 = +0
    guard d != 0 else { return round(t, e, remainder: 0) }
    let (md, ed) = split(Double(d))
    let dTerm = Int128(md)
    // The exponent just above each term's top bit.
    let topD = 128 - dTerm.magnitude.leadingZeroBitCount + ed
    let topT = 128 - t.magnitude.leadingZeroBitCount + e
    let low = min(ed, e)
    if max(topD, topT) - low <= 124 {
      let sum = (dTerm << (ed - low)) + (t << (e - low))
      return sum == 0 ? 0 : round(sum, low, remainder: 0)
    }
    // Too wide for one Int128: cut both at 124 bits below the top. The larger term has at most
    // 118 bits, so only the smaller one loses bits; what it loses is a remainder far below the
    // result's last bit, of that term's sign, which only decides ties and exact cases.
    let floor = max(topD, topT) - 124
    func cut(_ v: Int128, _ ev: Int) -> (Int128, Int) {
      guard ev < floor else { return (v << (ev - floor), 0) }
      let shift = floor - ev
      let magnitude = shift >= 127 ? 0 : v.magnitude >> UInt128(shift)
      let lost = shift >= 127 ? v.magnitude != 0 : magnitude << UInt128(shift) != v.magnitude
      let kept = Int128(magnitude)
      return (v < 0 ? -kept : kept, lost ? (v < 0 ? -1 : 1) : 0)
    }
    let (a, ra) = cut(dTerm, ed)
    let (b, rb) = cut(t, e)
    return round(a + b, floor, remainder: ra + rb)
  }

  /// `RN_f32((v + ε) · 2^e)`, ties to even, with f32's subnormals and overflow to ±inf, where ε
  /// is 0 (`remainder` 0) or a positive or negative amount (`remainder` ±1) far smaller than
  /// v's last bit. v ≠ 0.
  static func round(_ v: Int128, _ e: Int, remainder: Int) -> Float {
    let negative = v < 0
    // The remainder in the magnitude's direction: +1 makes it larger, −1 smaller.
    let nudge = negative ? -remainder : remainder
    var magnitude = v.magnitude
    let length = 128 - magnitude.leadingZeroBitCount
    // The last kept bit's exponent: 24 significant bits, and none below f32's 2^-149.
    let lsb = max(e + length - 24, -149)
    var exponent = e
    if lsb > e {
      let shift = lsb - e
      // Compare what is dropped with half of the last kept bit.
      let dropped: UInt128
      let half: UInt128?  // nil: half is beyond every magnitude (shift > 128)
      if shift >= 128 {
        dropped = magnitude
        magnitude = 0
        half = shift == 128 ? 1 << 127 : nil
      } else {
        dropped = magnitude & ((1 << UInt128(shift)) - 1)
        magnitude >>= UInt128(shift)
        half = 1 << UInt128(shift - 1)
      }
      if let half {
        let up =
          dropped > half || (dropped == half && (nudge > 0 || (nudge == 0 && magnitude & 1 == 1)))
        if up { magnitude += 1 }
      }
      exponent = lsb
    } else if nudge != 0 {
      // Not reached: a remainder comes with a term cut far below the result's last bit.
      preconditionFailure("a remainder without dropped bits")
    }
    // magnitude ≤ 2^24 and exponent ≥ −149: exact in Double; past f32's largest it is 2^128.
    let value = Double(UInt64(magnitude)) * Double(sign: .plus, exponent: exponent, significand: 1)
    let f = value >= 0x1p128 ? Float.infinity : Float(value)
    return negative ? -f : f
  }
}
