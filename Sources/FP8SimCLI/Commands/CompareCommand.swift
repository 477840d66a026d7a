import FP8ISA
import FP8Sim
import Foundation

/// `fp8sim compare`: runs several programs (or one program over a parameter sweep) on the same
/// device and prints their reports side by side.
enum CompareCommand: Command {
  static let name = "compare"
  static let summary = "Run programs side by side: cycles, stalls, bytes per level, energy, output error."
  static let synopsis =
    "A.isa [B.isa ...] [--device D] [--set NAME=VALUE]... [--sweep NAME=LIST] [--format text|json] [--timing-only] [--plan lines|json [--results DIR]]"
  static let options: [CommandOption] =
    [
      DeviceLoading.deviceOption,
      ProgramLoading.setOption,
      CommandOption(
        "--sweep", value: "NAME=LIST",
        help: "Run every program once per value: LIST is A..B (integers) or v1,v2,..."),
      CommandOption(
        "--format", value: "F",
        help:
          "text (default) or json: {\"schema\", \"sweep\" (when sweeping), \"runs\": [{\"label\", \"report\"}, ...]}."
      ),
      CommandOption("--timing-only", help: RunCommand.timingOnlyHelp + " No output error figures."),
    ] + RunCommand.limitOptions + [
      CommandOption(
        "--plan", value: "F",
        help:
          "Run nothing: print each run as an independent job, `lines` (one shell command per line, for GNU parallel or a Slurm job array) or `json`; `fp8sim merge` puts their results together."
      ),
      CommandOption(
        "--allow-undeclared",
        help:
          "A --set or --sweep parameter no program declares is not an error (a plan's jobs compare one program of a study each)."
      ),
      CommandOption(
        "--results", value: "DIR",
        help:
          "With --plan: the folder the jobs write their JSON to, one NNNN.json per job in run order (default results)."
      ),
    ]

  /// The options a job of a plan passes on as given (the rest it sets itself).
  static let passedOn: Set<String> = [
    "--device", "--set", "--timing-only", "--max-instructions", "--max-work",
  ]

  enum PlanFormat: String, CaseIterable { case lines, json }

  /// A run's label and report.
  struct Run {
    var label: String
    var report: Report
  }

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    guard !arguments.positionals.isEmpty else { throw UsageError("missing programs to compare") }
    if arguments.has("--results") && !arguments.has("--plan") { throw UsageError("--results is for --plan") }
    let format = try arguments.choice("--format", default: RunCommand.Format.text)
    var sweep: (name: String, values: [String])?
    if let text = arguments.value("--sweep") { sweep = try parseSweep(text) }

    // Every program × sweep value is an independent run: they run in parallel on all cores and
    // are reported in order (the first failure in that order is the one reported).
    var jobs: [(path: String, label: String, value: String?, arguments: ParsedArguments)] = []
    for path in arguments.positionals {
      let label = label(of: path)
      for value in sweep?.values ?? [""] {
        var args = arguments
        if let sweep {
          args.values["--set", default: []].removeAll { $0.hasPrefix(sweep.name + "=") }
          args.values["--set", default: []].append("\(sweep.name)=\(value)")
        }
        jobs.append(
          (path, sweep == nil ? label : "\(label) \(sweep!.name)=\(value)", sweep == nil ? nil : value, args))
      }
    }
    if let plan = try arguments.optionalChoice("--plan", PlanFormat.self) {
      let directory = arguments.value("--results") ?? "results"
      try checkResults(
        directory, lines: plan == .lines, paths: arguments.positionals + arguments.all("--device"))
      try validate(jobs, sweep: sweep, arguments: arguments)
      context.stdout.write(
        Plan(
          jobs: jobs.map { ($0.path, $0.label, $0.value) }, sweep: sweep?.name, arguments: arguments,
          directory: directory
        )
        .render(plan))
      return .success
    }
    let work = jobs
    let outcomes = ParallelSlots<Result<(Program, RunResult), any Error>>(count: work.count)
    DispatchQueue.concurrentPerform(iterations: work.count) { i in
      outcomes.set(
        i, Result { try RunCommand.simulate(work[i].path, arguments: work[i].arguments, lenient: true) })
    }
    var runs: [Run] = []
    var declared = Set<String>()
    for (i, outcome) in outcomes.values.enumerated() {
      guard let outcome else { continue }
      let (program, result) = try outcome.get()
      declared.formUnion(program.params.map(\.name))
      runs.append(Run(label: jobs[i].label, report: Report(result: result, program: program)))
    }
    if !arguments.has("--allow-undeclared") {
      try checkDeclared(declared, sweep: sweep?.name, arguments: arguments)
    }
    context.stdout.write(render(runs, sweep: sweep?.name, format: format))
    return .success
  }

  /// A run's label from its program's path: the file name without its extension.
  static func label(of path: String) -> String {
    URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
  }

  /// A `--set` (or the swept parameter) must mean something to at least one program.
  static func checkDeclared(_ declared: Set<String>, sweep: String?, arguments: ParsedArguments) throws {
    let names = try ProgramLoading.overrides(arguments).keys.sorted() + (sweep.map { [$0] } ?? [])
    if let unknown = names.first(where: { !declared.contains($0) }) {
      throw UsageError("no program declares a parameter '\(unknown)'")
    }
  }

  /// The runs as `compare` prints them: JSON, or a table (side by side, or rows for a sweep).
  static func render(_ runs: [Run], sweep: String?, format: RunCommand.Format) -> String {
    if format == .json { return json(runs, sweep: sweep) }
    return sweep == nil ? sideBySide(runs) : rows(runs)
  }

  /// The results folder of a plan: named, and not already holding results (a second study into
  /// the same folder would overwrite some files and leave others to be merged in). A `lines`
  /// plan is one command per line: no line break or other control character in its paths.
  static func checkResults(_ directory: String, lines: Bool, paths: [String]) throws(UsageError) {
    guard !directory.isEmpty else { throw UsageError("--results needs a folder name") }
    if lines,
      let bad = ([directory] + paths).first(where: {
        $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
      })
    {
      throw UsageError(
        "'\(Printable.quoted(bad))' holds a control character: a lines plan cannot quote it; use --plan json")
    }
    let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    if let old = existing.sorted().first(where: { $0.hasSuffix(".json") }) {
      throw UsageError(
        "the results folder '\(Printable.quoted(directory))' already holds results ('\(Printable.quoted(old))'): empty it or choose another with --results"
      )
    }
  }

  /// Before printing a plan: every job's program assembles with its parameters and its device
  /// loads, and every `--set` and the swept name mean something to some program (as a run
  /// would check), so a mistake shows here rather than in every job of a cluster.
  static func validate(
    _ jobs: [(path: String, label: String, value: String?, arguments: ParsedArguments)],
    sweep: (name: String, values: [String])?,
    arguments: ParsedArguments
  ) throws {
    var declared = Set<String>()
    for job in jobs {
      let program = try ProgramLoading.load(
        job.path, overrides: try ProgramLoading.overrides(job.arguments), lenient: true)
      let device = try DeviceLoading.device(for: program, option: job.arguments.value("--device"))
      // What a run checks before its first instruction (tensors fit the device's memories).
      var options = RunOptions()
      options.timingOnly = true
      do {
        _ = try Machine(program: program, device: device, options: options)
      } catch {
        throw CommandFailure(error.rendered(source: program.source), status: .runtimeFault)
      }
      declared.formUnion(program.params.map(\.name))
    }
    try checkDeclared(declared, sweep: sweep?.name, arguments: arguments)
  }

  /// A sweep (or a list of programs) as independent jobs: each is `fp8sim compare` of one
  /// program at one swept value (a sweep of one value, so its label and sweep name are the
  /// ones this command would print), writing its JSON to `DIR/NNNN.json` in run order.
  struct Plan {
    /// Each job's program, label and swept value.
    var jobs: [(path: String, label: String, value: String?)]
    /// The swept parameter.
    var sweep: String?
    var arguments: ParsedArguments
    var directory: String

    /// The executable: this one (as an absolute path when it was started by a path), so the
    /// plan runs on this machine or any that sees the same files.
    static var executable: String {
      let first = CommandLine.arguments.first ?? "fp8sim"
      return first.contains("/") ? OutputFiles.absolute(first) : first
    }

    static var workingDirectory: String { FileManager.default.currentDirectoryPath }

    func output(_ n: Int) -> String {
      let width = max(4, String(jobs.count - 1).count)
      let number = String(n)
      return (directory as NSString).appendingPathComponent(
        String(repeating: "0", count: width - number.count) + number + ".json")
    }

    /// Job `n`'s command line, without its output redirection.
    func argv(_ n: Int) -> [String] {
      var argv = [Plan.executable, CompareCommand.name, "--allow-undeclared"]
      for option in CompareCommand.options where CompareCommand.passedOn.contains(option.name) {
        if option.valueName == nil {
          if arguments.has(option.name) { argv.append(option.name) }
          continue
        }
        for value in arguments.all(option.name) {
          // The swept parameter's --set is the job's sweep value instead.
          if option.name == "--set", let sweep, value.hasPrefix(sweep + "=") { continue }
          argv += [option.name, value]
        }
      }
      if let sweep, let value = jobs[n].value { argv += ["--sweep", "\(sweep)=\(value)"] }
      return argv + ["--format", "json", "--", jobs[n].path]
    }

    func render(_ format: PlanFormat) -> String {
      switch format {
      case .lines:
        // Each line stands alone (GNU parallel and job arrays run them in any order).
        // From the folder the plan was made in (paths are as given, so reports are the same).
        return jobs.indices.map { n in
          "cd \(Plan.quoted(Plan.workingDirectory)) && mkdir -p -- \(Plan.quoted(directory)) && "
            + argv(n).map(Plan.quoted).joined(separator: " ") + " > " + Plan.quoted(output(n)) + "\n"
        }.joined()
      case .json:
        struct Job: Encodable {
          var label: String
          var argv: [String]
          var output: String
        }
        struct Document: Encodable {
          var schema = "fp8sim-plan/1"
          /// The folder to run the jobs in (their paths are relative to it).
          var directory: String
          var results: String
          var jobs: [Job]
        }
        let document = Document(
          directory: Plan.workingDirectory, results: directory,
          jobs: jobs.indices.map { Job(label: jobs[$0].label, argv: argv($0), output: output($0)) })
        let data = (try? Report.encoder().encode(document)) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
      }
    }

    /// A word for a POSIX shell: as is when it is plainly safe, else in single quotes.
    static func quoted(_ word: String) -> String {
      let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=+,:@%")
      if !word.isEmpty && word.allSatisfy(safe.contains) { return word }
      return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
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

  /// One measurement compared: a row side by side, a column in a sweep.
  enum Measurement: Hashable {
    case device
    /// A statistic of the run (instance nil) or of one instance of its scope.
    case stat(StatKey, String?)
    /// A statistic of every instance of its scope, combined by the statistic's rule (the stall
    /// cycles of all units).
    case combined(StatKey)
    /// Statistics of one instance added up (an output's NaN and inf values).
    case sum([StatKey], String)

    var keys: [StatKey] {
      switch self {
      case .device: return []
      case .stat(let key, _), .combined(let key): return [key]
      case .sum(let keys, _): return keys
      }
    }

    var label: String {
      switch self {
      case .device: return "device"
      case .stat(let key, nil), .combined(let key): return key.statistic.heading
      case .stat(let key, let instance?):
        return instance + (key.statistic.scope == .tensor ? ": " : " ") + key.statistic.heading
      case .sum(let keys, let instance):
        return instance + " " + keys.map(\.statistic.heading).joined(separator: "+")
      }
    }

    /// The cell of one run: `n/a` for a figure of values in a timing-only run or a missing
    /// figure of the run, `-` for an output the program does not have, 0 for a tensor it did
    /// not move.
    func cell(_ r: Report) -> String {
      guard let key = keys.first else { return "\(r.device.name) (\(r.device.tiles) tiles)" }
      let s = key.statistic
      if s.needsValues && r.timingOnly { return "n/a" }
      var value: StatValue?
      switch self {
      case .device: return ""
      case .combined: return s.column(s.combine.parallel(r.values(key).map(\.value)))
      case .stat(_, let instance): value = r.value(key, instance)
      case .sum(let keys, let instance):
        let parts = keys.compactMap { r.value($0, instance) }
        if parts.count == keys.count { value = Combine.sum.parallel(parts) }
      }
      if let value { return s.column(value) }
      switch s.scope {
      case .run: return "n/a"
      case .output: return "-"
      default: return s.column(.count(0))
      }
    }
  }

  /// The measurements compared, in row order.
  static func measurements(_ runs: [Run]) -> [Measurement] {
    var rows: [Measurement] = [.device, .stat(.cycles, nil), .stat(.seconds, nil)]
    rows += [StatKey.dependencyStall, .bandwidthStall, .syncStall, .queueStall].map { .combined($0) }
    rows.append(.stat(.utilization, UnitKind.tensor.rawValue))
    rows += [StatKey.dramToL2, .l2ToSram, .sramToL2, .l2ToDram, .exchange, .l2HitRate].map { .stat($0, nil) }
    // SRAM accesses: where block scales and packed elements show when nothing quantised
    // leaves SRAM.
    rows.append(.stat(.sramBytes, nil))
    // Per-tensor loads and stores of every DRAM tensor any run moved.
    for t in Set(runs.flatMap { $0.report.instances(.tensor) }).sorted() {
      rows += [.stat(.tensorL2ToSram, t), .stat(.tensorSramToL2, t)]
    }
    rows.append(.stat(.energyTotal, nil))
    let outputs = runs.flatMap { $0.report.outputs.map(\.name) }.reduce(into: [String]()) {
      if !$0.contains($1) { $0.append($1) }
    }
    for o in outputs { rows += [.stat(.snrDB, o), .sum([.nan, .inf], o)] }
    rows += [.stat(.totalOverflow, nil), .stat(.totalUnderflow, nil)]
    return rows
  }

  /// The statistics a sweep shows, one column each (per output for the output statistics).
  static let sweepKeys: Set<StatKey> = [
    .cycles, .l2ToSram, .dramToL2, .energyTotal, .totalOverflow, .totalUnderflow, .snrDB, .nan, .inf,
  ]

  /// A run's label as a text table shows it: control characters escaped, at most 120
  /// characters (a label read back by `merge` can be anything).
  static func shown(_ label: String) -> String {
    let quoted = Printable.quoted(label)
    return quoted.count <= 120 ? quoted : String(quoted.prefix(119)) + "…"
  }

  /// Programs as columns, measurements as rows.
  static func sideBySide(_ runs: [Run]) -> String {
    let rows = measurements(runs).map { m in [m.label] + runs.map { m.cell($0.report) } }
    var out =
      "fp8sim compare (stalls summed over units and tiles; bytes per boundary, then per DRAM tensor)\n"
    out += TextTable(
      header: ["measurement"] + runs.map { shown($0.label) }, rows: rows, rightAligned: Set(1...runs.count),
      underline: true
    ).render()
    return out
  }

  /// Runs as rows (for sweeps), the most useful measurements as columns.
  static func rows(_ runs: [Run]) -> String {
    let wanted = measurements(runs).filter { !$0.keys.isEmpty && $0.keys.allSatisfy(sweepKeys.contains) }
    // A bar per run for the first output's SNR: the shape of the paper's Figure 5 at a glance.
    let snrs = runs.map { r in
      r.report.outputs.first.flatMap { r.report.value(.snrDB, $0.name)?.double } ?? .nan
    }
    let top = snrs.filter(\.isFinite).max() ?? 0
    let bar = { (snr: Double) -> String in
      guard snr.isFinite, top > 0 else { return snr == -.infinity ? "(-inf)" : "" }
      return String(repeating: "#", count: max(0, Int((snr / top * 30).rounded())))
    }
    let showBars = runs.contains { !$0.report.timingOnly && !$0.report.outputs.isEmpty }
    let rows = runs.enumerated().map { i, run in
      [shown(run.label)] + wanted.map { $0.cell(run.report) } + (showBars ? [bar(snrs[i])] : [])
    }
    let header = ["run"] + wanted.map(\.label) + (showBars ? ["SNR"] : [])
    return "fp8sim compare, sweep\n"
      + TextTable(header: header, rows: rows, rightAligned: Set(1...wanted.count), underline: true).render()
  }

  /// `{"schema", "sweep" (the swept parameter, when there is one), "runs": [{label, report}]}`.
  static let schema = "fp8sim-compare/1"

  static func json(_ runs: [Run], sweep: String?) -> String {
    struct Output: Encodable {
      var schema = CompareCommand.schema
      var sweep: String?
      var runs: [Entry]
    }
    struct Entry: Encodable {
      var label: String
      var report: Report
    }
    let data =
      (try? Report.encoder().encode(
        Output(sweep: sweep, runs: runs.map { Entry(label: $0.label, report: $0.report) })))
      ?? Data()
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}
