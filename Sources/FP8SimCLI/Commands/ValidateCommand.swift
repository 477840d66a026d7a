import FP8Data
import FP8Formats
import FP8ISA
import FP8Sim
import Foundation

/// `fp8sim validate`: simulated GEMM throughput against measured throughput, row by row.
enum ValidateCommand: Command {
  static let name = "validate"
  static let summary = "Compare simulated GEMM TFLOP/s with measurements (CSV: m,n,k,tflops)."
  static let synopsis = "MEASUREMENTS.csv [--device D] [--tune] [--format text|json] [--max-instructions N]"
  static let options: [CommandOption] = [
    DeviceLoading.deviceOption,
    CommandOption(
      "--tune", help: "Tune each GEMM with timing-only runs (slower) instead of the planner's rule."),
    CommandOption("--format", value: "F", help: "text (default) or json."),
    CommandOption(
      "--max-instructions", value: "N",
      help: "Fault after N instructions per GEMM (default: the generated kernel's own upper bound)."),
  ]

  enum Format: String, CaseIterable { case text, json }

  struct Row {
    var m, n, k: Int
    var measured: Double
    var source = ""
    /// Time the measurement includes beyond the kernel (a timed loop's per-call host cost), µs.
    var overheadMicroseconds = 0.0
    var problem: GEMMPlanner.Problem
    var simulated = 0.0
    var computeBound = false
    var error: Double { (simulated - measured) / measured }
  }

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    guard arguments.positionals.count == 1 else {
      throw UsageError(arguments.positionals.isEmpty ? "missing MEASUREMENTS.csv" : "expected one CSV file")
    }
    let path = arguments.positionals[0]
    let format = try arguments.choice("--format", default: Format.text)
    let device = try DeviceLoading.load(arguments.value("--device") ?? "h100", relativeTo: nil)
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CommandFailure(
        "fp8sim validate: error: cannot read '\(Printable.quoted(path))'", status: .ioError)
    }
    var rows = try parse(String(decoding: data, as: UTF8.self), path: path)
    var options = RunOptions()
    options.timingOnly = true
    let maxInstructions =
      arguments.has("--max-instructions")
      ? try arguments.integer("--max-instructions", default: 0, range: 1...Int.max) : nil
    // Timing-only work is bounded by the instructions and the L2 lines they touch.
    options.maxWork = 1 << 60
    options.traceEventLimit = 0
    let ridge = 2 * device.tensorMacsPerCycleFP8 * Double(device.tiles) / device.dramBytesPerCycle
    // --tune's candidates run under the limit given, else under each one's own bound.
    options.maxInstructions = maxInstructions ?? Int.max
    for i in rows.indices {
      let p = rows[i].problem
      let kernel: GEMMKernel
      do {
        kernel =
          arguments.has("--tune")
          ? try GEMMPlanner.tune(p, device: device, options: options).kernel
          : try GEMMPlanner.plan(p, device: device)
      } catch let error as GEMMKernel.ConfigError {
        throw CommandFailure("\(path): error: row \(i + 1): \(error.description)", status: .dataError)
      }
      let result: RunResult
      do {
        options.maxInstructions = maxInstructions ?? kernel.instructionBound(tiles: device.tiles)
        result = try Machine(program: kernel.builder().build(), device: device, options: options).run()
      } catch let error as GEMMKernel.ConfigError {
        throw CommandFailure("\(path): error: row \(i + 1): \(error.description)", status: .dataError)
      } catch let fault as RuntimeFault {
        throw CommandFailure(
          "\(path): error: row \(i + 1) (\(p.m)×\(p.n)×\(p.k)): the generated GEMM faulted: \(fault.message)",
          status: .runtimeFault)
      }
      let flops = 2 * Double(p.m) * Double(p.n) * Double(p.k)
      rows[i].simulated = flops / (result.seconds + rows[i].overheadMicroseconds * 1e-6) / 1e12
      let bytes =
        Double(p.m * p.k) * Double(GEMMPlanner.bytes(p.aType, device))
        + Double(p.k * p.n) * Double(GEMMPlanner.bytes(p.bType, device))
        + Double(p.m * p.n) * Double(GEMMPlanner.bytes(p.outType, device))
      rows[i].computeBound = flops / bytes >= ridge
    }
    context.stdout.write(format == .json ? json(rows) : text(rows, device: device))
    return .success
  }

  /// Mean absolute percentage error of `rows`, nil without rows.
  static func mape(_ rows: [Row]) -> Double? {
    rows.isEmpty ? nil : rows.map { abs($0.error) }.reduce(0, +) / Double(rows.count) * 100
  }

  static func text(_ rows: [Row], device: DeviceConfig) -> String {
    // The overhead column only when some row has one.
    let overheads = rows.contains { $0.overheadMicroseconds > 0 }
    let table = rows.map { r in
      [
        "\(r.m)×\(r.n)×\(r.k)", r.computeBound ? "compute" : "memory", TextReport.fixed(r.measured, 2),
        TextReport.fixed(r.simulated, 2), TextReport.fixed(r.simulated / r.measured, 3),
        TextReport.fixed(100 * r.error, 1) + " %",
      ] + (overheads ? [TextReport.fixed(r.overheadMicroseconds, 2)] : []) + [r.source]
    }
    var out = "fp8sim validate: \(rows.count) GEMMs on \(device.name), timing-only\n\n"
    out += TextTable(
      header: ["shape", "bound", "measured TFLOP/s", "simulated", "ratio", "error"]
        + (overheads ? ["overhead µs"] : []) + ["source"], rows: table,
      rightAligned: overheads ? [2, 3, 4, 5, 6] : [2, 3, 4, 5], underline: true
    ).render()
    func line(_ what: String, _ subset: [Row]) -> String {
      guard let e = mape(subset) else { return "\(what): no rows\n" }
      return "\(what): \(TextReport.fixed(e, 1)) % over \(subset.count) rows\n"
    }
    out +=
      "\n" + line("MAPE", rows) + line("MAPE, compute-bound", rows.filter(\.computeBound))
      + line("MAPE, memory-bound", rows.filter { !$0.computeBound })
    return out
  }

  static func json(_ rows: [Row]) -> String {
    func number(_ x: Double?) -> String { x.flatMap { $0.isFinite ? ValueText.exact($0) : nil } ?? "null" }
    var out = "{\n  \"rows\": [\n"
    out += rows.map { r in
      "    {\"m\": \(r.m), \"n\": \(r.n), \"k\": \(r.k), \"measured\": \(number(r.measured)), \"simulated\": \(number(r.simulated)), \"error\": \(number(r.error)), \"overheadUs\": \(number(r.overheadMicroseconds)), \"bound\": \"\(r.computeBound ? "compute" : "memory")\", \"source\": \"\(JSONParser.escaped(r.source))\"}"
    }.joined(separator: ",\n")
    out += "\n  ],\n"
    out += "  \"mape\": \(number(mape(rows))),\n"
    out += "  \"mapeComputeBound\": \(number(mape(rows.filter(\.computeBound)))),\n"
    out += "  \"mapeMemoryBound\": \(number(mape(rows.filter { !$0.computeBound })))\n}\n"
    return out
  }

  /// `m,n,k,tflops` with optional `source,a_type,b_type,out_type,overhead_us`, in any order,
  /// one header line; `#` starts a comment line. `overhead_us` is time the measurement includes
  /// beyond the kernel (the per-call host cost of a timed loop), added to the simulated time. Errors name the file, line and column.
  static func parse(_ text: String, path: String) throws -> [Row] {
    var header: [String: Int]?
    var rows: [Row] = []
    // Lines end in LF, CRLF or CR (a CRLF is one Character); a UTF-8 byte-order mark is skipped.
    let body = text.hasPrefix("\u{FEFF}") ? Substring(text.dropFirst()) : Substring(text)
    let lines = body.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
    for (i, line) in lines.enumerated() {
      if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
      let cells = line.split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      func fail(_ message: String, cell: Int? = nil) -> CommandFailure {
        var column = 1
        if let cell { column += cells[0..<cell].reduce(0) { $0 + $1.count + 1 } }
        return CommandFailure("\(path):\(i + 1):\(column): error: \(message)", status: .dataError)
      }
      guard let columns = header else {
        var h: [String: Int] = [:]
        for (j, name) in cells.enumerated() {
          if name.contains("\"") { throw fail("quoted cells are not supported", cell: j) }
          if h[name] != nil, !name.isEmpty {
            throw fail("column '\(Printable.quoted(name))' appears twice", cell: j)
          }
          h[name] = j
        }
        for required in ["m", "n", "k", "tflops"] where h[required] == nil {
          throw fail("the header must name the columns m, n, k and tflops; '\(required)' is missing")
        }
        header = h
        continue
      }
      func cell(_ name: String) -> (String, Int)? {
        guard let j = columns[name], j < cells.count, !cells[j].isEmpty else { return nil }
        return (cells[j], j)
      }
      /// A plain decimal number (no sign, hexadecimal or `inf`/`nan` spelling).
      func decimal(_ s: String) -> Double? {
        guard let f = s.first, f.isASCII, f.isNumber || f == ".",
          s.allSatisfy({ $0.isASCII && ($0.isNumber || ".eE+-".contains($0)) })
        else { return nil }
        return Double(s)
      }
      func size(_ name: String) throws -> Int {
        guard let (s, j) = cell(name) else { throw fail("missing \(name)") }
        guard s.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(s),
          (1...ProgramLimits.maxDimension).contains(v)
        else {
          throw fail("\(name) must be an integer 1...2^32, got '\(Printable.quoted(s))'", cell: j)
        }
        return v
      }
      let (m, n, k) = (try size("m"), try size("n"), try size("k"))
      guard let (t, j) = cell("tflops") else { throw fail("missing tflops") }
      guard let tflops = decimal(t), tflops >= 1e-9, tflops <= 1e9 else {
        throw fail("tflops must be a number in 1e-9...1e9, got '\(Printable.quoted(t))'", cell: j)
      }
      var problem = GEMMPlanner.Problem(m: m, n: n, k: k)
      for (option, keyPath) in [
        ("a_type", \GEMMPlanner.Problem.aType), ("b_type", \.bType), ("out_type", \.outType),
      ] {
        guard let (s, j) = cell(option) else { continue }
        guard let type = DType.named(s) else {
          throw fail("unknown element type '\(Printable.quoted(s))'", cell: j)
        }
        problem[keyPath: keyPath] = type
      }
      var overhead = 0.0
      if let (o, j) = cell("overhead_us") {
        guard let v = decimal(o), v >= 0, v <= 1e9 else {
          throw fail(
            "overhead_us must be a number of microseconds in 0...1e9, got '\(Printable.quoted(o))'", cell: j)
        }
        overhead = v
      }
      rows.append(
        Row(
          m: m, n: n, k: k, measured: tflops, source: cell("source")?.0 ?? "", overheadMicroseconds: overhead,
          problem: problem))
    }
    guard header != nil else {
      throw CommandFailure(
        "\(path): error: empty file: expected a header line m,n,k,tflops", status: .dataError)
    }
    guard !rows.isEmpty else {
      throw CommandFailure("\(path): error: no measurements after the header line", status: .dataError)
    }
    return rows
  }
}
