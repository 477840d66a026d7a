import Foundation
import Testing

@testable import FP8Formats

/// Block quantisation against a reference written from the specifications (OCP MX v1.0 §6.3;
/// NVFP4 as Transformer Engine documents it; DeepSeek-V3's fine-grained FP8), with its own
/// element rounding: the nearest of the format's values as ml_dtypes lists them
/// (`DecodeTables.swift`), ties to the even code, saturating — not `FloatFormat.encode`.
@Suite struct BlockScalingTests {
  /// Round to the nearest finite value of `format` by search over ml_dtypes' table, ties to the
  /// code whose last bit is 0, saturating at ±max; NaN stays NaN.
  static func nearest(_ x: Double, _ format: FloatFormat) -> Double {
    if x.isNaN { return .nan }
    let table = decodeTables[format.name]!.filter(\.isFinite)
    var best = table[0]
    var bestCode = 0
    let all = decodeTables[format.name]!
    for (code, v) in all.enumerated() where v.isFinite {
      let d = abs(v - x)
      let bd = abs(best - x)
      if d < bd || (d == bd && code % 2 == 0 && bestCode % 2 == 1) {
        best = v
        bestCode = code
      }
    }
    // ±0 keep the input's sign (a block's zero elements decode to 0 either way).
    return best == 0 ? (x.sign == .minus ? -0.0 : 0) : best
  }

  /// The reference: every element's dequantised value, NaN for a NaN block.
  static func reference(
    _ scheme: BlockScaling, _ v: [Double], rows: Int, cols: Int, tensorAmax given: Double? = nil
  ) -> [Double] {
    var out = [Double](repeating: 0, count: v.count)
    let finiteTensor = given.map(\.isFinite) ?? v.allSatisfy(\.isFinite)
    let tensorAmax = given ?? v.map(\.magnitude).max() ?? 0
    let sGlobal = tensorAmax == 0 ? 1 : Double(Float(tensorAmax / 2688))
    for r0 in stride(from: 0, to: rows, by: scheme.blockRows) {
      for c0 in stride(from: 0, to: cols, by: scheme.blockCols) {
        var idx: [Int] = []
        for r in r0..<min(rows, r0 + scheme.blockRows) {
          for c in c0..<min(cols, c0 + scheme.blockCols) { idx.append(r * cols + c) }
        }
        let block = idx.map { v[$0] }
        let amax = block.map(\.magnitude).max()!
        if !block.allSatisfy(\.isFinite) || (scheme.rule == .nvfp4 && !finiteTensor) {
          for i in idx { out[i] = .nan }
          continue
        }
        let scale: Double
        switch scheme.rule {
        case .mx:
          // shared_exp = floor(log2(amax)) − emax_elem, clamped to E8M0's −127…127.
          let emax = Int(floor(log2(scheme.element.maxFinite)))
          let shared = amax == 0 ? -127 : Int(floor(log2(amax))) - emax
          scale = pow(2, Double(min(max(shared, -127), 127)))
        case .nvfp4:
          scale = nearest((amax / 6) / sGlobal, .e4m3fn) * sGlobal
        case .amax:
          scale = Double(Float(amax / scheme.element.maxFinite))
        }
        for i in idx { out[i] = scale == 0 ? 0 : nearest(v[i] / scale, scheme.element) * scale }
      }
    }
    return out
  }

  static func sameValues(_ a: [Double], _ b: [Double]) -> Bool {
    zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) } && a.count == b.count
  }

  /// Random f32 values with outliers, zero blocks, values at the element formats' edges.
  static func tensor(rows: Int, cols: Int, seed: UInt64) -> [Double] {
    var rng = SplitMix64(seed: seed)
    return (0..<(rows * cols)).map { i -> Double in
      let row = i / cols
      if row % 7 == 3 { return 0 }  // whole rows of zeros: zero blocks for row-wise schemes
      let g = rng.nextGaussian() * exp2(Double(Int(rng.next() % 24) - 12))
      switch rng.next() % 50 {
      case 0: return Double(Float(g * 1e4))  // an outlier
      case 1: return 6  // FP4's max, exactly
      case 2: return -448  // E4M3's max
      case 3: return Double(Float(0x1p-140))
      default: return Double(Float(g))
      }
    }
  }

  static let schemes: [BlockScaling] =
    BlockScaling.named + BlockScaling.named.map(\.transposed) + [
      BlockScaling.general(element: .e4m3fn, scale: .f32, rows: 1, cols: 128)!,
      BlockScaling.general(element: .e4m3fn, scale: .f32, rows: 128, cols: 128)!,
      BlockScaling.general(element: .e5m2, scale: .f32, rows: 4, cols: 8)!,
    ]

  @Test(arguments: schemes)
  func quantisationMatchesTheReference(scheme: BlockScaling) {
    // Partial blocks at both edges for every block shape used here.
    for (rows, cols) in [(37, 70), (130, 131), (1, 5)] {
      let v = Self.tensor(rows: rows, cols: cols, seed: UInt64(rows * 1000 + cols))
      let q = scheme.quantize(v, rows: rows, cols: cols)
      let got = q.values()
      let want = Self.reference(scheme, v, rows: rows, cols: cols)
      let bad = got.indices.filter { !(got[$0] == want[$0] || (got[$0].isNaN && want[$0].isNaN)) }
      #expect(
        bad.isEmpty,
        "\(scheme) \(rows)×\(cols): \(bad.count) differ; first \(bad.first.map { "\(v[$0]): \(got[$0]) vs \(want[$0])" } ?? "")"
      )
      #expect(q.casts.total == rows * cols)
    }
  }

  /// A NaN or an infinity makes its block NaN (the scale's NaN code), and only that block; for
  /// NVFP4 it makes the tensor scale NaN, hence every block.
  @Test(arguments: [BlockScaling.mxfp4, .mxfp8E4M3, .nvfp4])
  func nonFiniteValuesMakeTheirBlockNaN(scheme: BlockScaling) {
    var v = Self.tensor(rows: 2, cols: 64, seed: 9)
    v[5] = .nan
    v[64 + 40] = -.infinity
    let q = scheme.quantize(v, rows: 2, cols: 64)
    let values = q.values()
    let nanCount = values.filter(\.isNaN).count
    #expect(Self.sameValues(values, Self.reference(scheme, v, rows: 2, cols: 64)))
    if scheme.rule == .nvfp4 {
      #expect(nanCount == 128 && q.tensorScale!.isNaN)
    } else {
      #expect(nanCount == 64)  // block 0 of row 0 and block 1 of row 1, 32 each
      #expect(q.scales[0] == 0xFF && q.scales[3] == 0xFF && q.scales[1] != 0xFF)
      #expect(q.casts.nan == 64)
    }
  }

  /// NVFP4 with a finite amax beyond what the f32 tensor scale can express (Double inputs past
  /// 2688 · f32max): the tensor scale is f32's largest and the values saturate, not NaN.
  @Test func nvfp4HugeFiniteAmaxSaturates() {
    let q = BlockScaling.nvfp4.quantize([1e42] + Array(repeating: 1, count: 31), rows: 1, cols: 32)
    #expect(q.tensorScale == .greatestFiniteMagnitude)
    #expect(q.values().allSatisfy(\.isFinite) && q.casts.nan == 0)
  }

  /// The MX scale of a block is 2^(floor(log2 amax) − emax): amax 7 in FP4 (emax 2) gives 2^0,
  /// and 7 saturates to 6 (it rounds to 8, past FP4's max); amax 8 gives 2^1 (7/2 = 3.5 ties
  /// to 4); a zero block 2^-127 (code 0).
  @Test func mxScaleExponentAndSaturation() {
    let q = BlockScaling.mxfp4.quantize([6, 7, -1.25, 0] + Array(repeating: 0, count: 28), rows: 1, cols: 32)
    #expect(q.scales == [0x7F])
    #expect(Array(q.values().prefix(4)) == [6, 6, -1, 0])
    #expect(q.casts.overflow == 1 && q.casts.rounded == 1)
    let eight = BlockScaling.mxfp4.quantize([6, 7, 8, 0] + Array(repeating: 0, count: 28), rows: 1, cols: 32)
    #expect(eight.scales == [0x80] && Array(eight.values().prefix(4)) == [6, 8, 8, 0])
    let z = BlockScaling.mxfp4.quantize(Array(repeating: 0, count: 32), rows: 1, cols: 32)
    #expect(z.scales == [0] && z.values().allSatisfy { $0 == 0 })
    let e = BlockScaling.mxfp4.quantize([8] + Array(repeating: 0.5, count: 31), rows: 1, cols: 32)
    #expect(e.scales == [0x80] && e.values()[0] == 8 && e.values()[1] == 0)  // 0.5/2 = 0.25 → 0 (tie to even)
  }

  /// NVFP4: tensor scale amax/2688 in f32, E4M3 block scales, E2M1 elements.
  @Test func nvfp4Scales() {
    let v = (0..<32).map { Double($0) - 8 }  // −8 … 23: amax 23
    let q = BlockScaling.nvfp4.quantize(v, rows: 1, cols: 32)
    #expect(q.tensorScale == Float(23.0 / 2688))
    // Block 0 (−8…7): amax 8 → 8/6/s = 448·8/23 = 155.8… → E4M3 160 (0x6A ... nearest).
    let s0 = FloatFormat.e4m3fn.decode(q.scales[0])
    #expect(s0 == Self.nearest(8.0 / 6 / Double(Float(23.0 / 2688)), .e4m3fn))
    #expect(q.scales.count == 2)
    #expect(Self.sameValues(q.values(), Self.reference(.nvfp4, v, rows: 1, cols: 32)))
  }

  /// NVFP4 with the tensor amax given (the values a part of a larger tensor): the tensor scale
  /// is that amax / 2688; a block whose amax exceeds it saturates its E4M3 scale and elements;
  /// a NaN amax makes every block NaN.
  @Test func nvfp4WithAGivenTensorAmax() {
    let v = Self.tensor(rows: 2, cols: 64, seed: 21).map { $0.isFinite ? $0 : 1 }
    for amax in [100.0, 0.5, 1e-3] {
      let q = BlockScaling.nvfp4.quantize(v, rows: 2, cols: 64, tensorAmax: amax)
      #expect(q.tensorScale == Float(amax / 2688))
      #expect(Self.sameValues(q.values(), Self.reference(.nvfp4, v, rows: 2, cols: 64, tensorAmax: amax)))
    }
    let small = BlockScaling.nvfp4.quantize(v, rows: 2, cols: 64, tensorAmax: 1e-3)
    #expect(small.casts.overflow > 0)
    let nan = BlockScaling.nvfp4.quantize(v, rows: 2, cols: 64, tensorAmax: .nan)
    #expect(nan.values().allSatisfy { $0.isNaN })
  }

  /// Names: the named schemes, `_t` for 32 × 1 blocks, and the general `ELEMENT_SCALE_RxC`.
  @Test func schemesByName() {
    #expect(BlockScaling.named("nvfp4") == .nvfp4)
    #expect(BlockScaling.named("mxfp4_t") == BlockScaling.mxfp4.transposed)
    #expect(
      BlockScaling.mxfp4.transposed.name == "mxfp4_t" && BlockScaling.mxfp4.transposed.transposed == .mxfp4)
    let w = BlockScaling.named("e4m3fn_f32_128x64")
    #expect(
      w?.blockRows == 128 && w?.blockCols == 64 && w?.rule == .amax
        && w?.transposed.name == "e4m3fn_f32_64x128")
    for bad in [
      "e4m3fn_f32_1x", "e4m3fn_e8m0fnu_1x32", "float8_e4m3fn_f32_1x2", "e4m3fn_f32_1x99999999",
      "e4m3fn_f32_2048x1024", "e4m3fn_f32_0x4", "e4m3fn_f32_1x+4", "mxfp4_t_t", "",
    ] {
      #expect(BlockScaling.named(bad) == nil, "\(bad)")
    }
  }

  /// Packed bytes: FP4 half a byte, FP6 three quarters (rounded up once for the tensor), one
  /// scale per block (partial blocks count), NVFP4's 4-byte tensor scale.
  @Test func packedBytes() {
    #expect(BlockScaling.mxfp4.bytes(rows: 128, cols: 64)! == (4096, 256, 0))
    #expect(BlockScaling.nvfp4.bytes(rows: 16, cols: 48)! == (384, 48, 4))
    #expect(BlockScaling.mxfp6E2M3.bytes(rows: 1, cols: 33)! == (25, 2, 0))
    #expect(BlockScaling.mxfp8E4M3.transposed.bytes(rows: 64, cols: 10)! == (640, 20, 0))
    let fine = BlockScaling.general(element: .e4m3fn, scale: .f32, rows: 128, cols: 128)!
    #expect(fine.bytes(rows: 256, cols: 300)! == (76800, 2 * 3 * 4, 0))
    #expect(BlockScaling.mxfp4.bytes(rows: Int.max, cols: 3) == nil)
    #expect(BlockScaling.general(element: .e4m3fn, scale: .e8m0fnu, rows: 1, cols: 32) == nil)
    #expect(BlockScaling.general(element: .e4m3fn, scale: .f32, rows: 0, cols: 32) == nil)
    #expect(BlockScaling.general(element: .e8m0fnu, scale: .f32, rows: 1, cols: 4) == nil)  // no zero, no sign
  }
}
