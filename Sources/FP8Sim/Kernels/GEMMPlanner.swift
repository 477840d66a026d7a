import FP8ISA
import Foundation

/// Chooses a `GEMMKernel` configuration for a device: block shape, K slice, DMA ring depth and
/// where the accumulator lives, among the candidates that fit the tile's SRAM and accumulator
/// storage. `plan` picks by a rule; `tune` runs every candidate timing-only (in parallel, on all
/// cores) and keeps the fastest, ties going to the earlier candidate, so the choice is
/// deterministic.
public enum GEMMPlanner {
  /// What a GEMM computes.
  public struct Problem: Sendable, Hashable {
    public var m, n, k: Int
    public var aType: DType = .fp8e4
    public var bType: DType = .fp8e4
    public var outType: DType = .format(.bf16)
    public init(m: Int, n: Int, k: Int) { (self.m, self.n, self.k) = (m, n, k) }
  }

  /// Bytes per element of a type on a device.
  public static func bytes(_ t: DType, _ device: DeviceConfig) -> Int {
    t.resolved(e4: device.e4, e5: device.e5).byteWidth
  }

  /// Every configuration tried, in order of preference for ties.
  public static func candidates(_ p: Problem, device: DeviceConfig) -> [GEMMKernel] {
    var out: [GEMMKernel] = []
    for tm in [128, 64, 256] {
      for tn in [128, 256, 64] {
        for tk in [128, 64] {
          for stages in [4, 3, 2, 6] {
            var g = GEMMKernel(m: p.m, n: p.n, k: p.k)
            (g.aType, g.bType, g.outType) = (p.aType, p.bType, p.outType)
            (g.tm, g.tn, g.tk, g.stages) = (tm, tn, tk, stages)
            g.device = device.name
            let accBytes = min(tm, p.m) * min(tn, p.n) * bytes(g.accumulatorType, device)
            g.accumulatorSpace = accBytes <= device.tensorAccumulatorBytesPerTile ? .acc : .sram
            // Tensors are laid out on 64-byte boundaries: at most 4 of them.
            if g.sramBytes(bytesPerElement: { bytes($0, device) }) + 4 * 64 <= device.sramBytesPerTile {
              out.append(g)
            }
          }
        }
      }
    }
    return dedupe(out)
  }

  /// Candidates that build the same program for this shape (blocks clipped to the matrix) once.
  static func dedupe(_ kernels: [GEMMKernel]) -> [GEMMKernel] {
    var seen = Set<[Int]>()
    return kernels.filter { g in
      seen.insert([min(g.tm, g.m), min(g.tn, g.n), min(g.tk, g.k), g.stages]).inserted
    }
  }

  /// A configuration by rule, without running anything: the largest block that still gives
  /// every tile work (else the smallest), then the deepest ring that fits.
  public static func plan(_ p: Problem, device: DeviceConfig) throws(GEMMKernel.ConfigError) -> GEMMKernel {
    let all = candidates(p, device: device)
    guard !all.isEmpty else {
      throw GEMMKernel.ConfigError(description: "no GEMM block fits device '\(device.name)''s SRAM")
    }
    func blocks(_ g: GEMMKernel) -> Int { ((p.m + g.tm - 1) / g.tm) * ((p.n + g.tn - 1) / g.tn) }
    let busy = all.filter { blocks($0) >= device.tiles }
    let pool = busy.isEmpty ? all : busy
    let best = pool.max { x, y in
      let (ax, ay) = (min(x.tm, p.m) * min(x.tn, p.n), min(y.tm, p.m) * min(y.tn, p.n))
      if ax != ay { return busy.isEmpty ? ax > ay : ax < ay }
      return x.stages < y.stages
    }
    return best ?? all[0]
  }

  /// The result of tuning: the chosen kernel, its simulated cycles, and how many were tried.
  public struct Tuned: Sendable {
    public var kernel: GEMMKernel
    public var cycles: Int64
    public var tried: Int
  }

  /// Runs every candidate timing-only on `device` and keeps the fastest.
  public static func tune(_ p: Problem, device: DeviceConfig, options: RunOptions = RunOptions()) throws
    -> Tuned
  {
    let all = candidates(p, device: device)
    guard !all.isEmpty else {
      throw GEMMKernel.ConfigError(description: "no GEMM block fits device '\(device.name)''s SRAM")
    }
    var timingOptions = options
    timingOptions.timingOnly = true
    timingOptions.traceEventLimit = 0
    let timing = timingOptions
    let results = Results(count: all.count)
    DispatchQueue.concurrentPerform(iterations: all.count) { i in
      let cycles = try? Machine(program: all[i].builder().build(), device: device, options: timing).run()
        .cycles
      results.set(i, cycles)
    }
    var best: (Int, Int64)?
    for (i, c) in results.values.enumerated() {
      guard let c else { continue }
      if best == nil || c < best!.1 { best = (i, c) }
    }
    guard let (index, cycles) = best else {
      throw GEMMKernel.ConfigError(description: "every candidate GEMM failed to run on '\(device.name)'")
    }
    return Tuned(kernel: all[index], cycles: cycles, tried: all.count)
  }

  /// Results written by parallel runs, one slot each.
  final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Int64?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: Int64?) {
      lock.lock()
      slots[i] = v
      lock.unlock()
    }
    var values: [Int64?] {
      lock.lock()
      defer { lock.unlock() }
      return slots
    }
  }
}
