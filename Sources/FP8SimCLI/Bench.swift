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
    public var target: Target?
    public var detail: String
  }

  /// A figure to reach: at least (a rate) or at most (a time).
  public enum Target: Sendable {
    case atLeast(Double)
    case atMost(Double)

    public func met(_ value: Double) -> Bool {
      switch self {
      case .atLeast(let t): return value >= t
      case .atMost(let t): return value <= t
      }
    }

    public var text: String {
      switch self {
      case .atLeast(let t): return "≥ " + ValueText.exact(t)
      case .atMost(let t): return "≤ " + ValueText.exact(t)
      }
    }
  }

  /// Issue 12's targets for the accumulators emulated bit by bit: 3× the figures of 2026-11-24
  /// (f16 2.49, fp22 1.85 G MAC/s, the lower ends of docs/performance.md's ranges).
  static let accumulatorTargets: [Accumulator: Double] = [.f32: 1.0, .f16: 7.5, .fp22: 5.6]

  /// Runs every benchmark; `quick` uses small sizes (seconds in total, for tests; no targets
  /// apply then).
  public static func run(quick: Bool) throws -> [Row] {
    var rows: [Row] = []
    let size = quick ? 64 : 512
    for accumulator in Accumulator.allCases {
      let rate = mmaRate(accumulator, size: size, repeats: quick ? 1 : 3)
      rows.append(
        Row(
          name: "mma emulation, \(accumulator.rawValue) accumulation", value: rate / 1e9, unit: "G MAC/s",
          target: accumulatorTargets[accumulator].map { .atLeast($0) },
          detail: "FP8 inputs, \(size)×\(size)×\(size), best of runs, "
            + (accumulator == .f32rz
              ? "the scalar definition on one core (no vector kernel)" : "\(KernelSet.best.rawValue) kernels")
        ))
    }
    rows.append(try gemmRun(quick: quick))
    rows.append(try instructionRate(quick: quick))
    rows.append(try perInstruction(.dma, quick: quick))
    rows.append(try perInstruction(.tensor, quick: quick))
    rows.append(try streamingLoad(quick: quick))
    rows.append(try timingOnlyGemm(n: quick ? 1024 : 8192, target: .atMost(0.7)))
    if !quick { rows.append(try timingOnlyGemm(n: 16384, target: .atMost(6))) }
    if quick { for i in rows.indices { rows[i].target = nil } }
    return rows
  }

  /// MACs per second of `MMANumerics.multiply` on random E4M3 values, known to be E4M3 (as the
  /// machine's tensors are).
  static func mmaRate(_ accumulator: Accumulator, size n: Int, repeats: Int) -> Double {
    var rng = SplitMix64(seed: 1)
    let values = (0..<(2 * n * n)).map { _ in Float(FloatFormat.e4m3fn.decode(UInt32(rng.next() % 0x7E))) }
    let a = Array(values[0..<(n * n)])
    let b = Array(values[(n * n)...])
    var best = Double.infinity
    for _ in 0..<repeats {
      var c = [Float](repeating: 0, count: n * n)
      let seconds = measure {
        MMANumerics.multiply(
          a: a, b: b, c: &c, m: n, n: n, k: n, accumulator: accumulator, formats: (.e4m3fn, .e4m3fn))
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
      target: .atLeast(20), detail: "\(executed) instructions, \(fixed(seconds, 3)) s")
  }

  /// Host time per DMA or `mma` instruction, timing only: every tile of `h100` loops over a
  /// one-line load (128 B, so the fixed cost of a transfer, not its lines) or a 16×16×16 FP8
  /// `mma` (the loop's two scalar instructions are counted against it too).
  static func perInstruction(_ unit: UnitKind, quick: Bool) throws -> Row {
    let iterations = quick ? 200 : 4000
    var b = ProgramBuilder(path: "per-instruction.isa")
    let top = b.label("top")
    let what: String
    let device = DeviceConfig.h100
    if unit == .dma {
      let x = b.tensor("x", .fp8e4, [device.tiles * iterations, 128], .dram)
      let y = b.tensor("y", .fp8e4, [1, 128], .sram)
      b.emit(.move(dest: 1, source: 0))
      b.emit(.integer(.mul, dest: 2, a: .special(.tid), b: .constant(Int64(iterations))))
      b.place(top)
      b.emit(.dma(Transfer(.load, destination: y.all, source: x[.range(.register(2), 1), .all])))
      b.emit(.integer(.add, dest: 2, a: .register(2), b: 1))
      what = "dma.load of one 128-B line (a new line each time)"
    } else {
      let a = b.tensor("a", .fp8e4, [16, 16], .sram)
      let w = b.tensor("w", .fp8e4, [16, 16], .sram)
      let d = b.tensor("d", .format(.f32), [16, 16], .sram)
      b.emit(.move(dest: 1, source: 0))
      b.place(top)
      b.emit(.mma(MatrixMultiply(d: d.all, a: a.all, b: w.all)))
      what = "mma 16×16×16, FP8 into f32"
    }
    b.emit(.integer(.add, dest: 1, a: .register(1), b: 1))
    b.emit(.branch(.less, a: .register(1), b: .constant(Int64(iterations)), target: top))
    b.emit(.dmaWait(keep: 0))
    let program = try b.build()
    let (result, seconds) = try timed(program, on: device)
    let count = result.units[unit]?.instructions ?? 0
    return Row(
      name: "host time per \(unit == .dma ? "DMA" : "mma") instruction (timing only)",
      value: seconds / Double(max(count, 1)) * 1e6, unit: "µs", target: .atMost(1),
      detail: "\(what), \(count) on h100's \(device.tiles) tiles, \(fixed(seconds, 3)) s")
  }

  /// One 1 GiB `dma.load` (and, to show the cost is per transfer, 4 more), timing only, on
  /// `h100` with one tile and SRAM enough to hold it: the L2 model's long-run path.
  static func streamingLoad(quick: Bool) throws -> Row {
    let rows = quick ? 1024 : 32768
    var b = ProgramBuilder(path: "stream.isa")
    let x = b.tensor("x", .fp8e4, [rows, 32768], .dram)
    let y = b.tensor("y", .fp8e4, [rows, 32768], .sram)
    for _ in 0..<5 {
      b.emit(.dma(Transfer(.load, destination: y.all, source: x.all)))
      b.emit(.dmaWait(keep: 0))
    }
    let program = try b.build()
    var device = DeviceConfig.h100
    device.tiles = 1
    device.sramBytesPerTile = 1 << 30
    let (result, seconds) = try timed(program, on: device)
    let moved = Double(result.traffic.l2ToSram) / 1e9
    return Row(
      name:
        "streaming load of \(fixed(Double(rows * 32768) / Double(1 << 30), 3)) GiB, per transfer (timing only)",
      value: seconds / 5 * 1e3,
      unit: "ms", target: .atMost(10),
      detail:
        "5 loads of \(rows)×32768 FP8 (\(fixed(moved, 1)) GB in all) through h100's L2, \(fixed(seconds, 3)) s"
    )
  }

  /// Wall time of a timing-only run of a large GEMM on the h100 preset.
  static func timingOnlyGemm(n: Int, target: Target?) throws -> Row {
    let (program, kernel) = try gemmProgram(m: n, n: n, k: n, device: .h100)
    // A known, finite program: no limits (16384³ runs 42 M instructions).
    let (r, seconds) = try timed(program, on: .h100, limits: false)
    let simulatedTFLOPS = 2 * Double(r.compute.macs["fp8"] ?? 0) / r.seconds / 1e12
    return Row(
      name: "timing-only GEMM \(n)×\(n)×\(n) on h100", value: seconds, unit: "s", target: target,
      detail:
        "generated (\(kernel)), \(r.instructions) instructions (\(fixed(Double(r.instructions) / seconds / 1e6, 2)) M/s), simulated \(fixed(simulatedTFLOPS, 1)) TFLOP/s"
    )
  }

  /// A timing-only run of `program` on `device` and its wall time (`limits: false` lifts the
  /// instruction and work limits, for known, finite programs).
  static func timed(_ program: Program, on device: DeviceConfig, limits: Bool = true) throws -> (
    result: RunResult, seconds: Double
  ) {
    var options = RunOptions()
    options.timingOnly = true
    if !limits {
      options.maxInstructions = .max
      options.maxWork = .max
    }
    var result: RunResult?
    let seconds = try measure {
      result = try Machine(program: program, device: device, options: options).run()
    }
    guard let result else {
      throw CommandFailure("fp8sim bench: a run did not complete", status: .runtimeFault)
    }
    return (result, seconds)
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
