import FP8Sim
import Foundation
import Testing

@testable import FP8SimCLI

@Suite struct CompareCommandTests {
  @Test func sideBySideTableHasAColumnPerProgram() {
    inPackageRoot()
    let r = runCLI([
      "compare", "examples/linear_amax.isa", "examples/linear_cscale.isa", "--set", "S=1", "--set", "RESB=2",
    ])
    #expect(r.status == .success, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n")
    #expect(
      lines[1].hasPrefix("measurement") && lines[1].contains(" linear_amax ")
        && lines[1].hasSuffix(" linear_cscale"))
    for row in [
      "cycles", "stall: sync", "DRAM -> L2 B", "X: L2 -> SRAM B", "energy uJ", "Y SNR dB", "cast overflows",
    ] {
      #expect(lines.contains { $0.hasPrefix(row + " ") }, "missing row \(row)")
    }
  }

  @Test func sweepRunsOnceperValueWithSNRBars() {
    inPackageRoot()
    let r = runCLI([
      "compare", "examples/linear_cscale.isa", "--sweep", "bias=-1..1", "--set", "S=1", "--set", "M=64",
    ])
    #expect(r.status == .success, "\(r.stderr)")
    let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("linear_cscale bias=") }
    #expect(
      rows.map { String($0.prefix(22)) } == [
        "linear_cscale bias=-1 ", "linear_cscale bias=0  ", "linear_cscale bias=1  ",
      ])
    #expect(rows.allSatisfy { $0.hasSuffix("#") })
    // The columns a sweep picks (by statistic key), in table order.
    let header = r.stdout.split(separator: "\n")[1].components(separatedBy: "  ").map {
      $0.trimmingCharacters(in: .whitespaces)
    }.filter { !$0.isEmpty }
    #expect(
      header == [
        "run", "cycles", "DRAM -> L2 B", "L2 -> SRAM B", "energy uJ", "Y SNR dB", "Y NaN+inf",
        "cast overflows",
        "cast underflows", "SNR",
      ])
  }

  @Test func jsonHasOneReportPerRun() throws {
    inPackageRoot()
    let r = runCLI([
      "compare", "examples/linear_cscale.isa", "--sweep", "bias=0,2", "--set", "S=1", "--set", "M=64",
      "--format", "json", "--timing-only",
    ])
    let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    #expect(object?["schema"] as? String == "fp8sim-compare/1")
    let runs = try #require(object?["runs"] as? [[String: Any]])
    #expect(runs.map { $0["label"] as? String } == ["linear_cscale bias=0", "linear_cscale bias=2"])
  }

  /// NaN and inf counts are grouped like every other count, in `run` and in `compare`.
  @Test func nonFiniteCountsAreGrouped() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("inf-\(UUID().uuidString).isa")
    try """
    .tensor A f32 [64, 64] sram
    .tensor Y f32 [64, 64] dram
    .output Y
            vfill A, inf
            dma.store Y, A
            dma.wait
    """.write(to: url, atomically: true, encoding: .utf8)
    let run = runCLI(["run", url.path])
    #expect(
      run.stdout.contains("\n  Y       [64, 64]  f32      nan            0            0    0  4,096\n"),
      "\(run.stdout)")
    let compare = runCLI(["compare", url.path])
    let row = compare.stdout.split(separator: "\n").first { $0.hasPrefix("Y NaN+inf ") }
    #expect(row?.hasSuffix(" 4,096") == true, "\(compare.stdout)")
  }

  @Test(arguments: [
    (["compare"], "missing programs to compare"),
    (["compare", "examples/linear_cscale.isa", "--sweep", "bias"], "--sweep needs NAME=A..B"),
    (["compare", "examples/linear_cscale.isa", "--sweep", "bias=3..1"], "A ≤ B"),
    (["compare", "examples/linear_cscale.isa", "--set", "NOPE=1"], "no program declares a parameter 'NOPE'"),
  ])
  func badUsage(arguments: [String], message: String) {
    inPackageRoot()
    let r = runCLI(arguments + ["--timing-only"])
    #expect(r.status == .usage)
    #expect(r.stderr.contains(message), "\(r.stderr)")
  }
}
