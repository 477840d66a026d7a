import FP8Data
import FP8ISA
import Foundation
import Testing

@testable import FP8SimCLI

@Suite struct CheckCommandTests {
  func write(_ text: String) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString).isa")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  @Test func summarisesAValidProgram() throws {
    let path = try write(
      ".param N = 8\n.tensor X f16 [N, N] dram\n.tensor x f16 [N, N] sram\n  dma.load x, X\n  halt\n")
    let r = runCLI(["check", path])
    #expect(r.status == .success)
    #expect(
      r.stdout
        == "\(path): ok: 2 instructions, 2 tensors (128 bytes in dram, 128 bytes of sram per tile), 1 parameters, 0 outputs\n"
    )
  }

  @Test func setOverridesAndPrintsCanonicalForm() throws {
    let path = try write(".param N = 8\n.tensor X f16 [N] dram\n")
    let r = runCLI(["check", path, "--set", "N=3*4", "--print"])
    #expect(r.stdout == ".param N = 12\n.tensor X f16 [12] dram\n")
    let unknown = runCLI(["check", path, "--set", "M=1"])
    #expect(unknown.status == .usage)
    #expect(unknown.stderr.contains("declares no parameter 'M' (parameters: N)"))
    #expect(runCLI(["check", path, "--set", "N"]).status == .usage)
  }

  @Test func badProgramExitsWith65AndEveryDiagnostic() throws {
    let path = try write("  mov r99, 1\n  frob\n")
    let r = runCLI(["check", path])
    #expect(r.status == .dataError)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.contains("\(path):1:7: error: register 'r99' does not exist"))
    #expect(r.stderr.contains("\(path):2:3: error: unknown instruction 'frob'"))
    #expect(r.stderr.hasSuffix("2 errors generated.\n"))
  }

  /// Issue 9: a data file whose raw codes do not fit the declared type fails `check` (exit 65)
  /// with a located diagnostic, instead of passing and faulting at run time.
  @Test func rawCodeWidthMismatchFailsCheck() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try NPY.write(dir.appendingPathComponent("c1.npy"), shape: [4], descr: "<V1", data: Data([1, 2, 3, 4]))
    let path = dir.appendingPathComponent("p.isa").path
    try ".tensor X f16 [4] dram npy(\"c1.npy\")\n".write(toFile: path, atomically: true, encoding: .utf8)
    let r = runCLI(["check", path])
    #expect(r.status == .dataError)
    #expect(
      r.stderr.hasPrefix(
        "\(path):1:24: error: data file error: c1.npy: 1-byte raw codes cannot hold f16 values (2 bytes each)\n"
      ))
    let (status, _, _) = try runExecutable(["check", path])
    #expect(status == 65)
  }

  /// Issue 9: data_offsets near 2^63 trapped `fp8sim check`; now it is a diagnostic (exit 65).
  @Test func hugeSafetensorsOffsetsFailCheck() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let json = Array(
      #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [9223372036854775807, 9223372036854775807]}}"#
        .utf8)
    var file = Data((0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) })
    file.append(contentsOf: json + [0, 0, 0, 0])
    let data = dir.appendingPathComponent("w.safetensors")
    try file.write(to: data)
    let path = dir.appendingPathComponent("p.isa").path
    try ".tensor W f32 [1] dram safetensors(\"w.safetensors\", \"w\")\n".write(
      toFile: path, atomically: true, encoding: .utf8)
    let r = runCLI(["check", path])
    #expect(r.status == .dataError)
    #expect(
      r.stderr.hasPrefix(
        "\(path):1:24: error: data file error: \(data.path): data of 'w' extends past the end of the file (data_offsets end at 9223372036854775807, the data section has 4 bytes)\n"
      ))
    let (status, _, _) = try runExecutable(["check", path])
    #expect(status == 65)
  }

  @Test func missingFileIsAUsageError() {
    let r = runCLI(["check", "/nonexistent/x.isa"])
    #expect(r.status == .usage)
    #expect(r.stderr.contains("cannot read '/nonexistent/x.isa'"))
  }

  @Test func realExecutableExitStatuses() throws {
    let path = try write("  bogus\n")
    let (status, _, err) = try runExecutable(["check", path])
    #expect(status == 65)
    #expect(err.contains("unknown instruction 'bogus'"))
  }

  @Test func isaCommandPrintsTheGeneratedReference() throws {
    let r = runCLI(["isa"])
    #expect(r.status == .success)
    let committed = try String(contentsOf: packageRoot.appendingPathComponent("isa/ISA.md"), encoding: .utf8)
    #expect(r.stdout == committed)
  }
}
