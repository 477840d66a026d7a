import Foundation
import Testing

@testable import FP8Formats

/// Every code of every format of at most 8 bits against ml_dtypes' values
/// (`DecodeTables.swift`), and the derived constants against the published ones (Perez et al.
/// Table 7; OCP FP8; OCP MX v1.0 §5.3 for FP6, FP4 and E8M0).
@Suite struct FormatTableTests {
  static let eightBit: [FloatFormat] = [.e4m3fn, .e5m2, .e4m3fnuz, .e5m2fnuz]
  static let narrow: [FloatFormat] = eightBit + [.e2m1fn, .e2m3fn, .e3m2fn, .e8m0fnu]

  @Test(arguments: narrow)
  func decodesEveryCodeLikeTheLiteralTable(format: FloatFormat) throws {
    let table = try #require(decodeTables[format.name])
    #expect(table.count == 1 << format.totalBits)
    for code in 0..<table.count {
      let got = format.decode(UInt32(code))
      let want = table[code]
      if want.isNaN {
        #expect(got.isNaN, "\(format) 0x\(String(code, radix: 16)) should be NaN, got \(got)")
      } else {
        #expect(
          got.bitPattern == want.bitPattern,
          "\(format) 0x\(String(code, radix: 16)): got \(got), want \(want)")
      }
    }
  }

  @Test(arguments: narrow)
  func classifiesCodesConsistently(format: FloatFormat) {
    var counts: [FloatFormat.CodeClass: Int] = [:]
    for code in 0..<UInt32(format.codeCount) { counts[format.classify(code), default: 0] += 1 }
    let expected: [String: [FloatFormat.CodeClass: Int]] = [
      // e4m3fn: 2 zeros, 14 subnormals, 2 NaNs; the rest normal.
      "e4m3fn": [.zero: 2, .subnormal: 14, .nan: 2, .normal: 238],
      // e5m2: 2 zeros, 6 subnormals, 2 infinities, 6 NaNs.
      "e5m2": [.zero: 2, .subnormal: 6, .infinity: 2, .nan: 6, .normal: 240],
      // fnuz: one zero, one NaN (0x80).
      "e4m3fnuz": [.zero: 1, .subnormal: 14, .nan: 1, .normal: 240],
      "e5m2fnuz": [.zero: 1, .subnormal: 6, .nan: 1, .normal: 248],
      // MX FP4 / FP6: two zeros, one subnormal per mantissa value, no NaN or inf.
      "e2m1fn": [.zero: 2, .subnormal: 2, .normal: 12],
      "e2m3fn": [.zero: 2, .subnormal: 14, .normal: 48],
      "e3m2fn": [.zero: 2, .subnormal: 6, .normal: 56],
      // E8M0: 255 powers of two and one NaN; no zero.
      "e8m0fnu": [.nan: 1, .normal: 255],
    ]
    #expect(counts == expected[format.name])
  }

  struct Constants: Sendable, CustomTestStringConvertible {
    var format: FloatFormat
    var max: Double
    var minNormal: Double
    var minSubnormal: Double
    var nan: UInt32
    var testDescription: String { format.name }
  }

  @Test(arguments: [
    Constants(format: .e4m3fn, max: 448, minNormal: 0x1p-6, minSubnormal: 0x1p-9, nan: 0x7F),
    Constants(format: .e5m2, max: 57344, minNormal: 0x1p-14, minSubnormal: 0x1p-16, nan: 0x7E),
    Constants(format: .e4m3fnuz, max: 240, minNormal: 0x1p-7, minSubnormal: 0x1p-10, nan: 0x80),
    Constants(format: .e5m2fnuz, max: 57344, minNormal: 0x1p-15, minSubnormal: 0x1p-17, nan: 0x80),
    // OCP MX v1.0 Tables 2 and 3; no NaN in FP6/FP4: the code a NaN becomes (−0, as ml_dtypes).
    Constants(format: .e2m1fn, max: 6, minNormal: 1, minSubnormal: 0.5, nan: 0x8),
    Constants(format: .e2m3fn, max: 7.5, minNormal: 1, minSubnormal: 0.125, nan: 0x20),
    Constants(format: .e3m2fn, max: 28, minNormal: 0.25, minSubnormal: 0.0625, nan: 0x20),
    Constants(format: .e8m0fnu, max: 0x1p127, minNormal: 0x1p-127, minSubnormal: 0x1p-127, nan: 0xFF),
    Constants(format: .f16, max: 65504, minNormal: 0x1p-14, minSubnormal: 0x1p-24, nan: 0x7E00),
    Constants(
      format: .bf16, max: 0x1.FEp127, minNormal: 0x1p-126, minSubnormal: 0x1p-133, nan: 0x7FC0),
    Constants(
      format: .f32, max: Double(Float.greatestFiniteMagnitude), minNormal: 0x1p-126,
      minSubnormal: 0x1p-149, nan: 0x7FC0_0000),
  ])
  func derivedConstants(c: Constants) {
    #expect(c.format.maxFinite == c.max)
    #expect(c.format.minNormal == c.minNormal)
    #expect(c.format.minSubnormal == c.minSubnormal)
    #expect(c.format.nanCode() == c.nan)
    #expect(c.format.decode(c.format.maxFiniteCode()) == c.max)
    if c.format.isSigned { #expect(c.format.decode(c.format.maxFiniteCode(negative: true)) == -c.max) }
  }

  @Test func namesAndAliasesFollowMLDtypes() {
    #expect(FloatFormat.named("float8_e4m3fn") == .e4m3fn)
    #expect(FloatFormat.named("float8_e5m2fnuz") == .e5m2fnuz)
    #expect(FloatFormat.named("bfloat16") == .bf16)
    #expect(FloatFormat.named("float16") == .f16)
    #expect(FloatFormat.named("e4m3") == nil)
    #expect(FloatFormat.named("float4_e2m1fn") == .e2m1fn)
    #expect(FloatFormat.named("float6_e2m3fn") == .e2m3fn)
    #expect(FloatFormat.named("float6_e3m2fn") == .e3m2fn)
    #expect(FloatFormat.named("float8_e8m0fnu") == .e8m0fnu)
    // Widths and kinds: FP4 and FP6 are signed; E8M0 has no sign and is not an FP8 format.
    #expect([FloatFormat.e2m1fn, .e2m3fn, .e3m2fn, .e8m0fnu].map(\.totalBits) == [4, 6, 6, 8])
    #expect(FloatFormat.all.filter(\.isFP8) == [.e4m3fn, .e5m2, .e4m3fnuz, .e5m2fnuz])
    #expect(!FloatFormat.e8m0fnu.isSigned && FloatFormat.e8m0fnu.signMask == 0)
    #expect(Set(FloatFormat.all.map(\.name)).count == FloatFormat.all.count)
  }

  /// Every non-NaN code of every format up to 16 bits survives decode → encode unchanged.
  @Test(arguments: FloatFormat.all.filter { $0.totalBits <= 16 })
  func everyCodeRoundTrips(format: FloatFormat) {
    var failures = 0
    for code in 0..<UInt32(format.codeCount) {
      let value = format.decode(code)
      if value.isNaN { continue }
      let back = format.encode(value)
      if back.code != code || back.event != .exact { failures += 1 }
    }
    #expect(failures == 0)
  }
}
