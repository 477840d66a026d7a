import FP8Formats
import FP8ISA

/// One statistic of a run report: where the JSON report writes it, what it measures, in which
/// unit, how it combines, and how people see it. The rows live in `StatKey.statistic`
/// (Statistics.swift); the JSON report, the text report, `fp8sim compare` and the statistics
/// section of docs/report.md are all read from them.
public struct Statistic: Sendable {
  /// The JSON path: dotted members, the scope's placeholder (`<unit>`) for one member per
  /// instance, `[]` after an array of instances (`outputs[].snrDB`).
  public let path: String
  public let unit: StatUnit
  /// What text tables and `fp8sim compare` call it, e.g. `busy`, `DRAM -> L2`.
  public let label: String
  /// A name shared by statistics shown together (`stall` for the four stall causes).
  public let group: String?
  /// One line: what is counted.
  public let summary: String
  public let combine: Combine
  public let format: StatFormat
  /// When the value may be missing (its key is then left out of the JSON); nil: always there.
  public let absentWhen: String?
  /// The `absentWhen` of a stored count added to `fp8sim-report/1` later: reports written before
  /// it existed lack it (adding a key does not bump the schema).
  public static let olderReport = "the report was written by an fp8sim that did not have it yet"
  let measure: Measure

  init(
    _ path: String, _ measure: Measure, unit: StatUnit, label: String, group: String? = nil,
    combine: Combine, format: StatFormat, absentWhen: String? = nil, _ summary: String
  ) {
    self.path = path
    self.measure = measure
    self.unit = unit
    self.label = label
    self.group = group
    self.combine = combine
    self.format = format
    self.absentWhen = absentWhen
    self.summary = summary
  }

  /// What the statistic is counted per.
  public var scope: StatScope { measure.scope }
  /// Computed from tensor values: not measured by a timing-only run.
  public var needsValues: Bool { measure.needsValues }

  /// Column heading: the label and the unit people read next to it (`SNR dB`, `DRAM -> L2 B`,
  /// `util %`), with the group first (`stall: dependency`).
  public var heading: String {
    let symbol = format.columnSymbol ?? unit.symbol
    return (group.map { $0 + ": " } ?? "") + label + (symbol.map { " " + $0 } ?? "")
  }

  /// The value as the text report prints it; `n/a` when there is none.
  public func text(_ value: StatValue?) -> String { value.map(format.text) ?? "n/a" }

  /// The value in a table column under `heading`; `n/a` when there is none.
  public func column(_ value: StatValue?) -> String { value.map(format.column) ?? "n/a" }
}

/// What a statistic is counted per: the run as a whole, or each instance of something.
public enum StatScope: String, Sendable, CaseIterable {
  /// One value for the whole run.
  case run
  /// One value per unit (`scalar`, `dma`, `vector`, `tensor`), summed over tiles.
  case unit
  /// One value per DRAM tensor that moved bytes.
  case tensor
  /// One value per MMA input class (`fp8`, `half`, `single`, `fp6`, `fp4`) that did MACs.
  case inputClass
  /// One value per pair of input formats and accumulator.
  case mmaFormat
  /// One value per `.output`, in declaration order.
  case output
  /// One value per tensor whose stores rounded, overflowed, underflowed or made NaN.
  case castTensor

  /// How a path writes the instance: `<unit>` for one member per instance, `[]` for an array.
  public var placeholder: String {
    switch self {
    case .run: return ""
    case .unit: return "<unit>"
    case .tensor: return "<name>"
    case .inputClass: return "<class>"
    case .mmaFormat: return "<A×B→acc>"
    case .output, .castTensor: return "[]"
    }
  }

  /// For an array scope, the member of each element that names it.
  public var nameField: String? {
    switch self {
    case .output: return "name"
    case .castTensor: return "tensor"
    case .run, .unit, .tensor, .inputClass, .mmaFormat: return nil
    }
  }

  /// The instances, for docs/report.md.
  public var summary: String {
    switch self {
    case .run: return "the run as a whole"
    case .unit: return "`scalar`, `dma`, `vector`, `tensor`, each summed over tiles"
    case .tensor: return "every DRAM tensor that moved bytes"
    case .inputClass: return "every MMA input class that did MACs: `fp8`, `half`, `single`, `fp6`, `fp4`"
    case .mmaFormat: return "every pair of input formats and accumulator, e.g. `e4m3fn×e5m2→f16`"
    case .output: return "every `.output`, in declaration order"
    case .castTensor:
      return "every tensor (summed over tiles) whose stores were not all exact, in declaration order"
    }
  }

  /// Instance names in the order reports list them: units and input classes in their own
  /// order, tensors and formats by name, outputs and casts as given (declaration order).
  func ordered(_ names: [String]) -> [String] {
    func rank(_ order: [String]) -> [String] {
      names.sorted { a, b in
        let (i, j) = (order.firstIndex(of: a) ?? order.count, order.firstIndex(of: b) ?? order.count)
        return i != j ? i < j : a < b
      }
    }
    switch self {
    case .run, .output, .castTensor: return names
    case .unit: return rank(UnitKind.reported.map(\.rawValue))
    case .inputClass: return rank(MMAInputClass.allCases.map(\.rawValue))
    case .tensor, .mmaFormat: return names.sorted()
    }
  }
}

/// A measured or derived value: an exact count, or a real number.
public enum StatValue: Sendable, Hashable {
  case count(Int64)
  case real(Double)

  public var double: Double {
    switch self {
    case .count(let n): return Double(n)
    case .real(let x): return x
    }
  }

  /// The count; nil for a real number.
  public var int: Int64? {
    if case .count(let n) = self { return n }
    return nil
  }
}

/// What a statistic is measured in.
public enum StatUnit: String, Sendable, CaseIterable {
  case cycles, seconds, instructions, bytes
  case lines = "L2 lines"
  case macs = "MACs"
  case operations = "element operations"
  case values, events
  case ratio
  case gigabytesPerSecond = "GB/s"
  case teraflops = "TFLOP/s"
  case microjoules = "µJ"
  case decibels = "dB"
  /// The output tensor's own unit (an absolute error).
  case tensorUnit = "the output's unit"

  /// Written after a column heading, when people need it there (`DRAM -> L2 B`, `energy uJ`).
  public var symbol: String? {
    switch self {
    case .bytes: return "B"
    case .microjoules: return "uJ"
    case .decibels: return "dB"
    case .gigabytesPerSecond, .teraflops: return rawValue
    case .cycles, .seconds, .instructions, .lines, .macs, .operations, .values, .events, .ratio, .tensorUnit:
      return nil
    }
  }
}

/// How a statistic combines over the tiles of a run and over runs done one after another.
public enum Combine: Sendable, Equatable {
  /// Added up, over tiles and over runs.
  case sum
  /// The largest over tiles (they run at the same time), added up over runs.
  case maxOverTiles
  /// The largest.
  case max
  /// Not combined itself: computed again from the combined figures by this formula.
  case derived(String)

  /// For docs/report.md.
  public var description: String {
    switch self {
    case .sum: return "sum"
    case .maxOverTiles: return "max over tiles, sum over runs"
    case .max: return "max"
    case .derived(let formula): return formula
    }
  }

  /// Combines the values of parts that run side by side (tiles, units); nil for a derived
  /// figure, or when a sum overflows.
  public func parallel(_ values: [StatValue]) -> StatValue? {
    switch self {
    case .derived: return nil
    case .max, .maxOverTiles:
      return values.max { $0.double < $1.double }
    case .sum:
      var total: Int64 = 0
      var real = 0.0
      var isReal = false
      for v in values {
        switch v {
        case .count(let n):
          let (s, overflow) = total.addingReportingOverflow(n)
          if overflow { return nil }
          total = s
        case .real(let x):
          real += x
          isReal = true
        }
      }
      return isReal ? .real(real + Double(total)) : .count(total)
    }
  }
}

/// How people see a statistic.
public enum StatFormat: Sendable, Equatable {
  /// An exact count grouped by thousands, `1,234,567`; an integer in JSON.
  case count
  /// A fraction as a percentage with 2 decimals, `83.37%` (in a column `83.37`, under `%`).
  case percent
  /// A fixed number of decimals, `6.7` or `0.427`.
  case fixed(Int)
  /// Three decimals and an exponent, `2.649e+00`.
  case scientific
  /// Seconds as `4.913 us` or `1.234 ms` (in a column: microseconds, 3 decimals, under `us`).
  case duration

  public func text(_ v: StatValue) -> String {
    switch self {
    case .count:
      if case .count(let n) = v { return TextReport.grouped(n) }
      return TextReport.fixed(v.double, 0)
    case .percent: return TextReport.percent(v.double)
    case .fixed(let digits): return TextReport.fixed(v.double, digits)
    case .scientific: return TextReport.scientific(v.double)
    case .duration: return TextReport.duration(v.double)
    }
  }

  public func column(_ v: StatValue) -> String {
    switch self {
    case .percent: return TextReport.fixed(100 * v.double, 2)
    case .duration: return TextReport.fixed(v.double * 1e6, 3)
    case .count, .fixed, .scientific: return text(v)
    }
  }

  /// The unit a column shows in its heading instead of in every cell.
  var columnSymbol: String? {
    switch self {
    case .percent: return "%"
    case .duration: return "us"
    case .count, .fixed, .scientific: return nil
    }
  }

  /// JSON writes integers for counts, numbers otherwise.
  var isInteger: Bool { self == .count }

  /// For docs/report.md.
  public var example: String {
    switch self {
    case .count: return "1,234"
    case .percent: return "83.37%"
    case .fixed(let digits): return TextReport.fixed(12.3456, digits)
    case .scientific: return "2.649e+00"
    case .duration: return "4.913 us"
    }
  }
}

/// Where a statistic's value comes from: a closure over the run's measurements for one instance
/// of its scope. Built by the helpers below, so the table reads as key paths and formulas.
struct Measure: Sendable {
  let scope: StatScope
  let needsValues: Bool
  let value: @Sendable (StatSource, String) -> StatValue?

  /// A figure of the whole run.
  static func run(needsValues: Bool = false, _ f: @escaping @Sendable (RunResult) -> StatValue?) -> Measure {
    Measure(scope: .run, needsValues: needsValues) { s, _ in f(s.result) }
  }

  /// A stored count of the whole run.
  static func run(_ path: KeyPath<RunResult, Int> & Sendable) -> Measure {
    run { .count(Int64($0[keyPath: path])) }
  }

  static func run(_ path: KeyPath<RunResult, Int64> & Sendable) -> Measure {
    run { .count($0[keyPath: path]) }
  }

  /// A figure of one unit, from its statistics summed over tiles.
  static func unit(_ f: @escaping @Sendable (UnitStats, RunResult) -> StatValue) -> Measure {
    Measure(scope: .unit, needsValues: false) { s, name in
      UnitKind(rawValue: name).map { f(s.result.units[$0] ?? UnitStats(), s.result) }
    }
  }

  /// A stored count of one unit.
  static func unit(_ path: KeyPath<UnitStats, Int> & Sendable) -> Measure {
    unit { u, _ in .count(Int64(u[keyPath: path])) }
  }

  static func unit(_ path: KeyPath<UnitStats, Int64> & Sendable) -> Measure {
    unit { u, _ in .count(u[keyPath: path]) }
  }

  /// A stored count of one DRAM tensor.
  static func tensor(_ path: KeyPath<TensorTraffic, Int> & Sendable) -> Measure {
    Measure(scope: .tensor, needsValues: false) { s, name in
      s.tensors[name].map { .count(Int64($0[keyPath: path])) }
    }
  }

  /// A stored count per key of one of the compute maps.
  static func keyed(_ scope: StatScope, _ path: KeyPath<ComputeStats, [String: Int]> & Sendable) -> Measure {
    Measure(scope: scope, needsValues: false) { s, key in
      s.result.compute[keyPath: path][key].map { .count(Int64($0)) }
    }
  }

  /// A figure of one output, from its error metrics.
  static func output(_ f: @escaping @Sendable (ErrorMetrics) -> StatValue) -> Measure {
    Measure(scope: .output, needsValues: true) { s, name in s.outputs[name].map(f) }
  }

  /// A stored count of the cast events into one tensor.
  static func casts(_ path: KeyPath<CastCounts, Int> & Sendable) -> Measure {
    Measure(scope: .castTensor, needsValues: true) { s, name in
      s.casts[name].map { .count(Int64($0[keyPath: path])) }
    }
  }
}

/// A run's measurements, indexed the way statistics look them up.
struct StatSource {
  let result: RunResult
  /// Traffic per DRAM tensor name.
  let tensors: [String: TensorTraffic]
  let outputs: [String: ErrorMetrics]
  /// Cast events of the tensors whose stores were not all exact, in declaration order.
  let castList: [(name: String, counts: CastCounts)]
  let casts: [String: CastCounts]

  init(result: RunResult, program: Program) {
    self.result = result
    tensors = Dictionary(
      uniqueKeysWithValues: result.traffic.perTensor.map { (program.tensors[$0.key].name, $0.value) })
    outputs = Dictionary(result.outputs.map { ($0.name, $0.metrics) }) { a, _ in a }
    castList = result.casts.filter {
      $0.counts.rounded + $0.counts.overflow + $0.counts.underflow + $0.counts.nan > 0
    }
    casts = Dictionary(castList.map { ($0.name, $0.counts) }) { a, _ in a }
  }

  /// The instances of a scope present in this run, in report order.
  func instances(_ scope: StatScope) -> [String] {
    let c = result.compute
    switch scope {
    case .run: return []
    case .unit: return UnitKind.reported.map(\.rawValue)
    case .tensor: return scope.ordered(Array(tensors.keys))
    case .inputClass: return scope.ordered(Array(Set(c.macs.keys).union(c.paddedMacs.keys)))
    case .mmaFormat: return scope.ordered(Array(c.macsByFormat.keys))
    case .output: return result.outputs.map(\.name)
    case .castTensor: return castList.map(\.name)
    }
  }
}
