import FP8Data
import FP8Formats
import FP8ISA
import Foundation

/// The report of one run, as `--format json` writes it (schema in docs/report.md). Every
/// derived figure (utilisation, hit rate, bandwidth) is computed here from `RunResult`.
public struct Report: Codable, Sendable, Equatable {
  public static let schema = "fp8sim-report/1"

  public struct Device: Codable, Sendable, Equatable {
    public var name: String
    public var tiles: Int
    public var clockGHz: Double
    public var fp8e4: String
    public var fp8e5: String
  }

  public struct Unit: Codable, Sendable, Equatable {
    public var instructions: Int
    public var busyCycles: Int64
    /// busy / (cycles × tiles).
    public var utilization: Double
    public var stallCycles: Stalls
  }

  public struct Stalls: Codable, Sendable, Equatable {
    public var dependency: Int64
    public var bandwidth: Int64
    public var sync: Int64
    public var queue: Int64
  }

  public struct Bytes: Codable, Sendable, Equatable {
    public var dramToL2: Int
    public var l2ToSram: Int
    public var sramToL2: Int
    public var l2ToDram: Int
    public var exchange: Int
  }

  public struct Traffic: Codable, Sendable, Equatable {
    public var bytes: Bytes
    /// Part of `bytes.l2ToDram` flushed from L2 when the run ended.
    public var finalWritebackBytes: Int
    public var l2Hits: Int
    public var l2Misses: Int
    /// hits / (hits + misses) over line reads and writes; null without L2 accesses.
    public var l2HitRate: Double?
    public var l2Writebacks: Int
    /// DRAM bytes (both directions, final flush excluded) per second of run time.
    public var dramGBps: Double
    /// Bytes between tiles and L2 (both directions) per second of run time.
    public var l2GBps: Double
    /// The same boundaries per DRAM tensor (tensors without traffic are left out).
    public var tensors: [String: TensorTraffic]
  }

  public struct Compute: Codable, Sendable, Equatable {
    public var macs: [String: Int]
    public var paddedMacs: [String: Int]
    /// MACs by `A format×B format→accumulator`, e.g. `e4m3fn×e5m2→f16`.
    public var macsByFormat: [String: Int]
    /// MACs / padded MACs over all classes; null without mma.
    public var tensorEfficiency: Double?
    /// 2 × MACs per second of run time, in TFLOP/s.
    public var achievedTFLOPS: Double
    public var vectorElementOps: Int
    public var sramBytes: Int
  }

  public struct Energy: Codable, Sendable, Equatable {
    /// Per component, in microjoules.
    public var tensor: Double
    public var vector: Double
    public var sram: Double
    public var l2: Double
    public var dram: Double
    public var exchange: Double
    public var total: Double
  }

  public struct Output: Codable, Sendable, Equatable {
    public var name: String
    public var dtype: String
    public var format: String
    public var shape: [Int]
    public var count: Int
    /// Against the FP32 shadow run. `inf`, `-inf` and `nan` are written as strings.
    public var snrDB: Double
    public var maxAbsError: Double
    public var maxRelError: Double
    public var nan: Int
    public var inf: Int
    /// Cast events into this tensor (usually none: outputs are filled by dma.store).
    public var overflow: Int
    public var underflow: Int
  }

  public struct Casts: Codable, Sendable, Equatable {
    public var tensor: String
    public var values: Int
    public var rounded: Int
    public var overflow: Int
    public var underflow: Int
    public var nan: Int
  }

  public var schema = Report.schema
  public var program: String
  public var device: Device
  public var params: [String: String]
  public var timingOnly: Bool
  public var cycles: Int64
  public var seconds: Double
  public var instructions: Int
  public var units: [String: Unit]
  public var traffic: Traffic
  public var compute: Compute
  public var energy: Energy
  public var outputs: [Output]
  public var casts: [Casts]
  /// Overflow and underflow events of every cast in the run. `casts` lists the tensors whose
  /// stores rounded, overflowed, underflowed or produced NaN at least once.
  public var totalOverflow: Int
  public var totalUnderflow: Int
  /// Things worth knowing that are not errors (non-finite input data, undefined error figures).
  public var warnings: [String]

  public init(result r: RunResult, program: Program) {
    self.program = program.source.path
    let d = r.device
    device = Device(name: d.name, tiles: d.tiles, clockGHz: d.clockGHz, fp8e4: d.formatE4, fp8e5: d.formatE5)
    params = Dictionary(uniqueKeysWithValues: program.params.map { ($0.name, $0.value.description) })
    timingOnly = r.timingOnly
    cycles = r.cycles
    seconds = r.seconds
    instructions = r.instructions
    let capacity = Double(max(1, r.cycles)) * Double(d.tiles)
    units = Dictionary(
      uniqueKeysWithValues: UnitName.allCases.map { u in
        let s = r.units[u] ?? UnitStats()
        return (
          u.rawValue,
          Unit(
            instructions: s.instructions, busyCycles: s.busy, utilization: Double(s.busy) / capacity,
            stallCycles: Stalls(
              dependency: s.dependency, bandwidth: s.bandwidth, sync: s.sync, queue: s.queue))
        )
      })
    let t = r.traffic
    let seconds = max(r.seconds, 1e-30)
    let l2Accesses = t.l2Hits + t.l2Misses
    traffic = Traffic(
      bytes: Bytes(
        dramToL2: t.dramToL2, l2ToSram: t.l2ToSram, sramToL2: t.sramToL2, l2ToDram: t.l2ToDram,
        exchange: t.exchange),
      finalWritebackBytes: t.finalWriteback, l2Hits: t.l2Hits, l2Misses: t.l2Misses,
      l2HitRate: l2Accesses > 0 ? Double(t.l2Hits) / Double(l2Accesses) : nil, l2Writebacks: t.l2Writebacks,
      dramGBps: r.cycles == 0 ? 0 : Double(t.dramToL2 + t.l2ToDram - t.finalWriteback) / seconds / 1e9,
      l2GBps: r.cycles == 0 ? 0 : Double(t.l2ToSram + t.sramToL2) / seconds / 1e9,
      tensors: Dictionary(uniqueKeysWithValues: t.perTensor.map { (program.tensors[$0.key].name, $0.value) }))
    let c = r.compute
    let macs = c.macs.values.reduce(0, +)
    let padded = c.paddedMacs.values.reduce(0, +)
    compute = Compute(
      macs: c.macs, paddedMacs: c.paddedMacs, macsByFormat: c.macsByFormat,
      tensorEfficiency: padded > 0 ? Double(macs) / Double(padded) : nil,
      achievedTFLOPS: r.cycles == 0 ? 0 : 2 * Double(macs) / seconds / 1e12,
      vectorElementOps: c.vectorElementOps,
      sramBytes: c.sramBytes)
    let e = r.energy
    energy = Energy(
      tensor: e.tensor / 1e6, vector: e.vector / 1e6, sram: e.sram / 1e6, l2: e.l2 / 1e6, dram: e.dram / 1e6,
      exchange: e.exchange / 1e6, total: e.total / 1e6)
    outputs = r.outputs.map { o in
      Output(
        name: o.name, dtype: o.dtype, format: o.format.name, shape: o.shape, count: o.shape.reduce(1, *),
        snrDB: o.metrics.snrDB, maxAbsError: o.metrics.maxAbsError, maxRelError: o.metrics.maxRelError,
        nan: o.metrics.nanCount, inf: o.metrics.infCount, overflow: o.metrics.overflowCount,
        underflow: o.metrics.underflowCount)
    }
    casts = r.casts.filter {
      $0.counts.rounded + $0.counts.overflow + $0.counts.underflow + $0.counts.nan > 0
    }.map {
      Casts(
        tensor: $0.name, values: $0.counts.total, rounded: $0.counts.rounded, overflow: $0.counts.overflow,
        underflow: $0.counts.underflow, nan: $0.counts.nan)
    }
    totalOverflow = r.casts.reduce(0) { $0 + $1.counts.overflow }
    totalUnderflow = r.casts.reduce(0) { $0 + $1.counts.underflow }
    warnings = r.warnings
  }

  /// Pretty-printed JSON with sorted keys (stable for golden files).
  public func json() -> String {
    let data = (try? Report.encoder().encode(self)) ?? Data()
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  /// The encoder of every fp8sim JSON document: sorted keys, `inf`/`-inf`/`nan` as strings.
  public static func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return encoder
  }

  /// Reads a report back. The text is first read by `JSONParser` (strict JSON), which rejects
  /// what `JSONDecoder` would accept silently: a key given twice (the decoder keeps one of them,
  /// which one depends on dictionary order) and unbounded nesting. After that check the decoder
  /// only maps fields, and it rejects integers written as fractions or out of range itself.
  public static func decode(_ json: String) throws -> Report {
    _ = try JSONParser.parse(json, syntax: .json)
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode(Report.self, from: Data(json.utf8))
  }
}
