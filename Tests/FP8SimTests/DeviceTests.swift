import FP8Formats
import Foundation
import Testing

@testable import FP8Sim

@Suite struct DeviceTests {
  @Test func presetsAreValid() {
    for d in DeviceConfig.presets { #expect(d.validate().isEmpty, "\(d.name): \(d.validate())") }
    #expect(
      DeviceConfig.h100.e4 == .e4m3fn && DeviceConfig.ipu.e4 == .e4m3fnuz && DeviceConfig.ipu.e5 == .e5m2fnuz)
  }

  /// The calibration: per-cycle rates are the published ones (peak FP8 at the 1.83 GHz of the
  /// spec sheet, §A2); the clock is the one fitted to sustained GEMMs and DRAM the measured
  /// bandwidth (docs/validation.md).
  @Test func presetsReproduceThePublishedPeaks() {
    var spec = DeviceConfig.h100
    spec.clockGHz = 1.83
    #expect(abs(spec.peakFP8TFLOPS - 1978.9) < 0.1)  // §A2
    #expect(DeviceConfig.h100.clockGHz == 1.41)
    #expect(abs(DeviceConfig.h100.dramGBps - 2930) < 1)  // validation/sources.md §1
    #expect(abs(DeviceConfig.ipu.peakFP8TFLOPS / 2 - 348.5) < 0.1)  // Bow FP16 = FP8 / 2 (§C2)
  }

  /// b200 (uncalibrated): its rates at the clock the tensor peaks imply give the dense peaks of
  /// the Technical Brief (§E2), and DRAM the measured TMA bandwidth (§E5).
  @Test func b200ReproducesItsPublishedPeaks() {
    let d = DeviceConfig.b200
    #expect(abs(d.peakFP8TFLOPS - 4500) < 1)  // 4.5 PFLOP/s dense FP8/FP6
    #expect(abs(Double(d.tiles) * d.tensorMacsPerCycleHalf * 2 * d.clockGHz / 1000 - 2250) < 1)  // FP16/BF16
    #expect(abs(Double(d.tiles) * d.tensorMacsPerCycleSingle * 2 * d.clockGHz / 1000 - 1125) < 1)  // TF32 (1.1)
    #expect(abs(d.dramGBps - 7260) < 1)
    #expect(d.l2Bytes == 132_644_864 && d.tiles == 148 && d.tensorAccumulatorBytesPerTile == 256 * 1024)
    #expect(DeviceConfig.preset(named: "b200") == d)
  }

  @Test func fileFieldsAreCheckedAndDefaultToTheBase() throws {
    let d = try DeviceConfig.parse(
      Data("// comment\n{ base: 'h100', tiles: 8, l2: { bytes: 1048576, }, }".utf8), path: "d.json")
    #expect(d.tiles == 8 && d.l2Bytes == 1 << 20 && d.clockGHz == 1.41 && d.name == "h100-custom")
    for (text, message) in [
      ("{ tiles: 2.5 }", "d.json:1:10: error: 'tiles' must be an integer, got 2.5"),
      (
        "{ l2: { bytes: 1000 } }",
        "d.json: error: l2.bytes (1000) must be a multiple of l2.lineBytes × l2.ways (512)"
      ),
      ("{ l2: { lineBytes: 48, bytes: 0 } }", "d.json: error: l2.lineBytes (48) must be a power of two"),
      (
        "{ formats: { e4: 'e5m2' } }",
        "d.json:1:18: error: 'formats.e4' must be one of e4m3fn, e4m3fnuz, got 'e5m2'"
      ),
      ("{ base: 'h200' }", "d.json:1:9: error: 'base' must name a preset: teach, h100, ipu, b200"),
      ("[1, 2]", "d.json:1:1: error: the device file must be a JSON object"),
      ("{ tiles: ", "d.json:1:10: error: not valid JSON5: expected a value, found the end of the file"),
      (
        "{ dma: { bytesPerCycle: -1 } }",
        "d.json:1:25: error: 'dma.bytesPerCycle' = -1 is outside 0.001...1000000000.0"
      ),
      ("{ clock: 2 }", "d.json:1:3: error: unknown field 'clock' (did you mean 'clockGHz'?)"),
    ] {
      #expect(Self.problems(text) == message, "\(text)")
    }
  }

  /// The device file's error text, or `nil` when it loads.
  static func problems(_ text: String) -> String? {
    do {
      _ = try DeviceConfig.parse(Data(text.utf8), path: "d.json")
      return nil
    } catch {
      return error.description
    }
  }

  /// Issue 9: the same field given twice (a key twice in one object, or a dotted key and the
  /// nested form) is an error naming both places; Foundation picked one of them at random.
  @Test func aFieldGivenTwiceIsAnError() {
    for (text, message) in [
      (
        #"{"l2.bytes": 16384, l2: {bytes: 262144}}"#,
        "d.json:1:26: error: 'l2.bytes' is given twice (first at 1:2)"
      ),
      (
        #"{ l2: { bytes: 0 }, "l2.bytes": 0 }"#,
        "d.json:1:21: error: 'l2.bytes' is given twice (first at 1:9)"
      ),
      ("{ tiles: 2, tiles: 4 }", "d.json:1:13: error: duplicate key 'tiles' (first at 1:3)"),
      ("{ l2: { ways: 2, ways: 4 } }", "d.json:1:18: error: duplicate key 'ways' (first at 1:9)"),
      ("{ l2: { ways: 2 }, l2: { bytes: 0 } }", "d.json:1:20: error: duplicate key 'l2' (first at 1:3)"),
      ("{\n  base: 'h100',\n  'base': 'ipu',\n}", "d.json:3:3: error: duplicate key 'base' (first at 2:3)"),
    ] {
      #expect(Self.problems(text) == message, "\(text)")
    }
    // Problems come in file order.
    #expect(
      Self.problems(#"{ clock: 1, "l2.ways": 4, l2: { ways: 2 } }"#)
        == "d.json:1:3: error: unknown field 'clock' (did you mean 'clockGHz'?)\n"
        + "d.json:1:33: error: 'l2.ways' is given twice (first at 1:13)")
    // Different fields of one group, dotted and nested, are fine.
    #expect(Self.problems(#"{ "l2.ways": 4, l2: { bytes: 16384 } }"#) == nil)
  }

  /// Integer fields take exact integers only; nothing is truncated.
  @Test func integerFieldsAreExact() throws {
    #expect(try DeviceConfig.parse(Data("{ tiles: 4.0 }".utf8), path: "d.json").tiles == 4)
    #expect(try DeviceConfig.parse(Data("{ tiles: 0x10 }".utf8), path: "d.json").tiles == 16)
    #expect(try DeviceConfig.parse(Data("{ tiles: 2e1 }".utf8), path: "d.json").tiles == 20)
    for (text, message) in [
      ("{ tiles: 4.5 }", "d.json:1:10: error: 'tiles' must be an integer, got 4.5"),
      ("{ tiles: 1e-1 }", "d.json:1:10: error: 'tiles' must be an integer, got 1e-1"),
      ("{ tiles: Infinity }", "d.json:1:10: error: 'tiles' must be an integer, got Infinity"),
      ("{ tiles: NaN }", "d.json:1:10: error: 'tiles' must be an integer, got NaN"),
      ("{ tiles: 1e30 }", "d.json:1:10: error: 'tiles' = 1e30 is outside 1...8192"),
      (
        "{ l2: { bytes: 9223372036854775808 } }",
        "d.json:1:16: error: 'l2.bytes' = 9223372036854775808 is outside 0...68719476736"
      ),
      ("{ tiles: '4' }", "d.json:1:10: error: 'tiles' must be an integer, got a string"),
      ("{ clockGHz: NaN }", "d.json:1:13: error: 'clockGHz' = NaN is outside 0.001...100.0"),
      ("{ clockGHz: -Infinity }", "d.json:1:13: error: 'clockGHz' = -Infinity is outside 0.001...100.0"),
    ] {
      #expect(Self.problems(text) == message, "\(text)")
    }
  }

  @Test func nestingIsBounded() {
    let deep = String(repeating: "{ a: ", count: 100_000)
    #expect(Self.problems(deep) == "d.json:1:321: error: nested more than 64 levels deep")
  }

  /// A file full of mistakes reports the first 50.
  @Test func problemsAreCapped() {
    let text = "{" + (0..<60).map { "x\($0): 1" }.joined(separator: ", ") + "}"
    let lines = Self.problems(text)?.split(separator: "\n") ?? []
    #expect(lines.count == 51)
    #expect(lines.first == "d.json:1:2: error: unknown field 'x0' (did you mean 'name'?)")
    #expect(lines.last == "d.json: error: too many problems; only the first 50 are shown")
  }

  /// docs/devices.md carries the generated field reference (`fp8sim devices --fields`).
  @Test func devicesDocumentListsEveryField() throws {
    let doc = try String(contentsOf: packageRoot.appendingPathComponent("docs/devices.md"), encoding: .utf8)
    #expect(
      doc.contains(DeviceConfig.fieldReferenceMarkdown()),
      "docs/devices.md is stale: paste the output of `swift run fp8sim devices --fields` under 'Field reference'"
    )
  }
}
