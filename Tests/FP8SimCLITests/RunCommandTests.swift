import FP8Data
import FP8ISA
import FP8Sim
import Foundation
import Testing

@testable import FP8SimCLI

/// Golden reports of every example, and the run command's contract.
@Suite struct RunCommandTests {
  static let examples: [String] = {
    let dir = packageRoot.appendingPathComponent("examples")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return files.filter { $0.hasSuffix(".isa") }.sorted()
  }()

  @Test(arguments: examples)
  func goldenTextReport(example: String) {
    inPackageRoot()
    let r = runCLI(["run", "examples/\(example)"])
    #expect(r.status == .success, "\(r.stderr)")
    assertSnapshot(r.stdout, named: example.replacingOccurrences(of: ".isa", with: ".txt"))
  }

  @Test func examplesExist() {
    #expect(Self.examples.count >= 2)
  }

  @Test func goldenJSONReport() throws {
    inPackageRoot()
    let r = runCLI(["run", "examples/gemm_fp8.isa", "--format", "json"])
    #expect(r.status == .success)
    assertSnapshot(r.stdout, named: "gemm_fp8.json")
    let report = try Report.decode(r.stdout)
    #expect(report.schema == "fp8sim-report/1" && report.outputs.map(\.name) == ["C"])
    // A key given twice is rejected (JSONDecoder alone would keep one of the two).
    let twice = r.stdout.replacingOccurrences(
      of: "  \"cycles\" : ", with: "  \"cycles\" : 1,\n  \"cycles\" : ")
    #expect(
      throws: JSONParseError(
        kind: .duplicateKey, location: .init(line: 21, column: 3),
        message: "duplicate key 'cycles' (first at 20:3)")
    ) { try Report.decode(twice) }
  }

  /// The devices besides `teach` with a golden report of `gemm_fp8.isa`.
  static let otherDevices = ["h100", "ipu"]

  @Test(arguments: otherDevices)
  func goldenReportOnOtherDevices(device: String) {
    inPackageRoot()
    let r = runCLI(["run", "examples/gemm_fp8.isa", "--device", device])
    #expect(r.status == .success, "\(r.stderr)")
    assertSnapshot(r.stdout, named: "gemm_fp8.\(device).txt")
  }

  @Test func runtimeFaultExitsWith1AndNamesTheLine() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fault-\(UUID().uuidString).isa")
    try ".tensor x f16 [4] sram\n  mov r1, 9\n  vfill x[r1:+2], 0\n".write(
      to: url, atomically: true, encoding: .utf8)
    let r = runCLI(["run", url.path])
    #expect(r.status == .runtimeFault)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.hasPrefix("\(url.path):3:3: error: tile 0: slice out of bounds"))
    #expect(r.stderr.contains("  vfill x[r1:+2], 0\n  ^\n"))
    let (status, _, _) = try runExecutable(["run", url.path])
    #expect(status == 1)
  }

  @Test func setOverridesParams() {
    inPackageRoot()
    let r = runCLI(["run", "examples/gemm_fp8.isa", "--set", "K=128", "--format", "json"])
    #expect(r.status == .success)
    #expect((try? Report.decode(r.stdout))?.params["K"] == "128")
    #expect((try? Report.decode(r.stdout))?.count(.macs, "fp8") == 64 * 64 * 128)
  }

  @Test func timingOnlyReportsTheSameTiming() throws {
    inPackageRoot()
    let full = try Report.decode(runCLI(["run", "examples/gemm_fp8.isa", "--format", "json"]).stdout)
    let timing = try Report.decode(
      runCLI(["run", "examples/gemm_fp8.isa", "--format", "json", "--timing-only"]).stdout)
    let timingKeys = StatKey.allCases.filter { $0 == .cycles || $0.statistic.path.hasPrefix("traffic.") }
    #expect(timingKeys.count == 18 && timing.timingOnly)
    for key in timingKeys {
      #expect(full.values(key).map(\.instance) == timing.values(key).map(\.instance), "\(key)")
      #expect(full.values(key).map(\.value) == timing.values(key).map(\.value), "\(key)")
    }
  }

  @Test func traceIsChromeTraceJSON() throws {
    inPackageRoot()
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "trace-\(UUID().uuidString).json")
    let r = runCLI(["run", "examples/gemm_fp8.isa", "--trace", path.path])
    #expect(r.status == .success)
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any]
    let events = try #require(object?["traceEvents"] as? [[String: Any]])
    let complete = events.filter { $0["ph"] as? String == "X" }
    #expect(complete.contains { ($0["name"] as? String)?.hasPrefix("mma 16×64×64") == true })
    #expect(complete.allSatisfy { ($0["dur"] as? Double ?? -1) > 0 })
    #expect(Set(complete.compactMap { $0["pid"] as? Int }) == [0, 1, 2, 3])
  }

  @Test func dumpWritesNpyFiles() throws {
    inPackageRoot()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dump-\(UUID().uuidString)")
    let r = runCLI(["run", "examples/accumulators.isa", "--dump", dir.path])
    #expect(r.status == .success)
    let files = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
    #expect(files.isSuperset(of: ["C16.npy", "C16.ref.npy", "C16.codes.npy", "C32.npy", "C32.ref.npy"]))
    #expect(!files.contains("C32.codes.npy"))
    let header = try String(
      decoding: Data(contentsOf: dir.appendingPathComponent("C16.codes.npy")).prefix(80), as: UTF8.self)
    #expect(header.contains("'descr': '<u2'") && header.contains("'shape': (16, 16)"))
  }

  @Test func badDeviceFilesExitWith65() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dev-\(UUID().uuidString).json")
    try "{ tiles: 0, l2: { bytez: 4 }, clockGHz: \"fast\" }".write(to: url, atomically: true, encoding: .utf8)
    inPackageRoot()
    let r = runCLI(["run", "examples/gemm_fp8.isa", "--device", url.path])
    #expect(r.status == .dataError)
    #expect(r.stderr.contains("'tiles' = 0 is outside 1...8192"))
    #expect(r.stderr.contains("unknown field 'l2.bytez' (did you mean 'l2.bytes'?)"))
    #expect(r.stderr.contains("'clockGHz' must be a number, got a string"))
    #expect(runCLI(["run", "examples/gemm_fp8.isa", "--device", "h200"]).status == .usage)
    // Issue 9: a field given twice gave cycle counts that changed from run to run.
    try #"{"l2.bytes": 16384, l2: {bytes: 262144}}"#.write(to: url, atomically: true, encoding: .utf8)
    let twice = runCLI(["run", "examples/gemm_fp8.isa", "--device", url.path])
    #expect(twice.status == .dataError)
    #expect(twice.stderr == "\(url.path):1:26: error: 'l2.bytes' is given twice (first at 1:2)\n")
  }
}

@Suite struct DevicesCommandTests {
  @Test func listsThePresets() {
    let r = runCLI(["devices"])
    #expect(r.status == .success)
    assertSnapshot(r.stdout, named: "devices.txt")
  }

  /// `--dump` prints a device file that loads back to the same device.
  @Test(arguments: DeviceConfig.presets.map(\.name))
  func dumpRoundTrips(name: String) throws {
    let r = runCLI(["devices", "--dump", name])
    #expect(r.status == .success)
    let loaded = try DeviceConfig.parse(Data(r.stdout.utf8), path: "dump.json")
    #expect(loaded == DeviceConfig.preset(named: name))
  }
}
