import FP8Data
import FP8Formats
import FP8ISA
import Foundation

/// The report of one run: what was run, and the value of every statistic of `StatKey` (the
/// table in Statistics.swift). `--format json` writes it (schema in docs/report.md), `TextReport`
/// prints it; every derived figure (utilisation, hit rate, bandwidth) is computed when the report
/// is built from `RunResult`.
public struct Report: Sendable, Equatable {
  public static let schema = "fp8sim-report/1"

  public struct Device: Sendable, Equatable {
    public var name: String
    public var tiles: Int
    public var clockGHz: Double
    public var fp8e4: String
    public var fp8e5: String
  }

  /// An output tensor; its error figures are statistics of the `output` scope.
  public struct Output: Sendable, Equatable {
    public var name: String
    public var dtype: String
    public var format: String
    public var shape: [Int]
    public var count: Int { shape.reduce(1, *) }
  }

  public var schema = Report.schema
  public var program: String
  public var device: Device
  public var params: [String: String]
  public var timingOnly: Bool
  /// Every `.output`, in declaration order.
  public var outputs: [Output]
  /// Things worth knowing that are not errors (non-finite input data, undefined error figures).
  public var warnings: [String]
  /// The instances of every scope but `run` and `output`, in report order.
  var instanceNames: [StatScope: [String]]
  /// Values by statistic, then by instance (`""` for the run scope).
  var values: [StatKey: [String: StatValue]]

  public init(result r: RunResult, program: Program) {
    self.program = program.source.path
    let d = r.device
    device = Device(name: d.name, tiles: d.tiles, clockGHz: d.clockGHz, fp8e4: d.formatE4, fp8e5: d.formatE5)
    params = Dictionary(uniqueKeysWithValues: program.params.map { ($0.name, $0.value.description) })
    timingOnly = r.timingOnly
    outputs = r.outputs.map {
      Output(name: $0.name, dtype: $0.dtype, format: $0.format.name, shape: $0.shape)
    }
    warnings = r.warnings
    let source = StatSource(result: r, program: program)
    instanceNames = [:]
    for scope in StatScope.allCases where scope != .run && scope != .output {
      instanceNames[scope] = source.instances(scope)
    }
    values = [:]
    for key in StatKey.allCases {
      let measure = key.statistic.measure
      for instance in measure.scope == .run ? [""] : source.instances(measure.scope) {
        if let v = measure.value(source, instance) { values[key, default: [:]][instance] = v }
      }
    }
  }

  /// The instances of a scope, in report order (`[""]` for `run`).
  public func instances(_ scope: StatScope) -> [String] {
    switch scope {
    case .run: return [""]
    case .output: return outputs.map(\.name)
    case .unit, .tensor, .inputClass, .mmaFormat, .castTensor: return instanceNames[scope] ?? []
    }
  }

  /// The value of a statistic for the run (`instance` nil) or for one instance of its scope.
  public func value(_ key: StatKey, _ instance: String? = nil) -> StatValue? {
    values[key]?[instance ?? ""]
  }

  /// Every value of a statistic, in instance order.
  public func values(_ key: StatKey) -> [(instance: String, value: StatValue)] {
    instances(key.statistic.scope).compactMap { i in value(key, i).map { (i, $0) } }
  }

  /// The value as the text report prints it (`n/a` when there is none).
  public func text(_ key: StatKey, _ instance: String? = nil) -> String {
    key.statistic.text(value(key, instance))
  }
}
