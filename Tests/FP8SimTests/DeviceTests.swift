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

  /// The calibration: peak FP8 throughput and DRAM bandwidth come back as the published figures.
  @Test func presetsReproduceThePublishedPeaks() {
    #expect(abs(DeviceConfig.h100.peakFP8TFLOPS - 1978.9) < 0.1)  // §A2
    #expect(abs(DeviceConfig.h100.dramGBps - 3350) < 1)  // §A1
    #expect(abs(DeviceConfig.ipu.peakFP8TFLOPS / 2 - 348.5) < 0.1)  // Bow FP16 = FP8 / 2 (§C2)
  }

  @Test func fileFieldsAreCheckedAndDefaultToTheBase() throws {
    let d = try DeviceConfig.parse(
      Data("// comment\n{ base: 'h100', tiles: 8, l2: { bytes: 1048576, }, }".utf8), path: "d.json")
    #expect(d.tiles == 8 && d.l2Bytes == 1 << 20 && d.clockGHz == 1.83 && d.name == "h100-custom")
    let problems: [(String, String)] = [
      ("{ tiles: 2.5 }", "'tiles' must be an integer"),
      ("{ l2: { bytes: 1000 } }", "must be a multiple of l2.lineBytes × l2.ways"),
      ("{ l2: { lineBytes: 48, bytes: 0 } }", "must be a power of two"),
      ("{ formats: { e4: 'e5m2' } }", "'formats.e4' must be one of e4m3fn, e4m3fnuz"),
      ("{ base: 'h200' }", "'base' must name a preset"),
      ("[1, 2]", "must be a JSON object"),
      ("{ tiles: ", "not valid JSON5"),
      ("{ dma: { bytesPerCycle: -1 } }", "is outside"),
      ("{ clock: 2 }", "unknown field 'clock' (did you mean 'clockGHz'?)"),
    ]
    for (text, message) in problems {
      do {
        _ = try DeviceConfig.parse(Data(text.utf8), path: "d.json")
        Issue.record("\(text) should be rejected")
      } catch {
        #expect(error.description.contains(message), "\(text): \(error.description)")
        #expect(error.description.hasPrefix("d.json: error: "))
      }
    }
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
