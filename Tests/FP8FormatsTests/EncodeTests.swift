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

  @Test func agreesWithMLDtypesOnThousandsOfInputs() throws {
    let vectors = try Self.loadVectors()
    #expect(vectors.count > 18_000)
    var mismatches: [String] = []
    for v in vectors {
      let format = try #require(FloatFormat.named(v.format))
      let got = format.encode(v.input, rounding: .nearestEven, overflow: .nonfinite).code
      // ml_dtypes keeps NaN payload bits of f16/bf16 inputs; compare NaN-ness there.
      let same = got == v.code || (format.decode(got).isNaN && format.decode(v.code).isNaN)
      if !same && mismatches.count < 10 {
        mismatches.append(
          "\(v.format) \(v.input): got 0x\(String(got, radix: 16)) want 0x\(String(v.code, radix: 16))")
      }
    }
    #expect(mismatches.isEmpty, "\(mismatches)")
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
}
