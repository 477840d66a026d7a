import FP8ISA
import FP8Sim
import Foundation

/// `fp8sim run`: assemble, simulate, report.
enum RunCommand: Command {
  static let name = "run"
  static let summary = "Run a program on a device; report cycles, traffic, energy and output error."
  static let synopsis =
    "PROGRAM.isa [--device D] [--set NAME=VALUE]... [--format text|json] [--trace FILE] [--timing-only] [--dump DIR]"
  static let options: [OptionSpec] = [
    DeviceLoading.deviceOption,
    ProgramLoading.setOption,
    OptionSpec(
      "--format", value: "F", help: "Report format: text (default) or json (schema in docs/report.md)."),
    OptionSpec("--trace", value: "FILE", help: "Write a Chrome trace (open in Perfetto) of unit activity."),
    OptionSpec("--trace-limit", value: "N", help: "Most events in the trace (default 1000000)."),
    OptionSpec(
      "--timing-only", help: "Skip values: only cycles, traffic and energy; cost independent of tensor sizes."
    ),
    OptionSpec(
      "--dump", value: "DIR", help: "Write each output as NAME.npy, NAME.ref.npy and NAME.codes.npy."),
    OptionSpec(
      "--max-instructions", value: "N", help: "Fault after N executed instructions (default 100000000)."),
    OptionSpec(
      "--max-work", value: "N", help: "Fault after N MACs and element operations (default: no limit)."),
  ]

  enum Format: String, CaseIterable { case text, json }

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    guard arguments.positionals.count == 1 else {
      throw UsageError(arguments.positionals.isEmpty ? "missing PROGRAM.isa" : "expected one program")
    }
    let format = try arguments.choice("--format", default: Format.text)
    let (program, result) = try simulate(arguments.positionals[0], arguments: arguments)
    if let dir = arguments.value("--dump") {
      do {
        try Dump.write(result, to: URL(fileURLWithPath: dir))
      } catch {
        throw CommandFailure(
          "fp8sim run: error: cannot write outputs to '\(dir)': \(error.localizedDescription)",
          status: .ioError)
      }
    }
    if let path = arguments.value("--trace") {
      do {
        try ChromeTrace.json(result, programPath: program.source.path).write(
          to: URL(fileURLWithPath: path), atomically: true, encoding: .utf8)
      } catch {
        throw CommandFailure("fp8sim run: error: cannot write the trace '\(path)'", status: .ioError)
      }
    }
    let report = Report(result: result, program: program)
    context.stdout.write(format == .json ? report.json() : TextReport.render(report))
    return .success
  }

  /// Assembles and runs one program with the options of `run` (shared with `compare`).
  static func simulate(_ path: String, arguments: ParsedArguments, lenient: Bool = false) throws -> (
    Program, RunResult
  ) {
    let program = try ProgramLoading.load(
      path, overrides: try ProgramLoading.overrides(arguments), lenient: lenient)
    let device = try DeviceLoading.device(for: program, option: arguments.value("--device"))
    var options = RunOptions()
    options.timingOnly = arguments.has("--timing-only")
    options.baseDirectory = URL(fileURLWithPath: path).deletingLastPathComponent()
    options.maxInstructions = try arguments.integer(
      "--max-instructions", default: options.maxInstructions, range: 1...Int.max)
    options.maxWork = try arguments.integer("--max-work", default: options.maxWork, range: 1...Int.max)
    if arguments.value("--trace-limit") != nil && arguments.value("--trace") == nil {
      throw UsageError("--trace-limit needs --trace FILE")
    }
    if arguments.value("--trace") != nil {
      options.traceEventLimit = try arguments.integer(
        "--trace-limit", default: 1_000_000, range: 1...100_000_000)
    }
    do {
      let machine = try Machine(program: program, device: device, options: options)
      return (program, try machine.run())
    } catch {
      throw CommandFailure(error.rendered(source: program.source), status: .runtimeFault)
    }
  }
}
