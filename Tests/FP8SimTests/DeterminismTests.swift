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

/// Random initial values are filled in chunks across cores; each chunk starts its generator
/// where one sequential pass would be, so the values are the sequential pass's: written here
/// from `SplitMix64` one element after another (Box–Muller, two steps per deviate).
@Suite struct ParallelInitializerTests {
  @Test(arguments: ["randn(7, 0.5, 2.0)", "uniform(9, -3.0, 1.0)"])
  func chunkedFillIsTheSequentialPass(initializer: String) throws {
    let n = 3 * 65_536 + 123  // several chunks and a ragged last one
    let r = try simulate(
      ".tensor X f32 [\(n)] dram \(initializer)\n.tensor Y fp8e4 [\(n)] dram \(initializer)\n.output X\n.output Y\nhalt\n"
    )
    var rng = SplitMix64(seed: initializer.hasPrefix("randn") ? 7 : 9)
    var want: [Double] = []
    for _ in 0..<n {
      want.append(
        initializer.hasPrefix("randn") ? 0.5 + 2.0 * rng.nextGaussian() : -3.0 + 4.0 * rng.nextUnit())
    }
    let x = r.outputs[0]
    let y = r.outputs[1]
    let exact = want
    func differences(_ got: [Float], _ rounded: (Double) -> Float) -> [Int] {
      got.indices.filter { got[$0].bitPattern != rounded(exact[$0]).bitPattern }
    }
    #expect(x.values.count == n && y.values.count == n)
    #expect(differences(x.values) { Float($0) }.prefix(5) == [])
    #expect(differences(y.reference) { Float($0) }.prefix(5) == [])
    #expect(differences(y.values) { Float(FloatFormat.e4m3fn.round($0)) }.prefix(5) == [])
  }
}
