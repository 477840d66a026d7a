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
