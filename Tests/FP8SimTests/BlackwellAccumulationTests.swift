import FP8Formats
import FP8ISA
import Foundation
import Testing

@testable import FP8Sim

/// `acc=f32rz` (Blackwell's `tcgen05.mma` into f32, MMA-Sim's model): by hand, and in programs
/// with MXFP8 and MXFP4 operands against an emulation written here from `isa/ISA.md` on the
/// library's block codes and scales (not on the values the machine recovers them from).
@Suite struct BlackwellAccumulationTests {
  /// 25 fraction bits below the group's largest exponent, then f32 toward zero.
  @Test func groupsByHand() {
    // 1 + 2^-26 + 3·2^-26: quantum 2^-25: 2^-26 → 0, 3·2^-26 → 2^-25: 1 + 2^-25, which f32
    // toward zero (23 fraction bits) makes 1.
    let r = MMANumerics.alignedGroup(
      [1.0, 0x1p-26, 3 * 0x1p-26][...], exponents: [0, -26, -25][...], fractionBits: 25, mantissaBits: 23)
    #expect(r == 1)
    // 2.25 (1.5 · 1.5, aligned at 0) − 2^-25: kept, and the sum truncates to 2.25 − 2^-22.
    let s = MMANumerics.alignedGroup(
      [0, 2.25, -0x1p-25][...], exponents: [0, 0, -25][...], fractionBits: 25, mantissaBits: 23)
    #expect(s == 2.25 - 0x1p-22)
    // With zerosAlign (block-scaled FP4), a zero group's scale exponents count: E = 30, so 1.0
    // (below 2^(30 − 35)? no: 2^-5 is the quantum) survives, 2^-6 does not.
    let z = MMANumerics.alignedGroup(
      [0, 1 + 0x1p-6, 0][...], exponents: [-126, 0, 30][...], fractionBits: 35, mantissaBits: 23,
      zerosAlign: true)
    #expect(z == 1)
  }

  /// Plain FP8 inputs: the definition against the oracle on every kind of value (edge formats).
  @Test func plainInputsAgreeWithTheOracle() {
    var rng = SplitMix64(seed: 0x25)
    let (m, n, k) = (4, 5, 70)
    for (fa, fb) in [(FloatFormat.e4m3fn, FloatFormat.e4m3fn), (.e5m2, .e4m3fn), (.e2m1fn, .e2m1fn)] {
      func value(_ f: FloatFormat) -> Float {
        while true {
          let v = f.decode(UInt32(rng.next() % f.codeCount))
          if v.isFinite { return Float(v) }
        }
      }
      let a = (0..<(m * k)).map { _ in value(fa) }
      let b = (0..<(k * n)).map { _ in value(fb) }
      let c0 = (0..<(m * n)).map { _ in Float(rng.nextGaussian() * 100) }
      var c = c0
      MMANumerics.f32rz(
        a: a, b: b, c: &c, m: m, n: n, k: k, scaling: (.plain(fa), .plain(fb)), fp4Sums: false)
      for i in 0..<m {
        for j in 0..<n {
          let want = MMAOracle.element(
            .f32rz, c: c0[i * n + j], a: Array(a[(i * k)..<(i * k + k)]), b: (0..<k).map { b[$0 * n + j] },
            formats: (fa, fb))
          #expect(sameBits(c[i * n + j], want), "\(fa)×\(fb) [\(i), \(j)]: \(c[i * n + j]) vs \(want)")
        }
      }
    }
  }

  /// The emulation of one output: elements and block scale exponents as the library's MX
  /// quantisation gives them. MXFP8: per block of 32, each product at ea + eb + sa + sb (e at
  /// least the element format's smallest normal exponent), 25 fraction bits. MXFP4: per 64,
  /// sums of 16 element products at sa + sb, 35 fraction bits, zero sums aligning too.
  static func emulate(
    c: Float, a: [Double], b: [Double], sa: [(value: Double, exponent: Int)],
    sb: [(value: Double, exponent: Int)],
    block: Int, element: FloatFormat, fp4: Bool
  ) -> Float {
    let floor = 1 - element.bias
    func e(_ x: Double) -> Int { x == 0 ? -126 : max(frexp(x).1 - 1, floor) }
    var acc = Double(c)
    var k0 = 0
    let width = fp4 ? 64 : 32
    while k0 < a.count {
      var terms: [(value: Double, exponent: Int)] = [(acc, acc == 0 ? -126 : frexp(acc).1 - 1)]
      if fp4 {
        for g in stride(from: k0, to: k0 + width, by: 16) {
          var sum = 0.0
          for t in g..<(g + 16) { sum += a[t] * b[t] }
          let (x, y) = (sa[g / block], sb[g / block])
          terms.append((sum * x.value * y.value, x.exponent + y.exponent))
        }
      } else {
        let (x, y) = (sa[k0 / block], sb[k0 / block])
        for t in k0..<(k0 + width) {
          terms.append((a[t] * b[t] * x.value * y.value, e(a[t]) + e(b[t]) + x.exponent + y.exponent))
        }
      }
      acc = MMAOracle.aligned(terms, fraction: fp4 ? 35 : 25, mantissa: 23, zerosAlign: true)
      k0 += width
    }
    return Float(acc)
  }

  /// C is small against the products (about 2^-20), so that its low bits fall below the
  /// group's quantum, which the recovered block scales set.
  @Test(arguments: ["mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e2m3", "mxfp4", "nvfp4"])
  func blockScaledOperandsAgreeWithTheEmulation(scheme name: String) throws {
    let (m, n, k) = (8, 16, 128)
    let r = try simulate(
      """
      .tensor X f32 [\(m), \(k)] sram randn(11, 0.0, 1.0)
      .tensor W f32 [\(n), \(k)] sram randn(12, 0.0, 0.05)
      .tensor x \(name) [\(m), \(k)] sram
      .tensor w \(name) [\(n), \(k)] sram
      .tensor C f32 [\(m), \(n)] sram randn(13, 0.0, 0.000001)
      .tensor XD f32 [\(m), \(k)] dram
      .tensor WD f32 [\(n), \(k)] dram
      .tensor CD f32 [\(m), \(n)] dram
      .tensor C0 f32 [\(m), \(n)] dram
      .output XD
      .output WD
      .output CD
      .output C0
        dma.store C0, C
        cast x, X
        cast w, W
        mma C, x, w, tb=1, acc=f32rz
        dma.store XD, X
        dma.store WD, W
        dma.store CD, C
        dma.wait
      """, device: .b200)
    let scheme = try #require(BlockScaling.named(name))
    let qx = scheme.quantize(try #require(output(r, "XD")).values.map(Double.init), rows: m, cols: k)
    let qw = scheme.quantize(try #require(output(r, "WD")).values.map(Double.init), rows: n, cols: k)
    let c0 = try #require(output(r, "C0")).values
    let got = try #require(output(r, "CD")).values
    let blocks = k / scheme.blockSize
    /// A block scale's value and the exponent MMA-Sim reads it with: E8M0's own; E4M3's at least
    /// −6 (subnormals), and −126 for a zero.
    func scale(_ code: UInt32) -> (value: Double, exponent: Int) {
      let v = scheme.scale.decode(code)
      if scheme.rule == .mx { return (v, Int(code) - scheme.scale.bias) }
      return (v, v == 0 ? -126 : max(frexp(v).1 - 1, -6))
    }
    var mismatches = 0
    for i in 0..<m {
      for j in 0..<n {
        let want = Self.emulate(
          c: c0[i * n + j], a: (0..<k).map { scheme.element.decode(qx.codes[i * k + $0]) },
          b: (0..<k).map { scheme.element.decode(qw.codes[j * k + $0]) },
          sa: (0..<blocks).map { scale(qx.scales[i * blocks + $0]) },
          sb: (0..<blocks).map { scale(qw.scales[j * blocks + $0]) }, block: scheme.blockSize,
          element: scheme.element, fp4: scheme.element.totalBits == 4)
        if !sameBits(got[i * n + j], want) { mismatches += 1 }
      }
    }
    #expect(mismatches == 0, "\(mismatches) of \(m * n) differ")
    // f32rz is not f32: some outputs differ from the f32 accumulator's (round to nearest).
    var f32 = c0
    let av = qx.values(includingTensorScale: false).map { Float($0) }
    let wv = qw.values(includingTensorScale: false).map { Float($0) }
    var bT = [Float](repeating: 0, count: k * n)
    for j in 0..<n { for t in 0..<k { bT[t * n + j] = wv[j * k + t] } }
    MMANumerics.reference(a: av, b: bT, c: &f32, m: m, n: n, k: k, accumulator: .f32)
    #expect(f32 != got)
  }

  /// f32rz reads each block scale back from its values: for every MX scheme and NVFP4, on blocks of
  /// Gaussian values from 2^-18 to 2^17 row by row, outliers, values at the element's edges and
  /// zero blocks, the recovered
  /// exponent is the library's scale code's, along rows (A) and down columns (B).
  @Test(arguments: ["mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp4", "nvfp4"])
  func blockScalesAreRecoveredFromTheValues(scheme name: String) throws {
    let scheme = try #require(BlockScaling.named(name))
    var rng = SplitMix64(seed: 0x5CA1E)
    let (rows, cols) = (12, 96)
    let values = (0..<(rows * cols)).map { i -> Double in
      if i / cols == 3 || (i % cols) / 32 == 1 && i / cols == 5 { return 0 }  // zero blocks
      switch rng.next() % 40 {
      case 0: return scheme.element.maxFinite * 1.01  // saturates
      case 1: return rng.nextGaussian() * 0x1p40  // an outlier
      // Row 11: blocks small enough for E8M0's smallest scale, 2^-127.
      default:
        return rng.nextGaussian()
          * pow(2, Double(i / cols == 11 ? -122 : 3 * (i / cols) - 18 + Int(rng.next() % 3)))
      }
    }
    // NVFP4 with a tensor scale of 1: the blocks' scales then range over zero, E4M3's
    // subnormals, its normal numbers and its saturation.
    let q = scheme.quantize(values, rows: rows, cols: cols, tensorAmax: scheme.rule == .nvfp4 ? 2688 : nil)
    let stored = q.values(includingTensorScale: false).map { Float($0) }
    if scheme.rule == .nvfp4 {
      let scales = q.scales.map { scheme.scale.decode($0) }
      #expect(scales.contains(0) && scales.contains { $0 > 0 && $0 < 0x1p-6 } && scales.contains(448))
    }
    let along = ScaledOperand.blockScaled(stored, rows: rows, cols: cols, kAlongRows: true, scheme: scheme)
    // The same values transposed: K down the columns.
    var transposed = [Float](repeating: 0, count: stored.count)
    for r in 0..<rows { for c in 0..<cols { transposed[c * rows + r] = stored[r * cols + c] } }
    let down = ScaledOperand.blockScaled(
      transposed, rows: cols, cols: rows, kAlongRows: false, scheme: scheme.transposed)
    for r in 0..<rows {
      for c in 0..<cols {
        let code = q.scales[r * (cols / scheme.blockSize) + c / scheme.blockSize]
        let v = scheme.scale.decode(code)
        let want = Int32(
          scheme.rule == .mx ? Int(code) - scheme.scale.bias : v == 0 ? -126 : max(frexp(v).1 - 1, -6))
        #expect(along.scaleExponents?[r * cols + c] == want, "[\(r), \(c)]")
        #expect(down.scaleExponents?[c * rows + r] == want, "[\(r), \(c)] transposed")
      }
    }
    #expect(along.elementMinExponent == scheme.element.minNormalExponent)
  }

  @Test func diagnosticsAndFaults() {
    let decls = """
      .tensor A mxfp8_e4m3 [32, 64] sram
      .tensor At mxfp8_e4m3_t [64, 32] sram
      .tensor N nvfp4 [32, 64] sram
      .tensor F e4m3fn_f32_1x32 [32, 64] sram
      .tensor H f16 [32, 64] sram
      .tensor C f32 [32, 32] sram\n
      """
    #expect(assemblyError(decls + "  mma C, A, A, tb=1, acc=f32rz") == "")
    #expect(assemblyError(decls + "  mma C, A, At, acc=f32rz") == "")
    #expect(assemblyError(decls + "  mma C, A, A, acc=f32rz").contains("B's blocks run across K"))
    #expect(assemblyError(decls + "  mma C, N, N, tb=1, acc=f32rz") == "")
    #expect(
      assemblyError(decls + "  mma C, F, F, tb=1, acc=f32rz").contains(
        "no FP32 block scales (e4m3fn_f32_1x32)"))
    #expect(
      assemblyError(decls + "  mma C, H, H, tb=1, acc=f32rz").contains(
        "'f32rz' takes FP8, FP6 or FP4 inputs; A is f16"))
    let f = fault(
      """
      .tensor A mxfp8_e4m3 [32, 64] sram
      .tensor C f32 [32, 16] sram
        mma C, A[:, 0:+32], A[0:+16, 16:+32], tb=1, acc=f32rz
      """, device: .b200)
    #expect(f?.description.contains("acc=f32rz: B ('A') must cover whole blocks of K") == true)
  }
}
