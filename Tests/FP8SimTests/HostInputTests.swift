import FP8Data
import FP8Formats
import FP8ISA
import Foundation
import Testing

@testable import FP8Sim

/// Values that enter a run from the host: `.safetensors` files read into f16 and f32 tensors
/// (the f16 conversion the initialiser uses against `FloatFormat.f16.round`, on the values where
/// rounding is hardest) and `RunOptions.inputs` (device values rounded to the tensor's type, the
/// shadow kept as given, wrong counts refused).
@Suite struct HostInputTests {
  /// f32 values around every f16 boundary: overflow, ties at the largest finite value,
  /// subnormal ties, signed zeros, NaN and infinities, then seeded random values of every size.
  static let values: [Float] = {
    var v: [Float] = [
      0, -0, 65504, 65519.996, 65520, -65520, 65536, .infinity, -.infinity, .nan, 0x1p-24, 0x1p-25, 0x1.8p-25,
      0x1p-26, -0x1p-25, 0x1.004p-14, 0x1.002p0, 0x1.006p0, 0x1.ffep15, .leastNonzeroMagnitude,
    ]
    var rng = SplitMix64(seed: 3)
    for _ in 0..<4000 {
      let bits = UInt32(truncatingIfNeeded: rng.next())
      let f = Float(bitPattern: bits & 0x8000_0000 | (0x3000_0000 + bits % 0x1800_0000))
      v.append(f)
    }
    return v
  }()

  static func file() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "host-\(UUID().uuidString).safetensors")
    try Safetensors.write(
      url, tensors: [("v", "F32", [values.count], values.withUnsafeBytes { Data($0) })])
    return url
  }

  @Test(arguments: ["f16", "f32", "bf16"])
  func fileValuesAreRoundedOnceToTheTensorsType(_ type: String) throws {
    let url = try Self.file()
    let r = try simulate(
      """
      .tensor V \(type) [\(Self.values.count)] dram safetensors("\(url.path)", "v")
      .output V
              halt
      """)
    let format = FloatFormat.named(type)!
    let v = try #require(output(r, "V"))
    for (i, x) in Self.values.enumerated() {
      let want = Float(format.round(Double(x)))
      #expect(
        v.values[i].bitPattern == want.bitPattern || (v.values[i].isNaN && want.isNaN), "value \(i): \(x)")
      #expect(v.reference[i].bitPattern == x.bitPattern || (x.isNaN && v.reference[i].isNaN))
    }
  }

  @Test func inputsReplaceTheInitializer() throws {
    var options = RunOptions()
    options.inputs["X"] = HostTensor(values: [1.0009766, 70000, -2], reference: [1.0009, 70000, -2])
    let r = try simulate(
      """
      .tensor X f16 [3] dram randn(1, 0.0, 1.0)
      .output X
              halt
      """, options: options)
    let x = try #require(output(r, "X"))
    // The device's values as f16 holds them (1.0009766 is f16's 1 + 2^-10; 70000 overflows),
    // the shadow as given.
    #expect(x.values == [1.0009766, .infinity, -2])
    #expect(x.reference == [1.0009, 70000, -2])
    options.inputs["X"] = HostTensor(values: [1, 2], reference: [1, 2])
    let message =
      fault(
        """
        .tensor X f16 [3] dram
        .output X
                halt
        """, options: options)?.message ?? "no fault"
    #expect(message.contains("has 2 values; the tensor holds 3"))
  }
}
