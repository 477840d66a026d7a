import FP8Formats

/// One documented field of a device description: its JSON path, meaning, unit and valid range.
public struct DeviceField: Sendable {
  public enum Kind: Sendable {
    case int(WritableKeyPath<DeviceConfig, Int> & Sendable, ClosedRange<Int>)
    case double(WritableKeyPath<DeviceConfig, Double> & Sendable, ClosedRange<Double>)
    case string(WritableKeyPath<DeviceConfig, String> & Sendable, allowed: [String]?)
  }
  /// Dotted JSON path, e.g. `l2.bytes`.
  public var path: String
  public var kind: Kind
  public var unit: String
  public var help: String

  init(_ path: String, _ kind: Kind, unit: String = "", _ help: String) {
    self.path = path
    self.kind = kind
    self.unit = unit
    self.help = help
  }
}

extension DeviceConfig {
  /// Every field, in the order `--dump` prints them. Defaults are the values of `DeviceConfig()`.
  public static let fields: [DeviceField] = [
    DeviceField("name", .string(\.name, allowed: nil), "Device name shown in reports."),
    DeviceField(
      "summary", .string(\.summary, allowed: nil), "One line describing the device and its sources."),
    DeviceField(
      "clockGHz", .double(\.clockGHz, 0.001...100), unit: "GHz",
      "Clock of every unit; cycles convert to time with it."),
    DeviceField(
      "tiles", .int(\.tiles, 1...8192),
      "Number of tiles (SMs on H100, tiles on an IPU); every tile runs the program."),
    DeviceField(
      "formats.e4", .string(\.formatE4, allowed: ["e4m3fn", "e4m3fnuz"]),
      "The format `fp8e4` stands for."),
    DeviceField(
      "formats.e5", .string(\.formatE5, allowed: ["e5m2", "e5m2fnuz"]), "The format `fp8e5` stands for."),
    DeviceField(
      "sram.bytesPerTile", .int(\.sramBytesPerTile, 1...(1 << 30)), unit: "B",
      "SRAM per tile; the sram tensors of a program must fit."),
    DeviceField(
      "l2.bytes", .int(\.l2Bytes, 0...(1 << 36)), unit: "B",
      "Shared L2 capacity; 0 means no L2 (every access goes to DRAM)."),
    DeviceField(
      "l2.lineBytes", .int(\.l2LineBytes, 16...4096), unit: "B",
      "Line size: the unit of hits, misses, fills and write-backs."),
    DeviceField("l2.ways", .int(\.l2Ways, 1...64), "Associativity (LRU replacement within a set)."),
    DeviceField(
      "l2.hitLatency", .int(\.l2HitLatency, 0...100_000), unit: "cycles",
      "Latency of a transfer served by L2 (by the tile's near partition)."),
    DeviceField(
      "l2.partitions", .int(\.l2Partitions, 1...64),
      "L2 partitions: tiles are split evenly between them in order, lines alternate; 1: uniform."),
    DeviceField(
      "l2.farHitLatency", .int(\.l2FarHitLatency, 0...100_000), unit: "cycles",
      "Latency of a transfer that touches a line of another partition than its tile's."),
    DeviceField(
      "l2.bytesPerCycle", .double(\.l2BytesPerCycle, 0.001...1e9), unit: "B/cycle",
      "Bandwidth of the tile↔L2 link, shared by all tiles."),
    DeviceField(
      "dram.latency", .int(\.dramLatency, 0...1_000_000), unit: "cycles",
      "Extra latency when a transfer misses L2."),
    DeviceField(
      "dram.bytesPerCycle", .double(\.dramBytesPerCycle, 0.001...1e9), unit: "B/cycle",
      "Bandwidth of the L2↔DRAM link, shared by all tiles (fills and write-backs)."),
    DeviceField(
      "dma.bytesPerCycle", .double(\.dmaBytesPerCycle, 0.001...1e9), unit: "B/cycle",
      "Bandwidth of one tile's DMA port."),
    DeviceField(
      "dma.setupCycles", .int(\.dmaSetupCycles, 0...1_000_000), unit: "cycles",
      "Fixed cost to start a transfer (descriptor issue)."),
    DeviceField(
      "dma.maxInFlight", .int(\.dmaMaxInFlight, 1...1024),
      "Transfers a tile may have in flight; issuing more stalls the scalar core."),
    DeviceField(
      "dma.multicastTiles", .int(\.dmaMulticastTiles, 1...64),
      "Largest multicast group (`dma.load … mcast=G`, a cluster sharing one read of L2); 1: no multicast."),
    DeviceField(
      "tensor.macsPerCycle.fp8", .double(\.tensorMacsPerCycleFP8, 0.001...1e9), unit: "MAC/cycle",
      "Tensor-unit rate per tile for FP8 inputs."),
    DeviceField(
      "tensor.macsPerCycle.half", .double(\.tensorMacsPerCycleHalf, 0.001...1e9), unit: "MAC/cycle",
      "Rate for f16/bf16 inputs."),
    DeviceField(
      "tensor.macsPerCycle.single", .double(\.tensorMacsPerCycleSingle, 0.001...1e9), unit: "MAC/cycle",
      "Rate for f32 inputs."),
    DeviceField(
      "tensor.macsPerCycle.fp6", .double(\.tensorMacsPerCycleFP6, 0...1e9), unit: "MAC/cycle",
      "Rate for FP6 inputs (MXFP6 or unscaled) and unscaled FP4 ones (Blackwell's kind::f8f6f4); 0: no such path (such an mma faults)."
    ),
    DeviceField(
      "tensor.macsPerCycle.fp4", .double(\.tensorMacsPerCycleFP4, 0...1e9), unit: "MAC/cycle",
      "Rate for block-scaled FP4 inputs (MXFP4, NVFP4); 0: no FP4 path (such an mma faults)."),
    DeviceField(
      "tensor.latency", .int(\.tensorLatency, 0...1_000_000), unit: "cycles",
      "Pipeline latency before an mma's result is visible to other units."),
    DeviceField(
      "tensor.tileM", .int(\.tensorTileM, 1...4096),
      "M is padded to a multiple of this (native instruction shape)."),
    DeviceField("tensor.tileN", .int(\.tensorTileN, 1...4096), "N is padded to a multiple of this."),
    DeviceField(
      "tensor.tileKBytes", .int(\.tensorTileKBytes, 1...4096), unit: "B",
      "K·(input bytes) is padded to a multiple of this (32 B = k32 for FP8, k16 for f16)."),
    DeviceField(
      "tensor.accumulatorBytesPerTile", .int(\.tensorAccumulatorBytesPerTile, 0...(1 << 30)), unit: "B",
      "Accumulator storage per tile (a register file) for `acc` tensors; 0: none, accumulate in SRAM."),
    DeviceField(
      "vector.elementsPerCycle", .double(\.vectorElementsPerCycle, 0.001...1e9), unit: "elem/cycle",
      "Vector-unit throughput per tile for simple elementwise work."),
    DeviceField(
      "vector.latency", .int(\.vectorLatency, 0...1_000_000), unit: "cycles",
      "Pipeline latency of a vector instruction."),
    DeviceField(
      "vector.transcendentalCost", .double(\.vectorTranscendentalCost, 0.001...1e6), unit: "×",
      "Cost of exp/gelu per element relative to an add."),
    DeviceField(
      "units.queueDepth", .int(\.unitQueueDepth, 1...1024),
      "Instructions a vector or tensor unit can have queued or running; more stalls the scalar core."),
    DeviceField(
      "kernel.launchCycles", .int(\.kernelLaunchCycles, 0...100_000_000), unit: "cycles",
      "Cycles from the start of a run until every tile begins to issue: the kernel's launch; counted in the run's time."
    ),
    DeviceField(
      "sync.barrierCycles", .int(\.barrierCycles, 0...10_000_000), unit: "cycles",
      "Cost of a barrier after the last tile arrives."),
    DeviceField(
      "sync.hopCycles", .int(\.exchangeHopCycles, 0...1_000_000), unit: "cycles",
      "Latency of one tile-to-tile message in an all-reduce tree."),
    DeviceField(
      "sync.exchangeBytesPerCycle", .double(\.exchangeBytesPerCycle, 0.001...1e9), unit: "B/cycle",
      "Tile-to-tile link bandwidth."),
    DeviceField("energy.macFP8", .double(\.energyMacFP8, 0...1e6), unit: "pJ", "Energy of one FP8 MAC."),
    DeviceField(
      "energy.macHalf", .double(\.energyMacHalf, 0...1e6), unit: "pJ", "Energy of one f16/bf16 MAC."),
    DeviceField(
      "energy.macSingle", .double(\.energyMacSingle, 0...1e6), unit: "pJ", "Energy of one f32 MAC."),
    DeviceField(
      "energy.vectorOp", .double(\.energyVectorOp, 0...1e6), unit: "pJ",
      "Energy of one vector element operation."),
    DeviceField(
      "energy.sramByte", .double(\.energySramByte, 0...1e6), unit: "pJ/B",
      "Energy per byte read or written in SRAM."),
    DeviceField(
      "energy.l2Byte", .double(\.energyL2Byte, 0...1e6), unit: "pJ/B",
      "Energy per byte moved between L2 and a tile."),
    DeviceField(
      "energy.dramByte", .double(\.energyDramByte, 0...1e6), unit: "pJ/B",
      "Energy per byte moved between DRAM and L2."),
    DeviceField(
      "energy.exchangeByte", .double(\.energyExchangeByte, 0...1e6), unit: "pJ/B",
      "Energy per byte moved between tiles."),
  ]

  /// The field reference of `docs/devices.md` (a test keeps the two equal), printed by
  /// `fp8sim devices --fields`.
  public static func fieldReferenceMarkdown() -> String {
    var out = "| field | unit | meaning |\n|---|---|---|\n"
    for f in fields { out += "| `\(f.path)` | \(f.unit) | \(f.help) |\n" }
    return out
  }

  /// Every problem of this value: a field out of its range (a device built in Swift skips the
  /// device file's checks), then `validate()`'s relations.
  public func problems() -> [String] {
    var problems: [String] = []
    for f in Self.fields {
      switch f.kind {
      case .int(let path, let range) where !range.contains(self[keyPath: path]):
        problems.append(
          "\(f.path) = \(self[keyPath: path]) is outside \(range.lowerBound)...\(range.upperBound)")
      case .double(let path, let range) where !range.contains(self[keyPath: path]):
        problems.append(
          "\(f.path) = \(ValueText.exact(self[keyPath: path])) is outside \(ValueText.exact(range.lowerBound))...\(ValueText.exact(range.upperBound))"
        )
      case .string(let path, let allowed?) where !allowed.contains(self[keyPath: path]):
        problems.append(
          "\(f.path) = '\(self[keyPath: path])' is not one of \(allowed.joined(separator: ", "))")
      default: break
      }
    }
    return problems + validate()
  }

  /// Checks relations between fields that single ranges cannot express.
  public func validate() -> [String] {
    var problems: [String] = []
    if l2Bytes > 0 {
      if l2Bytes % (l2LineBytes * l2Ways) != 0 {
        problems.append(
          "l2.bytes (\(l2Bytes)) must be a multiple of l2.lineBytes × l2.ways (\(l2LineBytes * l2Ways))")
      }
      if l2Bytes / l2LineBytes > 1 << 24 {
        problems.append("l2.bytes / l2.lineBytes must be at most 2^24 lines (the tag array is simulated)")
      }
    }
    if l2LineBytes & (l2LineBytes - 1) != 0 {
      problems.append("l2.lineBytes (\(l2LineBytes)) must be a power of two")
    }
    return problems
  }
}
