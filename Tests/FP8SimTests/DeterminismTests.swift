import FP8Formats
import FP8ISA
import Foundation
import Testing

@testable import FP8Sim

@Suite struct DeterminismTests {
  static func gemm() throws -> Program {
    let text = try String(
      contentsOf: packageRoot.appendingPathComponent("examples/gemm_fp8.isa"), encoding: .utf8)
    return try Assembler.assemble(text: text, path: "examples/gemm_fp8.isa")
  }

  @Test(arguments: ["teach", "h100", "ipu"])
  func twoRunsGiveIdenticalReports(device: String) throws {
    let program = try Self.gemm()
    let d = try #require(DeviceConfig.preset(named: device))
    let a = try Machine(program: program, device: d).run()
    let b = try Machine(program: program, device: d).run()
    #expect(Report(result: a, program: program).json() == Report(result: b, program: program).json())
    #expect(a.outputs[0].values.map(\.bitPattern) == b.outputs[0].values.map(\.bitPattern))
  }

  /// Timing-only runs measure exactly what full runs measure, without values.
  @Test(arguments: ["teach", "h100", "ipu"])
  func timingOnlyMatchesTheFullRun(device: String) throws {
    let program = try Self.gemm()
    let d = try #require(DeviceConfig.preset(named: device))
    var options = RunOptions()
    options.timingOnly = true
    let full = try Machine(program: program, device: d).run()
    let timing = try Machine(program: program, device: d, options: options).run()
    #expect(full.cycles == timing.cycles)
    #expect(full.traffic == timing.traffic)
    #expect(full.units == timing.units)
    #expect(timing.outputs[0].values.isEmpty)
  }

  /// The cost of a timing-only run does not depend on tensor sizes: the same instruction
  /// stream over a 2^34-element tensor takes as long as over a small one.
  @Test func timingOnlyCostDoesNotGrowWithTensorSize() throws {
    func run(_ rows: Int) throws -> (RunResult, Duration) {
      var options = RunOptions()
      options.timingOnly = true
      let text = """
        .tensor X f16 [\(rows), 65536] dram randn(1, 0, 1)
        .tensor x f16 [64, 64] sram
          mov r1, 0
        top:
          dma.load x, X[r1:+64, 0:+64]
          dma.wait
          add r1, r1, 64
          blt r1, 4096, top
        """
      let program = try Assembler.assemble(text: text)
      let clock = ContinuousClock()
      var result: RunResult?
      let elapsed = try clock.measure {
        result = try Machine(program: program, device: teach(), options: options).run()
      }
      return (result!, elapsed)
    }
    let (small, _) = try run(4096)
    let (huge, _) = try run(262_144)  // 2^34 elements, 32 GiB if it were allocated
    #expect(small.cycles == huge.cycles && small.traffic == huge.traffic)
  }
}
