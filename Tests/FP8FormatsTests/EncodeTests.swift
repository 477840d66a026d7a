import Foundation
import Testing

@testable import FP8Formats

/// Encoding: agreement with ml_dtypes and Swift's own `Float` conversion, rounding ties,
/// subnormals, both overflow modes, NaN and signed zeros.
@Suite struct EncodeTests {
  struct Vector {
    var format: String
    var input: Double
    var code: UInt32
  }

  static func loadVectors() throws -> [Vector] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/encode_vectors.txt")
    let text = try String(contentsOf: url, encoding: .utf8)
    return text.split(separator: "\n").compactMap { line -> Vector? in
      if line.hasPrefix("#") { return nil }
      let f = line.split(separator: " ")
      guard f.count == 3, let bits = UInt64(f[1].dropFirst(2), radix: 16),
        let code = UInt32(f[2].dropFirst(2), radix: 16)
      else { return nil }
      return Vector(format: String(f[0]), input: Double(bitPattern: bits), code: code)
    }
  }

  /// Where ml_dtypes 0.6 is not the nearest value, and fp8sim is: `float8_e8m0fnu` from a
  /// value strictly between 2^-127 and 2^-126 (a float32 subnormal on ml_dtypes' route) gives
  /// 2^-126 in ml_dtypes even below the midpoint 1.5·2^-127; fp8sim rounds to the nearest power
  /// of two (`e8m0BelowTheSmallestNormalFloat32`).
  static func mlDtypesIsNotNearest(_ format: FloatFormat, _ x: Double) -> Bool {
    format == .e8m0fnu && x > 0x1p-127 && x < 0x1.8p-127
  }

  @Test func agreesWithMLDtypesOnThousandsOfInputs() throws {
    let vectors = try Self.loadVectors()
    #expect(vectors.count > 33_000)
    var mismatches: [String] = []
    var formats = Set<String>()
    var excluded = 0
    for v in vectors {
      let format = try #require(FloatFormat.named(v.format))
      formats.insert(format.name)
      if Self.mlDtypesIsNotNearest(format, v.input) {
        excluded += 1
        continue
      }
      let got = format.encode(v.input, rounding: .nearestEven, overflow: .nonfinite).code
      // ml_dtypes keeps NaN payload bits of f16/bf16 inputs; compare NaN-ness there.
      let same = got == v.code || (format.decode(got).isNaN && format.decode(v.code).isNaN)
      if !same && mismatches.count < 10 {
        mismatches.append(
          "\(v.format) \(v.input): got 0x\(String(got, radix: 16)) want 0x\(String(v.code, radix: 16))")
      }
    }
    #expect(mismatches.isEmpty, "\(mismatches)")
    #expect(formats == Set(FloatFormat.all.map(\.name)).subtracting(["f32"]))
    #expect(excluded == 2)
  }

  /// E8M0 between 2^-127 and 2^-126: the nearest power of two (ties up), where ml_dtypes 0.6
  /// gives 2^-126 from just above 2^-127 (its route through a float32 subnormal).
  @Test func e8m0BelowTheSmallestNormalFloat32() {
    let f = FloatFormat.e8m0fnu
    #expect(f.encode(0x1p-127).code == 0 && f.encode(0x1p-127).event == .exact)
    #expect(f.encode(0x1.4p-127).code == 0)  // 1.25·2^-127: ml_dtypes 0x01
    #expect(f.encode(0x1.7ffffp-127).code == 0)  // ml_dtypes 0x01
    #expect(f.encode(0x1.8p-127).code == 1)  // the tie goes up, as ml_dtypes
    #expect(f.encode(0x1p-126).code == 1)
    // Below the smallest code there is no zero: the smallest code, counted as rounded.
    #expect(f.encode(0x1p-200) == FloatFormat.Encoded(code: 0, event: .rounded))
    #expect(
      f.encode(Double.leastNonzeroMagnitude, rounding: .towardZero)
        == FloatFormat.Encoded(code: 0, event: .rounded))
  }

  /// E8M0 (OCP MX scale): ties go up, past 2^127 is NaN (or 2^127 saturating or toward zero),
  /// and NaN, ±0, negative values and −inf have no code: NaN, counted as NaN events.
  @Test func e8m0RoundsToPowersOfTwo() {
    let f = FloatFormat.e8m0fnu
    let cases: [(Double, UInt32)] = [
      (1, 0x7F), (1.5, 0x80), (3, 0x81), (6, 0x82), (0.75, 0x7F), (1.4999999, 0x7F), (2.9, 0x80),
      (0x1p127, 0xFE), (0x1.7fffffp127, 0xFE), (0x1.8p127, 0xFF), (Double.infinity, 0xFF), (1e300, 0xFF),
    ]
    for (x, code) in cases { #expect(f.encode(x).code == code, "\(x)") }
    #expect(f.encode(0x1.8p127, overflow: .saturate) == FloatFormat.Encoded(code: 0xFE, event: .overflow))
    #expect(f.encode(Double.infinity, overflow: .saturate).code == 0xFE)
    #expect(f.encode(3.9, rounding: .towardZero).code == 0x80)
    #expect(f.encode(1e300, rounding: .towardZero).code == 0xFE)
    #expect(f.encode(Double.infinity, rounding: .towardZero).code == 0xFF)
    for x: Double in [.nan, 0, -0.0, -1, -.infinity, -0x1p-140] {
      #expect(f.encode(x) == FloatFormat.Encoded(code: 0xFF, event: .nan), "\(x)")
    }
    // Stochastic: 1.25 rounds up to 2 with probability 1/4.
    #expect(f.encode(1.25, rounding: .stochastic, randomBits: 0).code == 0x80)
    #expect(f.encode(1.25, rounding: .stochastic, randomBits: 1 << 62).code == 0x7F)
    #expect(f.encode(1.25, rounding: .stochastic, randomBits: (1 << 62) - 2048).code == 0x80)
    // A scaling bias moves the value: 3·2^10 → 2^12.
    #expect(f.encode(3, scale: 10).code == 0x7F + 12)
    #expect(f.decode(0xFF).isNaN && f.decode(0) == 0x1p-127 && f.decode(0xFE) == 0x1p127)
  }

  /// FP4 / FP6 (no inf, no NaN): out-of-range values and ±inf saturate in every mode; NaN becomes
  /// a zero of the opposite sign (what ml_dtypes 0.6 gives), counted as a NaN event.
  @Test func mxElementFormatsSaturateAndHaveNoNaN() {
    for f in [FloatFormat.e2m1fn, .e2m3fn, .e3m2fn] {
      for overflow in OverflowMode.allCases {
        #expect(
          f.encode(1e9, overflow: overflow) == FloatFormat.Encoded(code: f.maxFiniteCode(), event: .overflow))
        #expect(f.encode(-.infinity, overflow: overflow).code == f.maxFiniteCode(negative: true))
      }
      #expect(f.encode(.nan) == FloatFormat.Encoded(code: f.signMask, event: .nan))
      #expect(f.encode(-.nan) == FloatFormat.Encoded(code: 0, event: .nan))
      #expect(f.nanCodeRanges.isEmpty && !f.hasNaN && !f.hasInfinity && f.hasNegativeZero)
    }
    // FP4's grid: 0, 0.5, 1, 1.5, 2, 3, 4, 6; ties to even.
    let fp4: [(Double, UInt32)] = [
      (0.25, 0x0), (0.75, 0x2), (1.25, 0x2), (1.75, 0x4), (2.5, 0x4), (3.5, 0x6), (5, 0x6), (-5.1, 0xF),
    ]
    for (x, code) in fp4 { #expect(FloatFormat.e2m1fn.encode(x).code == code, "\(x)") }
  }

  /// Exactly rounded vectors (Fixtures/generate_exact.py: rational arithmetic, independent of
  /// this code and of ml_dtypes' float32 route) at ties and 2^-30 / 2^-40 beside them, normal,
  /// subnormal and around max, every format, nearest-even and toward-zero, both overflow modes.
  @Test func exactRoundingOfInputsThatFloat32CannotHold() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/exact_encode_vectors.txt")
    let text = try String(contentsOf: url, encoding: .utf8)
    let modes: [(RoundingMode, OverflowMode)] = [
      (.nearestEven, .nonfinite), (.nearestEven, .saturate), (.towardZero, .nonfinite),
      (.towardZero, .saturate),
    ]
    var count: [String: Int] = [:]
    var viaFloat32Differs: [String: Int] = [:]
    var mismatches: [String] = []
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      let f = line.split(separator: " ")
      let format = try #require(FloatFormat.named(String(f[0])), "\(line)")
      let bits = try #require(UInt64(f[1].dropFirst(2), radix: 16), "\(line)")
      let x = Double(bitPattern: bits)
      for (i, (rounding, overflow)) in modes.enumerated() {
        let want = try #require(UInt32(f[2 + i].dropFirst(2), radix: 16), "\(line)")
        let got = format.encode(x, rounding: rounding, overflow: overflow).code
        if got != want && mismatches.count < 10 {
          mismatches.append(
            "\(format) \(x) \(rounding.rawValue) \(overflow.rawValue): got 0x\(String(got, radix: 16)) want 0x\(String(want, radix: 16))"
          )
        }
      }
      count[format.name, default: 0] += 1
      if f[6] == "1" { viaFloat32Differs[format.name, default: 0] += 1 }
    }
    #expect(mismatches.isEmpty, "\(mismatches)")
    for format in FloatFormat.all {
      // FP4 and E8M0 have few grid points; every format has ties and near-ties in the table.
      let wide = format.totalBits >= 6 && format.mantissaBits > 0
      #expect(count[format.name, default: 0] > (wide ? 500 : 250), "\(format)")
      // The table holds inputs where rounding through float32 first (ml_dtypes) is wrong.
      if format != .f32 {
        #expect(viaFloat32Differs[format.name, default: 0] > (wide ? 90 : 20), "\(format)")
      }
    }
    // The example of issue 9: 1 + 2^-4 + 2^-30 is 1.125 in e4m3fn (via float32: 1.0).
    #expect(FloatFormat.e4m3fn.encode(1 + 0x1p-4 + 0x1p-30).code == 0x39)
    #expect(FloatFormat.e4m3fn.encode(Double(Float(1 + 0x1p-4 + 0x1p-30))).code == 0x38)
  }

  @Test func f32EncodingMatchesSwiftFloatConversion() {
    var rng = SplitMix64(seed: 42)
    for i in 0..<200_000 {
      // Random bit patterns cover every exponent, including Float's subnormal range.
      var x = Double(bitPattern: rng.next())
      if !x.isFinite { continue }
      if i % 2 == 0 { x = x.magnitude.truncatingRemainder(dividingBy: 1e-30) * (i % 4 == 0 ? 1 : -1) }
      let want = Float(x).bitPattern
      let got = FloatFormat.f32.encode(x).code
      if got != want {
        Issue.record("f32 \(x): got \(got) want \(want)")
        return
      }
    }
  }

  struct Case: Sendable, CustomTestStringConvertible {
    var format: FloatFormat
    var input: Double
    var rounding: RoundingMode = .nearestEven
    var overflow: OverflowMode = .nonfinite
    var code: UInt32
    var event: CastEvent
    var note: String
    var testDescription: String { "\(format) \(input) \(rounding.rawValue) \(overflow.rawValue): \(note)" }
  }

  @Test(arguments: [
    // Ties to even between 1.0 (mantissa 000) and 1.125 (001).
    Case(format: .e4m3fn, input: 1.0625, code: 0x38, event: .rounded, note: "tie → even 1.0"),
    Case(format: .e4m3fn, input: 1.1875, code: 0x3A, event: .rounded, note: "tie → even 1.25"),
    Case(format: .e4m3fn, input: -1.0625, code: 0xB8, event: .rounded, note: "negative tie"),
    Case(
      format: .e4m3fn, input: 1.0625 + 0x1p-20, code: 0x39, event: .rounded,
      note: "above tie: no double rounding"),
    Case(format: .e4m3fn, input: 1.12, rounding: .towardZero, code: 0x38, event: .rounded, note: "truncate"),
    Case(
      format: .e4m3fn, input: -1.99, rounding: .towardZero, code: 0xBF, event: .rounded,
      note: "truncate negative"),
    // Subnormals: e4m3fn quantum below 2^-6 is 2^-9.
    Case(format: .e4m3fn, input: 0x1p-9, code: 0x01, event: .exact, note: "min subnormal"),
    Case(format: .e4m3fn, input: 0x1.8p-9, code: 0x02, event: .rounded, note: "subnormal tie → even"),
    Case(format: .e4m3fn, input: 0x1p-10, code: 0x00, event: .underflow, note: "half min subnormal → 0"),
    Case(format: .e4m3fn, input: -0x1p-10, code: 0x80, event: .underflow, note: "underflow keeps sign"),
    Case(format: .e4m3fnuz, input: -0x1p-12, code: 0x00, event: .underflow, note: "fnuz has no −0"),
    Case(format: .e4m3fn, input: 0x1.Cp-7, code: 0x07, event: .exact, note: "largest subnormal"),
    Case(format: .e4m3fn, input: 0x1.Fp-7, code: 0x08, event: .rounded, note: "rounds up into normals"),
    Case(format: .e5m2fnuz, input: 0x1p-17, code: 0x01, event: .exact, note: "fnuz E5 min subnormal"),
    // Overflow, both modes.
    Case(format: .e4m3fn, input: 464, code: 0x7E, event: .rounded, note: "midpoint 448/480 → 448"),
    Case(format: .e4m3fn, input: 465, code: 0x7F, event: .overflow, note: "past midpoint → NaN"),
    Case(format: .e4m3fn, input: 465, overflow: .saturate, code: 0x7E, event: .overflow, note: "saturate"),
    Case(format: .e4m3fn, input: -1e6, overflow: .saturate, code: 0xFE, event: .overflow, note: "saturate −"),
    Case(format: .e4m3fn, input: .infinity, code: 0x7F, event: .overflow, note: "inf → NaN (no inf)"),
    Case(
      format: .e4m3fn, input: -.infinity, overflow: .saturate, code: 0xFE, event: .overflow,
      note: "−inf → −max"),
    Case(
      format: .e4m3fn, input: 1000, rounding: .towardZero, code: 0x7E, event: .overflow,
      note: "RTZ carries to max"),
    Case(format: .e5m2, input: 61439, code: 0x7B, event: .rounded, note: "below midpoint"),
    Case(format: .e5m2, input: 61440, code: 0x7C, event: .overflow, note: "midpoint ties to 2^16 → inf"),
    Case(format: .e5m2, input: 61440, overflow: .saturate, code: 0x7B, event: .overflow, note: "saturate"),
    Case(format: .e5m2, input: -.infinity, code: 0xFC, event: .exact, note: "inf kept"),
    Case(format: .e4m3fnuz, input: 247.9, code: 0x7F, event: .rounded, note: "→ 240"),
    Case(format: .e4m3fnuz, input: 248, code: 0x80, event: .overflow, note: "tie → 256 → NaN"),
    Case(format: .e4m3fnuz, input: 248, overflow: .saturate, code: 0x7F, event: .overflow, note: "saturate"),
    Case(format: .e5m2fnuz, input: -.infinity, code: 0x80, event: .overflow, note: "no inf → NaN"),
    Case(format: .f16, input: 65520, code: 0x7C00, event: .overflow, note: "f16 overflow → inf"),
    Case(format: .f16, input: 65519.99, code: 0x7BFF, event: .rounded, note: "f16 max"),
    // NaN and signed zero.
    Case(format: .e4m3fn, input: .nan, code: 0x7F, event: .nan, note: "NaN"),
    Case(format: .e4m3fn, input: -.nan, code: 0xFF, event: .nan, note: "−NaN keeps sign"),
    Case(format: .e5m2, input: .nan, code: 0x7E, event: .nan, note: "quiet NaN"),
    Case(format: .e4m3fnuz, input: -.nan, code: 0x80, event: .nan, note: "single NaN"),
    Case(
      format: .e4m3fnuz, input: .nan, overflow: .saturate, code: 0x80, event: .nan, note: "NaN not saturated"),
    Case(format: .e4m3fn, input: -0.0, code: 0x80, event: .exact, note: "−0"),
    Case(format: .e5m2fnuz, input: -0.0, code: 0x00, event: .exact, note: "−0 → +0 in fnuz"),
    Case(format: .bf16, input: -0.0, code: 0x8000, event: .exact, note: "bf16 −0"),
  ])
  func edgeCase(c: Case) {
    let e = c.format.encode(c.input, rounding: c.rounding, overflow: c.overflow)
    #expect(e.code == c.code, "got 0x\(String(e.code, radix: 16))")
    #expect(e.event == c.event)
  }

  @Test func directConversionAvoidsDoubleRoundingThroughF16() {
    // 1 + 2^-4 + 2^-20 is just above the e4m3 midpoint 1.0625; via f16 it would become the
    // midpoint itself and round to 1.0.
    let x = 1 + 0x1p-4 + 0x1p-20
    #expect(FloatFormat.e4m3fn.round(x) == 1.125)
    let viaF16 = FloatFormat.e4m3fn.round(FloatFormat.f16.round(x))
    #expect(viaF16 == 1.0)
  }

  @Test func scalingBiasShiftsTheRepresentableRange() {
    // 1e-3 underflows e4m3fnuz's normal range; with bias 10 it becomes 1.024 → 1.0 exactly.
    let (e, dq) = FloatFormat.e4m3fnuz.quantize(0.0009765625, bias: 10)
    #expect(e.code == 0x40)
    #expect(dq == 0.0009765625)
    // 1000 overflows e4m3fn; with bias −2 it is 250 → 256 (nearest), dequantised 1024.
    let (e2, dq2) = FloatFormat.e4m3fn.quantize(1000, bias: -2)
    #expect(e2.code == 0x78)
    #expect(dq2 == 1024)
    let (e3, _) = FloatFormat.e4m3fn.quantize(1000, bias: 0, overflow: .saturate)
    #expect(e3.event == .overflow)
  }

  /// Toward-zero never turns a finite value into a non-finite one, even when the scaled value
  /// `x · 2^b` is beyond `Double` (1e300 · 2^300): every format gives ±max, counted as overflow.
  @Test(arguments: FloatFormat.all.filter(\.hasZero))
  func towardZeroOfAHugeScaledValueIsMax(format: FloatFormat) {
    for negative in [false, true] {
      let x = negative ? -1e300 : 1e300
      for overflow in OverflowMode.allCases {
        let (e, dq) = format.quantize(x, bias: 300, rounding: .towardZero, overflow: overflow)
        #expect(e.code == format.maxFiniteCode(negative: negative), "\(x) \(overflow)")
        #expect(e.event == .overflow)
        #expect(dq == (negative ? -1 : 1) * format.maxFinite * 0x1p-300)
      }
      // Nearest-even and stochastic do overflow: inf where the format has it, else NaN, else
      // (FP6, FP4: neither) max.
      for rounding in [RoundingMode.nearestEven, .stochastic] {
        let e = format.encode(x, scale: 300, rounding: rounding, overflow: .nonfinite, randomBits: 1 << 63)
        let nonfinite =
          format.hasNaN ? format.nanCode(negative: negative) : format.maxFiniteCode(negative: negative)
        #expect(e.code == format.infinityCode(negative: negative) ?? nonfinite)
        #expect(e.event == .overflow)
        let s = format.encode(x, scale: 300, rounding: rounding, overflow: .saturate, randomBits: 1 << 63)
        #expect(s.code == format.maxFiniteCode(negative: negative) && s.event == .overflow)
      }
      // A tiny value scaled down past `Double`'s range is an underflow, not an exact zero.
      let u = format.encode(negative ? -1e-300 : 1e-300, scale: -300)
      #expect(u.code == format.zeroCode(negative: negative) && u.event == .underflow)
      // ...and stochastic rounding still rounds it up (to the smallest subnormal) when u = 0.
      let up = format.encode(1e-300, scale: -300, rounding: .stochastic, randomBits: 0x7FF)
      #expect(up.code == 1 && up.event == .rounded)
      let down = format.encode(1e-300, scale: -300, rounding: .stochastic, randomBits: 0x800)
      #expect(down.code == 0 && down.event == .underflow)
    }
  }

  /// Encoding with a scale is encoding the exact product whenever the product fits `Double`.
  @Test func scaledEncodingEqualsEncodingTheScaledValue() {
    var rng = SplitMix64(seed: 5)
    for format in FloatFormat.all {
      for _ in 0..<20_000 {
        let x = (rng.nextUnit() - 0.5) * exp2(Double(Int(rng.next() % 120) - 60))
        let b = Int(rng.next() % 121) - 60
        let rounding = RoundingMode.allCases[Int(rng.next() % 3)]
        let overflow = OverflowMode.allCases[Int(rng.next() % 2)]
        let bits = rng.next()
        let want = format.encode(
          x * exp2(Double(b)), rounding: rounding, overflow: overflow, randomBits: bits)
        let got = format.encode(x, scale: b, rounding: rounding, overflow: overflow, randomBits: bits)
        if got != want {
          Issue.record("\(format) \(x)·2^\(b) \(rounding) \(overflow): got \(got) want \(want)")
          return
        }
      }
    }
  }

  /// Stochastic rounding between max and max + ulp: max or an overflow, by the random bits.
  @Test func stochasticRoundingPastMax() {
    // e4m3fn: max 448, next grid point 480; 464 is halfway, so u < 0.5 rounds up (overflow).
    let up = FloatFormat.e4m3fn.encode(464, rounding: .stochastic, randomBits: 0)
    #expect(up.code == 0x7F && up.event == .overflow)
    let down = FloatFormat.e4m3fn.encode(464, rounding: .stochastic, randomBits: 1 << 63)
    #expect(down.code == 0x7E && down.event == .rounded)
    let saturated = FloatFormat.e5m2.encode(
      -60000, rounding: .stochastic, overflow: .saturate, randomBits: 0)
    #expect(saturated.code == 0xFB && saturated.event == .overflow)
    // At or beyond max + ulp there is no neighbour at or below max: always an overflow.
    for bits: UInt64 in [0, 1 << 63, .max] {
      let e = FloatFormat.e5m2.encode(65536, rounding: .stochastic, randomBits: bits)
      #expect(e.code == 0x7C && e.event == .overflow)
      let f = FloatFormat.e4m3fnuz.encode(-256, rounding: .stochastic, randomBits: bits)
      #expect(f.code == 0x80 && f.event == .overflow)
    }
  }

  /// NaN keeps its sign where the format has signed NaNs (as ml_dtypes); fnuz has one NaN.
  @Test func nanSignIsKeptWhereTheFormatHasSignedNaNs() {
    let expected: [(FloatFormat, UInt32, UInt32)] = [
      (.e4m3fn, 0x7F, 0xFF), (.e5m2, 0x7E, 0xFE), (.e4m3fnuz, 0x80, 0x80), (.e5m2fnuz, 0x80, 0x80),
      (.f16, 0x7E00, 0xFE00), (.bf16, 0x7FC0, 0xFFC0), (.f32, 0x7FC0_0000, 0xFFC0_0000),
    ]
    for (format, positive, negative) in expected {
      #expect(format.encode(.nan).code == positive, "\(format)")
      #expect(format.encode(-.nan).code == negative, "\(format)")
      #expect(format.decode(negative).sign == (format.hasSignedNaN ? .minus : .plus), "\(format)")
      #expect(format.hasSignedNaN == (format.specials != .fnuz))
    }
    #expect(ValueText.parse("-nan")?.sign == .minus)
    #expect(ValueText.parse("-NaN")?.isNaN == true)
    #expect(ValueText.parse("nan")?.sign == .plus)
  }
}
