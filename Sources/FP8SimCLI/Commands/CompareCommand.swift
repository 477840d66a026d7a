import FP8ISA
import FP8Sim
import Foundation

/// `fp8sim compare`: runs several programs (or one program over a parameter sweep) on the same
/// device and prints their reports side by side.
enum CompareCommand: Command {
  static let name = "compare"
  static let summary = "Run programs side by side: cycles, stalls, bytes per level, energy, output error."
  static let synopsis =
    "A.isa [B.isa ...] [--device D] [--set NAME=VALUE]... [--sweep NAME=LIST] [--format text|json] [--timing-only]"
  static let options: [OptionSpec] =
    [
      DeviceLoading.deviceOption,
      ProgramLoading.setOption,
      OptionSpec(
        "--sweep", value: "NAME=LIST",
        help: "Run every program once per value: LIST is A..B (integers) or v1,v2,..."),
      OptionSpec(
        "--format", value: "F", help: "text (default) or json: {\"schema\", \"runs\": [report, ...]}."),
      OptionSpec("--timing-only", help: RunCommand.timingOnlyHelp + " No output error figures."),
    ] + RunCommand.limitOptions

  /// A run's label and report.
  struct Run {
    var label: String
    var report: Report
  }

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    guard !arguments.positionals.isEmpty else { throw UsageError("missing programs to compare") }
    let format = try arguments.choice("--format", default: RunCommand.Format.text)
    var sweep: (name: String, values: [String])?
    if let text = arguments.value("--sweep") { sweep = try parseSweep(text) }

    var runs: [Run] = []
    var declared = Set<String>()
    for path in arguments.positionals {
      let label = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
      for value in sweep?.values ?? [""] {
        var args = arguments
        if let sweep {
          args.values["--set", default: []].removeAll { $0.hasPrefix(sweep.name + "=") }
          args.values["--set", default: []].append("\(sweep.name)=\(value)")
        }
        let (program, result) = try RunCommand.simulate(path, arguments: args, lenient: true)
        declared.formUnion(program.params.map(\.name))
        runs.append(
          Run(
            label: sweep == nil ? label : "\(label) \(sweep!.name)=\(value)",
            report: Report(result: result, program: program)))
      }
    }
    // A --set must mean something to at least one program.
    let names = try ProgramLoading.overrides(arguments).keys.sorted() + (sweep.map { [$0.name] } ?? [])
    if let unknown = names.first(where: { !declared.contains($0) }) {
      throw UsageError("no program declares a parameter '\(unknown)'")
    }
    if format == .json {
      context.stdout.write(json(runs))
    } else {
      context.stdout.write(sweep == nil ? sideBySide(runs) : rows(runs))
    }
    return .success
  }

  static func parseSweep(_ text: String) throws(UsageError) -> (name: String, values: [String]) {
    guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
      throw UsageError("--sweep needs NAME=A..B or NAME=v1,v2,...; got '\(text)'")
    }
    let name = String(text[..<eq])
    let list = String(text[text.index(after: eq)...])
    if let range = list.range(of: "..") {
      guard let a = Int(list[..<range.lowerBound]), let b = Int(list[range.upperBound...]), a <= b,
        !b.subtractingReportingOverflow(a).overflow, b - a < 1000
      else {
        throw UsageError(
          "--sweep range must be A..B with integers A ≤ B (at most 1000 values); got '\(list)'")
      }
      return (name, (a...b).map(String.init))
    }
    let values = list.split(separator: ",").map(String.init)
    guard !values.isEmpty, values.count <= 1000 else { throw UsageError("--sweep needs at least one value") }
    return (name, values)
  }

  // MARK: - Text

  /// The measurements compared, as (row label, value for a report).
  static func metrics(_ runs: [Run]) -> [(String, (Report) -> String)] {
    let g = { (n: Int) in TextReport.grouped(n) }
    var rows: [(String, (Report) -> String)] = [
      ("device", { "\($0.device.name) (\($0.device.tiles) tiles)" }),
      ("cycles", { TextReport.grouped($0.cycles) }),
      ("time us", { TextReport.fixed($0.seconds * 1e6, 3) }),
      ("stall: dependency", { TextReport.grouped(stalls($0, \.dependency)) }),
      ("stall: bandwidth", { TextReport.grouped(stalls($0, \.bandwidth)) }),
      ("stall: sync", { TextReport.grouped(stalls($0, \.sync)) }),
      ("stall: queue", { TextReport.grouped(stalls($0, \.queue)) }),
      ("tensor util %", { TextReport.fixed(100 * ($0.units["tensor"]?.utilization ?? 0), 2) }),
      ("DRAM -> L2 B", { g($0.traffic.bytes.dramToL2) }),
      ("L2 -> SRAM B", { g($0.traffic.bytes.l2ToSram) }),
      ("SRAM -> L2 B", { g($0.traffic.bytes.sramToL2) }),
      ("L2 -> DRAM B", { g($0.traffic.bytes.l2ToDram) }),
      ("exchange B", { g($0.traffic.bytes.exchange) }),
      ("L2 hit rate %", { $0.traffic.l2HitRate.map { TextReport.fixed(100 * $0, 2) } ?? "n/a" }),
    ]
    // Per-tensor loads and stores of every DRAM tensor any run moved.
    let tensors = Set(runs.flatMap { $0.report.traffic.tensors.keys }).sorted()
    for t in tensors {
      rows.append(("\(t): L2 -> SRAM B", { g($0.traffic.tensors[t]?.l2ToSram ?? 0) }))
      rows.append(("\(t): SRAM -> L2 B", { g($0.traffic.tensors[t]?.sramToL2 ?? 0) }))
    }
    rows.append(("energy uJ", { TextReport.fixed($0.energy.total, 3) }))
    let outputs = runs.flatMap { $0.report.outputs.map(\.name) }.reduce(into: [String]()) {
      if !$0.contains($1) { $0.append($1) }
    }
    for o in outputs {
      rows.append(
        (
          "\(o) SNR dB",
          { r in
            r.timingOnly
              ? "n/a" : r.outputs.first { $0.name == o }.map { TextReport.fixed($0.snrDB, 2) } ?? "-"
          }
        ))
      rows.append(
        (
          "\(o) NaN+inf",
          { r in
            r.timingOnly ? "n/a" : r.outputs.first { $0.name == o }.map { g($0.nan + $0.inf) } ?? "-"
          }
        ))
    }
    rows.append(("cast overflows", { $0.timingOnly ? "n/a" : g($0.totalOverflow) }))
    rows.append(("cast underflows", { $0.timingOnly ? "n/a" : g($0.totalUnderflow) }))
    return rows
  }

  static func stalls(_ r: Report, _ key: KeyPath<Report.Stalls, Int64>) -> Int64 {
    r.units.values.reduce(0) { $0 + $1.stallCycles[keyPath: key] }
  }

  /// Programs as columns, measurements as rows.
  static func sideBySide(_ runs: [Run]) -> String {
    let metrics = metrics(runs)
    let rows = metrics.map { name, value in [name] + runs.map { value($0.report) } }
    var out =
      "fp8sim compare (stalls summed over units and tiles; bytes per boundary, then per DRAM tensor)\n"
    out += TextTable(
      header: ["measurement"] + runs.map(\.label), rows: rows, rightAligned: Set(1...runs.count),
      underline: true
    ).render()
    return out
  }

  /// Runs as rows (for sweeps), the most useful measurements as columns.
  static func rows(_ runs: [Run]) -> String {
    let wanted = metrics(runs).filter { name, _ in
      ["cycles", "L2 -> SRAM B", "DRAM -> L2 B", "energy uJ", "cast overflows", "cast underflows"].contains(
        name)
        || name.hasSuffix("SNR dB") || name.hasSuffix("NaN+inf")
    }
    // A bar per run for the first output's SNR: the shape of the paper's Figure 5 at a glance.
    let snrs = runs.map { $0.report.outputs.first?.snrDB ?? .nan }
    let top = snrs.filter(\.isFinite).max() ?? 0
    let bar = { (snr: Double) -> String in
      guard snr.isFinite, top > 0 else { return snr == -.infinity ? "(-inf)" : "" }
      return String(repeating: "#", count: max(0, Int((snr / top * 30).rounded())))
    }
    let showBars = runs.contains { !$0.report.timingOnly && !$0.report.outputs.isEmpty }
    let rows = runs.enumerated().map { i, run in
      [run.label] + wanted.map { $0.1(run.report) } + (showBars ? [bar(snrs[i])] : [])
    }
    let header = ["run"] + wanted.map(\.0) + (showBars ? ["SNR"] : [])
    return "fp8sim compare, sweep\n"
      + TextTable(header: header, rows: rows, rightAligned: Set(1...wanted.count), underline: true).render()
  }

  static func json(_ runs: [Run]) -> String {
    struct Output: Encodable {
      var schema = "fp8sim-compare/1"
      var runs: [Entry]
    }
    struct Entry: Encodable {
      var label: String
      var report: Report
    }
    let data =
      (try? Report.encoder().encode(Output(runs: runs.map { Entry(label: $0.label, report: $0.report) })))
      ?? Data()
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}
