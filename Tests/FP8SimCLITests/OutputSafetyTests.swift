import Foundation
import Testing

@testable import FP8Sim
@testable import FP8SimCLI

/// Outputs never overwrite inputs, never escape their folder, never share a name, are written
/// atomically, and failures to write are reported.
@Suite struct OutputSafetyTests {
  func temporaryFolder() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fp8sim-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
  }

  @Test func traceNeverOverwritesTheProgramOrTheDeviceFile() throws {
    let dir = try temporaryFolder()
    let program = dir.appendingPathComponent("p.isa")
    let text = ".device \"dev.json\"\n  nop\n"
    try text.write(to: program, atomically: true, encoding: .utf8)
    try "{ base: \"teach\" }".write(
      to: dir.appendingPathComponent("dev.json"), atomically: true, encoding: .utf8)
    let r = runCLI(["run", program.path, "--trace", program.path])
    #expect(r.status == .usage)
    #expect(r.stderr.contains("--trace '\(program.path)' is the input '\(program.path)' of this command"))
    #expect(try String(contentsOf: program, encoding: .utf8) == text)
    // Another name for the same file (a hard link) is refused too.
    let link = dir.appendingPathComponent("same.json")
    try FileManager.default.linkItem(at: dir.appendingPathComponent("dev.json"), to: link)
    let d = runCLI(["run", program.path, "--trace", link.path])
    #expect(d.status == .usage && d.stderr.contains("is the input"))
    #expect(try String(contentsOf: link, encoding: .utf8) == "{ base: \"teach\" }")
  }

  @Test func dumpReplacesAPlantedLinkInsteadOfWritingThroughIt() throws {
    let dir = try temporaryFolder()
    let outside = dir.appendingPathComponent("outside.txt")
    try "keep me".write(to: outside, atomically: true, encoding: .utf8)
    let dump = dir.appendingPathComponent("dump")
    try FileManager.default.createDirectory(at: dump, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(
      at: dump.appendingPathComponent("C32.npy"), withDestinationURL: outside)
    inPackageRoot()
    let r = runCLI(["run", "examples/accumulators.isa", "--dump", dump.path])
    #expect(r.status == .success, "\(r.stderr)")
    #expect(try String(contentsOf: outside, encoding: .utf8) == "keep me")
    let attributes = try FileManager.default.attributesOfItem(
      atPath: dump.appendingPathComponent("C32.npy").path)
    #expect(attributes[.type] as? FileAttributeType == .typeRegular)
    // No temporary files are left behind.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dump.path).allSatisfy { !$0.hasPrefix(".") })
  }

  @Test func outputsThatWouldShareANameAreRefusedBeforeTheRun() throws {
    let dir = try temporaryFolder()
    let program = dir.appendingPathComponent("p.isa")
    try ".tensor Y f32 [4] dram\n.tensor Y.ref f32 [4] dram\n.output Y, Y.ref\n  nop\n".write(
      to: program, atomically: true, encoding: .utf8)
    let dump = dir.appendingPathComponent("dump")
    let r = runCLI(["run", program.path, "--dump", dump.path])
    #expect(r.status == .usage)
    #expect(
      r.stderr.contains("--dump file and --dump file would both be written to '\(dump.path)/Y.ref.npy'"))
    #expect(!FileManager.default.fileExists(atPath: dump.path))
    // The trace and a dump file under one name.
    try ".tensor Y f32 [4] dram\n.output Y\n  nop\n".write(to: program, atomically: true, encoding: .utf8)
    let t = runCLI(["run", program.path, "--dump", dump.path, "--trace", dump.path + "/Y.npy"])
    #expect(t.status == .usage && t.stderr.contains("--trace and --dump file would both be written"))
  }

  @Test func failedWritesExit74WithAMessage() throws {
    inPackageRoot()
    let r = runCLI(["run", "examples/gemm_fp8.isa", "--trace", "/dev/full"])
    #expect(r.status == .ioError)
    #expect(r.stderr.hasPrefix("fp8sim run: error: cannot write the trace '/dev/full': "), "\(r.stderr)")
    let d = runCLI(["run", "examples/gemm_fp8.isa", "--trace", "/nonexistent-folder/t.json"])
    #expect(d.status == .ioError && d.stderr.contains("No such file or directory"))
    // Standard output on a full disk: the real executable reports it (status 74).
    for arguments in [["isa"], ["run", "examples/gemm_fp8.isa"], ["quantize", "--format", "f16", "1"]] {
      let process = Process()
      process.executableURL = try builtExecutable()
      process.arguments = arguments
      process.currentDirectoryURL = packageRoot
      process.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
      let err = Pipe()
      process.standardError = err
      try process.run()
      let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      process.waitUntilExit()
      #expect(process.terminationStatus == 74, "\(arguments)")
      #expect(message == "fp8sim: error: cannot write to standard output: No space left on device\n")
    }
  }

  @Test func traceIsValidTraceEventFormat() throws {
    inPackageRoot()
    let path = try temporaryFolder().appendingPathComponent("t.json")
    let r = runCLI(["run", "examples/ffn_amax.isa", "--trace", path.path])
    #expect(r.status == .success)
    let text = try String(contentsOf: path, encoding: .utf8)
    // Times are exact decimals of integer picoseconds: no float noise.
    let times = try Regex(#""(ts|dur)":([0-9.e+-]+)"#)
    for match in text.matches(of: times) {
      let value = String(match.output[2].substring!)
      #expect(value.wholeMatch(of: /[0-9]+(\.[0-9]{1,6})?/) != nil, "\(value)")
    }
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    let events = try #require(object?["traceEvents"] as? [[String: Any]])
    let complete = events.filter { $0["ph"] as? String == "X" }
    #expect(complete.count > 100)
    // Per track: sorted by time and never overlapping.
    var tracks: [[Int]: [(Double, Double)]] = [:]
    for e in complete {
      let key = [e["pid"] as! Int, e["tid"] as! Int]
      tracks[key, default: []].append(
        ((e["ts"] as! NSNumber).doubleValue, (e["dur"] as! NSNumber).doubleValue))
    }
    var dmaLanes = 0
    for (key, spans) in tracks {
      if key[1] >= ChromeTrace.dmaBaseTid { dmaLanes += 1 }
      for (a, b) in zip(spans, spans.dropFirst()) {
        #expect(a.0 <= b.0, "track \(key) out of order")
        #expect(a.0 + a.1 <= b.0 + 1e-9, "track \(key) overlaps")
      }
    }
    #expect(dmaLanes > 4)  // transfers in flight get lanes of their own
    let named = events.filter { $0["name"] as? String == "thread_name" }.compactMap {
      ($0["args"] as? [String: Any])?["name"] as? String
    }
    #expect(named.contains("dma 1") && named.contains("tensor"))
  }

  @Test func traceIsWrittenUpToAFault() throws {
    let dir = try temporaryFolder()
    let program = dir.appendingPathComponent("p.isa")
    try
      ".tensor X f32 [64] dram\n.tensor x f32 [64] sram\n  dma.load x, X\n  dma.wait\n  vadd x, x, x\n  mov r1, 0\n  div r1, 1, r1\n"
      .write(to: program, atomically: true, encoding: .utf8)
    let trace = dir.appendingPathComponent("t.json")
    let r = runCLI(["run", program.path, "--trace", trace.path])
    #expect(r.status == .runtimeFault)
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: trace)) as? [String: Any]
    let events = try #require(object?["traceEvents"] as? [[String: Any]])
    #expect(
      Set(events.filter { $0["ph"] as? String == "X" }.compactMap { $0["cat"] as? String }) == [
        "dma", "vector",
      ])
    let other = try #require(object?["otherData"] as? [String: Any])
    #expect((other["fault"] as? String)?.hasSuffix(": division by zero") == true)
  }

  @Test func microsecondsAreExact() {
    #expect(ChromeTrace.microseconds(0) == "0")
    #expect(ChromeTrace.microseconds(13_000) == "0.013")
    #expect(ChromeTrace.microseconds(1_234_567) == "1.234567")
    #expect(ChromeTrace.microseconds(5_000_000) == "5")
  }
}

/// Program errors are program errors: a location and status 65.
@Suite struct ProgramErrorTests {
  @Test func unknownDeviceInAProgramIsAnErrorAtTheDirective() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fp8sim-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let program = dir.appendingPathComponent("p.isa")
    try "; a device\n.device   nosuch\n  nop\n".write(to: program, atomically: true, encoding: .utf8)
    let r = runCLI(["run", program.path])
    #expect(r.status == .dataError)
    #expect(
      r.stderr.hasPrefix("\(program.path):2:11: error: unknown device 'nosuch'; presets: teach, h100, ipu"),
      "\(r.stderr)")
    #expect(r.stderr.contains(".device   nosuch\n          ^\n"))
  }

  @Test func checkWithADeviceFindsSRAMOverflow() throws {
    inPackageRoot()
    #expect(runCLI(["check", "examples/gemm_fp8.isa", "--device", "h100"]).status == .success)
    let r = runCLI([
      "check", "examples/gemm_fp8.isa", "--set", "TM=64", "--set", "TN=64", "--set", "TK=256", "--set",
      "K=256", "--device", "teach",
    ])
    #expect(r.status == .dataError)
    #expect(r.stderr.contains("error: SRAM overflow: the sram tensors up to 'acc' need"), "\(r.stderr)")
  }

  @Test func helpForACommand() {
    let r = runCLI(["help", "run"])
    #expect(r.status == .success && r.stdout.hasPrefix("usage: fp8sim run PROGRAM.isa"))
    #expect(runCLI(["help", "nosuch"]).status == .usage)
  }

  @Test func controlCharactersInMessagesAreEscaped() {
    let r = runCLI(["run", "--bogus\u{1B}[31m"])
    #expect(r.status == .usage)
    #expect(r.stderr == "fp8sim run: error: unknown option '--bogus\\u{1B}[31m'\n")
  }
}

@Suite struct AtomicFileTests {
  @Test func devicesAreWrittenInPlaceNeverReplaced() throws {
    // /dev/null must stay a character device after being written to.
    let file = try AtomicFile("/dev/null")
    try file.append("x")
    try file.commit()
    let attributes = try FileManager.default.attributesOfItem(atPath: "/dev/null")
    #expect(attributes[.type] as? FileAttributeType == .typeCharacterSpecial)
  }
}
