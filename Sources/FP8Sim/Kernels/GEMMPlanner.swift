import FP8ISA
import Foundation

/// Chooses a `GEMMKernel` configuration for a device: block shape, K slice, DMA ring depth,
/// where the accumulator lives, raster order and multicast cluster, among the candidates that
/// fit the tile's SRAM and accumulator storage. `plan` picks the candidate with the lowest
/// `estimate` (a roofline of the device's numbers, without running anything); `tune` runs the
/// best-estimated candidates timing-only (in parallel, on all cores) and keeps the fastest, ties
/// going to the better estimate, so the choice is deterministic.
public enum GEMMPlanner {
  /// What a GEMM computes.
  public struct Problem: Sendable, Hashable {
    public var m, n, k: Int
    public var aType: DType = .fp8e4
    public var bType: DType = .fp8e4
    public var outType: DType = .format(.bf16)
    /// Settings fixed by the user (nil: the planner chooses).
    public var block: Block? = nil
    public var slice: Int? = nil
    public var stages: Int? = nil
    public var raster: GEMMKernel.Raster? = nil
    public var cluster: Int? = nil
    public var splitK: Int? = nil
    public init(m: Int, n: Int, k: Int) { (self.m, self.n, self.k) = (m, n, k) }

    /// An output block: rows × columns.
    public struct Block: Sendable, Hashable {
      public var m, n: Int
      public init(_ m: Int, _ n: Int) { (self.m, self.n) = (m, n) }
    }

    /// Whether a candidate keeps every fixed setting.
    func admits(_ g: GEMMKernel) -> Bool {
      if let b = block, (g.tm, g.tn) != (b.m, b.n) { return false }
      if let t = slice, g.tk != t { return false }
      if let s = stages, g.stages != s { return false }
      if let r = raster, g.raster != r { return false }
      if let c = cluster, g.cluster != c { return false }
      if let k = splitK, g.splitK != k { return false }
      return true
    }
  }

  /// Bytes per element of a type on a device.
  public static func bytes(_ t: DType, _ device: DeviceConfig) -> Int {
    t.resolved(e4: device.e4, e5: device.e5).byteWidth
  }

  /// Block heights, widths, K slices and ring depths tried.
  static let heights = [128, 64, 256]
  static let widths = [128, 256, 64, 192, 160, 224, 96, 112, 144, 176, 208, 240]
  static let slices = [128, 64]
  static let depths = [4, 3, 2, 6, 8]

  /// Every configuration considered, in order of preference for ties.
  public static func candidates(_ p: Problem, device: DeviceConfig) -> [GEMMKernel] {
    var out: [GEMMKernel] = []
    for tm in p.block.map({ [$0.m] }) ?? heights {
      for tn in p.block.map({ [$0.n] }) ?? widths {
        for tk in p.slice.map({ [$0] }) ?? slices {
          for stages in p.stages.map({ [$0] }) ?? depths {
            var g = GEMMKernel(m: p.m, n: p.n, k: p.k)
            (g.aType, g.bType, g.outType) = (p.aType, p.bType, p.outType)
            (g.tm, g.tn, g.tk, g.stages) = (tm, tn, tk, stages)
            g.device = device.name
            let accBytes = min(tm, p.m) * min(tn, p.n) * bytes(g.accumulatorType, device)
            g.accumulatorSpace = accBytes <= device.tensorAccumulatorBytesPerTile ? .acc : .sram
            // Tensors are laid out on 64-byte boundaries: at most 4 of them.
            guard g.sramBytes(bytesPerElement: { bytes($0, device) }) + 4 * 64 <= device.sramBytesPerTile
            else {
              continue
            }
            var orders = clusterings(g, device: device)
            if p.raster != nil || p.cluster != nil, (p.cluster ?? 1) <= device.dmaMulticastTiles {
              orders.append((p.raster ?? .rows, p.cluster ?? 1))
            }
            for (raster, cluster) in orders {
              (g.raster, g.cluster, g.splitK) = (raster, cluster, 1)
              if p.admits(g) { out.append(g) }
            }
            // Split-K, for shapes that leave tiles idle: without multicast, row order.
            (g.raster, g.cluster) = (.rows, 1)
            for split in splits(g, device: device, fixed: p.splitK) {
              g.splitK = split
              if p.admits(g),
                g.sramBytes(bytesPerElement: { bytes($0, device) }) + 6 * 64 <= device.sramBytesPerTile
              {
                out.append(g)
              }
            }
          }
        }
      }
    }
    return dedupe(out)
  }

  /// Raster orders and multicast clusters worth trying for a block shape: row order without
  /// multicast, and each cluster of 2, 4 or 8 the device allows that divides the tile count and
  /// the blocks per row (row order, sharing A) or per column (column order, sharing B).
  static func clusterings(_ g: GEMMKernel, device: DeviceConfig) -> [(GEMMKernel.Raster, Int)] {
    let blocksM = (g.m + g.tm - 1) / g.tm
    let blocksN = (g.n + g.tn - 1) / g.tn
    var out: [(GEMMKernel.Raster, Int)] = [(.rows, 1)]
    for c in [2, 4, 8] where c <= device.dmaMulticastTiles && device.tiles % c == 0 {
      if blocksN % c == 0 { out.append((.rows, c)) }
      if blocksM % c == 0 { out.append((.columns, c)) }
    }
    return out
  }

  /// Ways to split K worth trying: 2, 3, 4, 6 or 8 when the blocks leave at least half the
  /// tiles idle and every split gets at least 4 slices (or the value the user fixed).
  static func splits(_ g: GEMMKernel, device: DeviceConfig, fixed: Int?) -> [Int] {
    let blocks = ((g.m + g.tm - 1) / g.tm) * ((g.n + g.tn - 1) / g.tn)
    let slices = (g.k + min(g.tk, g.k) - 1) / min(g.tk, g.k)
    if let fixed { return fixed > 1 && fixed <= slices ? [fixed] : [] }
    guard 2 * blocks <= device.tiles else { return [] }
    return [2, 3, 4, 6, 8].filter { 4 * $0 <= slices && blocks * $0 <= 2 * device.tiles }
  }

  /// Candidates that build the same program for this shape (blocks clipped to the matrix) once.
  static func dedupe(_ kernels: [GEMMKernel]) -> [GEMMKernel] {
    var seen = Set<[Int]>()
    return kernels.filter { g in
      seen.insert([
        min(g.tm, g.m), min(g.tn, g.n), min(g.tk, g.k), g.stages, g.raster == .rows ? 0 : 1, g.cluster,
        g.splitK,
      ]).inserted
    }
  }

  /// Estimated cycles of a kernel on a device, from its numbers alone (docs/validation.md,
  /// "The planner's estimate"): the launch, then the slowest of
  ///
  /// - the busiest tile: its blocks (⌈blocks / tiles⌉); per block, its K slices, each the slowest
  ///   of its `mma` (padded MACs / rate, plus the tensor latency: the next one accumulates on its
  ///   result), its loads through the tile's DMA port, and one load's latency (setup, L2 hit,
  ///   DRAM) spread over the `stages − 1` slices in flight; then the ring's fill and the epilogue
  ///   (cast and store of the block);
  /// - the tile↔L2 link: every block's A and B bytes (the multicast operand once per cluster)
  ///   and C, over `l2.bytesPerCycle`;
  /// - DRAM: A, B and C once, over `dram.bytesPerCycle`.
  ///
  /// With split-K the blocks are blocks × splits work items of ⌈slices / splits⌉ slices each,
  /// storing f32 partials; then a barrier, and the reduction: per strip of C, its partials
  /// through the port, their sum and the cast and store.
  public static func estimate(_ g: GEMMKernel, device d: DeviceConfig) -> Double {
    let (tm, tn, tk) = (min(g.tm, g.m), min(g.tn, g.n), min(g.tk, g.k))
    let blocksM = (g.m + tm - 1) / tm
    let blocksN = (g.n + tn - 1) / tn
    let split = Double(g.splitK)
    let blocks = Double(blocksM) * Double(blocksN) * split
    let rounds = (blocks / Double(d.tiles)).rounded(.up)
    let (ab, bb) = (bytes(g.aType, d), bytes(g.bType, d))
    let cb = g.splitK > 1 ? 4 : bytes(g.outType, d)
    let slices = (Double((g.k + tk - 1) / tk) / split).rounded(.up)
    let rate = d.macsPerCycle(g.aType.mmaInputClass ?? .single)
    // Per K slice: its mma (which waits for the last one's result to be visible), its loads
    // through the port, and a load's latency spread over the slices in flight.
    let padded = d.paddedMMAShape(m: tm, n: tn, k: tk, inputBits: 8 * ab)
    let mmaSlice = Double(padded.m) * Double(padded.n) * Double(padded.k) / rate + Double(d.tensorLatency)
    let sliceBytes = Double((tm * ab + tn * bb) * tk)
    let portSlice = sliceBytes / d.dmaBytesPerCycle
    let latency = Double(d.dmaSetupCycles + d.l2TypicalHitLatency + d.dramLatency)
    let slice = max(mmaSlice, portSlice, (latency + portSlice) / Double(g.stages - 1))
    let loadBytes = Double(tm * ab + tn * bb) * Double(g.k) / split
    let fill = latency + portSlice
    let epilogue =
      Double(tm * tn) / d.vectorElementsPerCycle + Double(tm * tn * cb) / d.dmaBytesPerCycle
      + Double(d.dmaSetupCycles + d.l2TypicalHitLatency)
    let tile = rounds * (slices * slice + fill + epilogue)
    let shared = g.cluster > 1 ? (g.raster == .rows ? Double(tm * ab) : Double(tn * bb)) * Double(g.k) : 0
    let perBlock = loadBytes - shared + shared / Double(max(g.cluster, 1)) + Double(tm * tn * cb)
    let link = blocks * perBlock / d.l2BytesPerCycle
    let dram = dramBytes(g, device: d, blocksM: blocksM, blocksN: blocksN) / d.dramBytesPerCycle
    return Double(d.kernelLaunchCycles) + max(tile, link, dram) + reduction(g, device: d)
  }

  /// Split-K's reduction after the first phase: the barrier, then per strip of C (`stripRows`
  /// rows of a block's width), on the busiest tile, its partials through the port (one load's
  /// latency each, as they are waited for one by one), their sum, the cast and the store.
  static func reduction(_ g: GEMMKernel, device d: DeviceConfig) -> Double {
    guard g.splitK > 1 else { return 0 }
    let (rr, tn) = (Double(g.stripRows), Double(min(g.tn, g.n)))
    let strips = ((Double(g.m) / rr).rounded(.up) * (Double(g.n) / tn).rounded(.up) / Double(d.tiles))
      .rounded(.up)
    let split = Double(g.splitK)
    let latency = Double(d.dmaSetupCycles + d.l2TypicalHitLatency)
    let perStrip =
      split * (rr * tn * 4 / d.dmaBytesPerCycle + latency) + split * rr * tn / d.vectorElementsPerCycle
      + rr * tn * Double(bytes(g.outType, d)) / d.dmaBytesPerCycle
    return Double(d.barrierCycles) + strips * perStrip
  }

  /// DRAM bytes the estimate counts: C once, and the operands once, except the one streamed
  /// across the raster (B when blocks go along rows, A along columns) when it does not fit in
  /// half the L2: then every block reads its part of it from DRAM (L2 keeps none of it for the
  /// next block), in whole L2 lines per row of a slice.
  static func dramBytes(_ g: GEMMKernel, device d: DeviceConfig, blocksM: Int, blocksN: Int) -> Double {
    let (tm, tn, tk) = (min(g.tm, g.m), min(g.tn, g.n), min(g.tk, g.k))
    let (ab, bb, cb) = (Double(bytes(g.aType, d)), Double(bytes(g.bType, d)), Double(bytes(g.outType, d)))
    let (m, n, k) = (Double(g.m), Double(g.n), Double(g.k))
    let (a, b, c) = (m * k * ab, k * n * bb, m * n * cb)
    let blocks = Double(blocksM) * Double(blocksN)
    let line = Double(max(d.l2LineBytes, 1))
    let fits = Double(d.l2Bytes) / 2
    func lines(_ rowBytes: Double) -> Double { rowBytes < line ? line / rowBytes : 1 }
    if g.raster == .rows {
      guard b > fits else { return a + b + c }
      return a + max(b, blocks * k * Double(tn) * bb * lines(Double(tn) * bb)) + c
    } else {
      guard a > fits else { return a + b + c }
      return max(a, blocks * Double(tm) * k * ab * lines(Double(tk) * ab)) + b + c
    }
  }

  /// The candidates, best estimate first (ties keep the candidates' order).
  public static func ranked(_ p: Problem, device: DeviceConfig) -> [GEMMKernel] {
    let all = candidates(p, device: device)
    let costs = all.map { estimate($0, device: device) }
    return all.indices.sorted { (costs[$0], $0) < (costs[$1], $1) }.map { all[$0] }
  }

  /// The configuration with the lowest estimate, without running anything.
  public static func plan(_ p: Problem, device: DeviceConfig) throws(GEMMKernel.ConfigError) -> GEMMKernel {
    guard let best = ranked(p, device: device).first else { throw noCandidate(p, device) }
    return best
  }

  static func noCandidate(_ p: Problem, _ device: DeviceConfig) -> GEMMKernel.ConfigError {
    let fixed =
      p.block != nil || p.slice != nil || p.stages != nil || p.raster != nil || p.cluster != nil
      || p.splitK != nil
    return GEMMKernel.ConfigError(
      description: fixed
        ? "no GEMM configuration with the settings given fits device '\(device.name)' (SRAM \(device.sramBytesPerTile) B per tile, multicast groups of at most \(device.dmaMulticastTiles); split-K needs a K slice per split)"
        : "no GEMM block fits the SRAM of device '\(device.name)' (\(device.sramBytesPerTile) B per tile)")
  }

  /// The result of tuning: the chosen kernel, its simulated cycles, and how many were tried.
  public struct Tuned: Sendable {
    public var kernel: GEMMKernel
    public var cycles: Int64
    public var tried: Int
    /// Every candidate run, best estimate first, with its simulated cycles (nil: it faulted).
    public var runs: [(kernel: GEMMKernel, cycles: Int64?)] = []
  }

  /// How many of the best-estimated candidates `tune` runs.
  public static let tunedCandidates = 24

  /// Runs the `limit` best-estimated candidates timing-only on `device` and keeps the fastest.
  public static func tune(
    _ p: Problem, device: DeviceConfig, options: RunOptions = RunOptions(), limit: Int = tunedCandidates
  ) throws -> Tuned {
    let all = Array(ranked(p, device: device).prefix(max(1, limit)))
    guard !all.isEmpty else { throw noCandidate(p, device) }
    var timingOptions = options
    timingOptions.timingOnly = true
    timingOptions.traceEventLimit = 0
    let timing = timingOptions
    let results = ParallelSlots<Result<Int64, any Error>>(count: all.count)
    DispatchQueue.concurrentPerform(iterations: all.count) { i in
      var bounded = timing
      bounded.maxInstructions = min(timing.maxInstructions, all[i].instructionBound(tiles: device.tiles))
      results.set(
        i,
        Result {
          try Machine(program: all[i].builder().build(), device: device, options: bounded).run().cycles
        })
    }
    let simulated: [Int64?] = results.values.map { r in r.flatMap { try? $0.get() } }
    var best: (Int, Int64)?
    for (i, c) in simulated.enumerated() {
      guard let c else { continue }
      if best == nil || c < best!.1 { best = (i, c) }
    }
    guard let (index, cycles) = best else {
      // The failure of the best-ranked candidate.
      var failure: (any Error)?
      for case .failure(let e)? in results.values where failure == nil { failure = e }
      let reason = failure.map { ": the first: \($0)" } ?? ""
      throw GEMMKernel.ConfigError(
        description: "every candidate GEMM failed to run on device '\(device.name)'\(reason)")
    }
    return Tuned(
      kernel: all[index], cycles: cycles, tried: all.count,
      runs: Array(zip(all, simulated)).map { (kernel: $0.0, cycles: $0.1) })
  }
}

/// Results written by parallel jobs (`DispatchQueue.concurrentPerform`), one slot each, read
/// back in job order so that parallel work reports deterministically.
public final class ParallelSlots<T>: @unchecked Sendable {
  private let lock = NSLock()
  private var slots: [T?]
  public init(count: Int) { slots = Array(repeating: nil, count: count) }
  public func set(_ i: Int, _ value: T) {
    lock.lock()
    slots[i] = value
    lock.unlock()
  }
  public var values: [T?] {
    lock.lock()
    defer { lock.unlock() }
    return slots
  }
}
