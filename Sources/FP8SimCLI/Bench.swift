import FP8Formats
import FP8ISA
import FP8Sim
import Foundation

/// The measurements of `fp8sim bench`: how fast the simulator itself runs. Build in release mode
/// (`swift build -c release`) before believing any number.
public enum Bench {
  public struct Row: Sendable {
    public var name: String
    public var value: Double
    public var unit: String
    /// The target, when there is one (`docs/performance.md`).
    public var target: Double?
    public var detail: String
  }

  /// Runs every benchmark; `quick` uses small sizes (seconds in total, for tests).
  public static func run(quick: Bool) throws -> [Row] {
    var rows: [Row] = []
    let size = quick ? 64 : 512
    for accumulator in Accumulator.allCases {
      let rate = mmaRate(accumulator, size: size, repeats: quick ? 1 : 3)
      rows.append(
        Row(
          name: "mma emulation, \(accumulator.rawValue) accumulation", value: rate / 1e9, unit: "G MAC/s",
          target: accumulator == .f32 ? 1.0 : nil, detail: "FP8 inputs, \(size)×\(size)×\(size), best of runs"
        ))
    }
    rows.append(try gemmRun(quick: quick))
    rows.append(try instructionRate(quick: quick))
    rows.append(try timingOnlyGemm(quick: quick))
    return rows
  }

  /// MACs per second of `MMANumerics.multiply` on random E4M3 values.
  static func mmaRate(_ accumulator: Accumulator, size n: Int, repeats: Int) -> Double {
    var rng = SplitMix64(seed: 1)
    let values = (0..<(2 * n * n)).map { _ in Float(FloatFormat.e4m3fn.decode(UInt32(rng.next() % 0x7E))) }
    let a = Array(values[0..<(n * n)])
    let b = Array(values[(n * n)...])
    var best = Double.infinity
    for _ in 0..<repeats {
      var c = [Float](repeating: 0, count: n * n)
      let seconds = measure {
        MMANumerics.multiply(a: a, b: b, c: &c, m: n, n: n, k: n, accumulator: accumulator)
      }
      best = min(best, seconds)
    }
    return Double(n * n * n) / best
  }

  /// A whole numeric GEMM run (device MMAs, FP32 shadow, DMA, report) in simulated MACs per second.
  static func gemmRun(quick: Bool) throws -> Row {
    let n = quick ? 128 : 1024
    var device = DeviceConfig.h100
    device.tiles = 16
    let (program, kernel) = try gemmProgram(m: n, n: n, k: n, device: device)
    let result = try Machine(program: program, device: device).run()
    var seconds = 0.0
    seconds = measure { _ = try? Machine(program: program, device: device).run() }
    let macs = Double(result.compute.macs["fp8"] ?? 0)
    return Row(
      name: "numeric GEMM run (device + FP32 shadow)", value: macs / seconds / 1e9, unit: "G MAC/s",
      target: nil,
      detail: "\(n)×\(n)×\(n) FP8 → f32, h100 with 16 tiles, generated (\(kernel)), \(fixed(seconds, 3)) s")
  }

  /// Scalar instructions simulated per second (timing only: no values to compute).
  static func instructionRate(quick: Bool) throws -> Row {
    let count = quick ? 100_000 : 5_000_000
    var loop = ProgramBuilder(path: "loop.isa")
    let top = loop.label("top")
    loop.emit(.move(dest: 1, source: 0))
    loop.place(top)
    loop.emit(.integer(.add, dest: 1, a: .register(1), b: 1))
    loop.emit(.branch(.less, a: .register(1), b: .constant(Int64(count / 2)), target: top))
    let program = try loop.build()
    var device = DeviceConfig.teach
    device.tiles = 1
    var options = RunOptions()
    options.timingOnly = true
    var executed = 0
    let seconds = measure {
      executed = (try? Machine(program: program, device: device, options: options).run())?.instructions ?? 0
    }
    return Row(
      name: "simulated instructions (scalar loop)", value: Double(executed) / seconds / 1e6,
      unit: "M instr/s",
      target: 1.0, detail: "\(executed) instructions, \(fixed(seconds, 3)) s")
  }

  /// Wall time of a timing-only run of a large GEMM on the h100 preset.
  static func timingOnlyGemm(quick: Bool) throws -> Row {
    let n = quick ? 1024 : 8192
    let (program, kernel) = try gemmProgram(m: n, n: n, k: n, device: .h100)
    var options = RunOptions()
    options.timingOnly = true
    var result: RunResult?
    let seconds = measure { result = try? Machine(program: program, device: .h100, options: options).run() }
    let r = result!
    let simulatedTFLOPS = 2 * Double(r.compute.macs["fp8"] ?? 0) / r.seconds / 1e12
    return Row(
      name: "timing-only GEMM \(n)×\(n)×\(n) on h100", value: seconds, unit: "s", target: nil,
      detail:
        "generated (\(kernel)), \(r.instructions) instructions (\(fixed(Double(r.instructions) / seconds / 1e6, 2)) M/s), simulated \(fixed(simulatedTFLOPS, 1)) TFLOP/s"
    )
  }

  /// The GEMM `fp8sim gen gemm` makes for the device (f32 C), and its configuration in short.
  static func gemmProgram(m: Int, n: Int, k: Int, device: DeviceConfig) throws -> (Program, String) {
    var problem = GEMMPlanner.Problem(m: m, n: n, k: k)
    problem.outType = .format(.f32)
    var g = try GEMMPlanner.plan(problem, device: device)
    g.device = nil
    g.aInit = .uniform(seed: 1, low: -2, high: 2)
    g.bInit = .uniform(seed: 2, low: -2, high: 2)
    let config =
      "\(min(g.tm, m))×\(min(g.tn, n)) blocks, K \(min(g.tk, k)), \(g.stages) stages, \(g.raster.rawValue), cluster \(g.cluster)"
    return (try g.builder().build(), config)
  }

  static func measure(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  }

  static func fixed(_ x: Double, _ digits: Int) -> String { ValueText.fixed(x, digits: digits) }
}
