import FP8Formats
import FP8ISA

/// An output tensor after the run: the device's values, the FP32 shadow's, and their distance.
public struct OutputResult: Sendable {
  public var name: String
  public var dtype: String
  public var format: FloatFormat
  public var shape: [Int]
  /// Values as the device holds them, and from the FP32 shadow run (empty when timing only).
  public var values: [Float]
  public var reference: [Float]
  public var metrics: ErrorMetrics
}

/// Energy estimate in picojoules, per component.
public struct EnergyBreakdown: Sendable, Equatable, Codable {
  public var tensor = 0.0
  public var vector = 0.0
  public var sram = 0.0
  public var l2 = 0.0
  public var dram = 0.0
  public var exchange = 0.0
  public var total: Double { tensor + vector + sram + l2 + dram + exchange }
}

/// Everything a run measured; reports are computed from it.
public struct RunResult: Sendable {
  public var device: DeviceConfig
  public var timingOnly: Bool
  /// Cycles from the start until the last unit of the last tile finished.
  public var cycles: Int64
  public var instructions: Int
  /// Per unit, summed over tiles.
  public var units: [UnitKind: UnitStats]
  /// The busiest tile's tensor-unit busy cycles (load balance).
  public var maxTileTensorBusy: Int64
  public var traffic: TrafficStats
  public var compute: ComputeStats
  public var energy: EnergyBreakdown
  public var outputs: [OutputResult]
  /// Cast events of every tensor that received casts, by tensor name, in declaration order.
  public var casts: [(name: String, counts: CastCounts)]
  /// Unit activity, when the run recorded a trace.
  public var trace: Trace
  public var warnings: [String]
  /// Tile 0's registers when the run ended: integer, float (device) and float (shadow). A chain
  /// of kernels reads the scaling biases a kernel chose here. Timing-only runs compute no float
  /// values: what they hold then means nothing.
  public var registers = TileRegisters()

  public var seconds: Double { Double(cycles) / (device.clockGHz * 1e9) }
}

/// A tile's registers at the end of a run.
public struct TileRegisters: Sendable, Equatable {
  public var ints: [Int64] = []
  public var floats: [Double] = []
  public var shadowFloats: [Double] = []
}

/// Unit activity recorded for a Chrome trace. Events are compact (32 bytes: the memory a trace
/// of `RunOptions.traceEventLimit` events holds); names are stored once.
public struct Trace: Sendable {
  public struct Event: Sendable {
    public var start: Int64
    public var end: Int64
    public var tile: Int32
    /// Index into `names`.
    public var name: Int32
    public var line: Int32
    public var unit: UnitKind
  }
  public var events: [Event] = []
  public var names: [String] = []
  /// Events not recorded because the limit was reached.
  public var dropped = 0
  public init() {}
}

extension Machine {
  /// Outputs whose FP32 reference is not finite have no meaningful SNR: say so.
  func outputWarnings(_ outputs: [OutputResult]) -> [String] {
    outputs.compactMap { o in
      let bad = o.reference.filter { !$0.isFinite }.count
      return bad > 0
        ? "output '\(o.name)': \(bad) values of the FP32 reference are NaN or infinite; its error figures are undefined (nan)"
        : nil
    }
  }

  func makeResult() throws(RuntimeFault) -> RunResult {
    // The MACs of every mma, counted by key during the run, under their names.
    var compute = self.compute
    do throws(RuntimeFaultMessage) {
      for (key, counts) in mmaCounts {
        let format =
          "\(layouts[key.a].format.name)×\(layouts[key.b].format.name)→\(key.accumulator.rawValue)"
        try add(&compute.macs[key.inputs.rawValue, default: 0], counts.macs)
        try add(&compute.paddedMacs[key.inputs.rawValue, default: 0], counts.padded)
        try add(&compute.macsByFormat[format, default: 0], counts.macs)
      }
    } catch {
      throw RuntimeFault(error.text)
    }
    var units: [UnitKind: UnitStats] = [:]
    for u in UnitKind.reported {
      var sum = UnitStats()
      for t in tiles {
        guard let s = sum.adding(t.stats[u]) else {
          throw RuntimeFault("the \(u.rawValue) statistics summed over tiles passed 2^63 cycles")
        }
        sum = s
      }
      units[u] = sum
    }
    let cycles = tiles.map(\.endTime).max() ?? 0
    var energy = EnergyBreakdown()
    for c in MMAInputClass.allCases {
      energy.tensor += Double(compute.paddedMacs[c.rawValue] ?? 0) * device.energyPerMac(c)
    }
    energy.vector = Double(compute.vectorElementOps) * device.energyVectorOp
    energy.sram = Double(compute.sramBytes) * device.energySramByte
    energy.l2 = Double(traffic.l2ToSram + traffic.sramToL2) * device.energyL2Byte
    energy.dram = Double(traffic.dramToL2 + traffic.l2ToDram) * device.energyDramByte
    energy.exchange = Double(traffic.exchange) * device.energyExchangeByte

    var outputs: [OutputResult] = []
    for index in program.outputs {
      let layout = layouts[index]
      var values: [Float] = []
      var reference: [Float] = []
      var metrics = ErrorMetrics()
      if let s = dram[index] {
        values = s.main
        reference = s.shadow
        metrics = ErrorMetrics(values: values, reference: reference, casts: castCounts[index] ?? CastCounts())
      }
      outputs.append(
        OutputResult(
          name: layout.decl.name, dtype: layout.decl.dtype.name, format: layout.format,
          shape: layout.decl.shape,
          values: values, reference: reference, metrics: metrics))
    }
    let casts = program.tensors.indices.compactMap { i -> (name: String, counts: CastCounts)? in
      castCounts[i].map { (program.tensors[i].name, $0) }
    }
    var result = RunResult(
      device: device, timingOnly: options.timingOnly, cycles: cycles, instructions: executed, units: units,
      maxTileTensorBusy: tiles.map { $0.stats[.tensor].busy }.max() ?? 0, traffic: traffic,
      compute: compute, energy: energy, outputs: outputs, casts: casts,
      trace: trace, warnings: warnings + outputWarnings(outputs))
    if let first = tiles.first {
      result.registers = TileRegisters(
        ints: first.intRegisters, floats: first.floatRegisters, shadowFloats: first.shadowFloatRegisters)
    }
    return result
  }
}
