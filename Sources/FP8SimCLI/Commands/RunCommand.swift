import FP8ISA
import FP8Sim
import Foundation

/// `fp8sim run`: assemble, simulate, report.
enum RunCommand: Command {
  static let name = "run"
  static let summary = "Run a program on a device; report cycles, traffic, energy and output error."
  static let synopsis =
    "PROGRAM.isa [--device D] [--set NAME=VALUE]... [--format text|json] [--trace FILE] [--timing-only] [--dump DIR]"
  static let options: [CommandOption] =
    [
      DeviceLoading.deviceOption,
      ProgramLoading.setOption,
      CommandOption(
        "--format", value: "F", help: "Report format: text (default) or json (schema in docs/report.md)."),
      CommandOption(
        "--trace", value: "FILE", help: "Write a Chrome trace (open in Perfetto) of unit activity."),
      CommandOption(
        "--trace-limit", value: "N",
        help: "Most events in the trace (default 1000000, at most 16777216; about 48 bytes each)."),
      CommandOption("--timing-only", help: RunCommand.timingOnlyHelp),
      CommandOption(
        "--dump", value: "DIR",
        help:
          "Write each output to DIR as NAME.npy (device values, f32), NAME.ref.npy (FP32 shadow) and, for 8- and 16-bit types, NAME.codes.npy (raw codes)."
      ),
    ] + RunCommand.limitOptions

  static let timingOnlyHelp =
    "Skip values: only cycles, traffic and energy (host time grows with instructions and L2 lines, not with tensor sizes)."

  /// The run limits, shared with `compare` (docs/performance.md explains the defaults).
  static let limitOptions = [
    CommandOption(
      "--max-instructions", value: "N",
      help: "Fault after N executed instructions, all tiles (default 16777216 = 2^24: seconds)."),
    CommandOption(
      "--max-work", value: "N",
      help: "Fault after N work units: MACs, vector and DMA elements, L2 lines, weighted (default 2^34)."),
  ]

  enum Format: String, CaseIterable { case text, json }

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    guard arguments.positionals.count == 1 else {
      throw UsageError(arguments.positionals.isEmpty ? "missing PROGRAM.isa" : "expected one program")
    }
    let path = arguments.positionals[0]
    let format = try arguments.choice("--format", default: Format.text)
    let tracePath = arguments.value("--trace")
    let dumpDirectory = arguments.value("--dump")
    var files = OutputFiles(command: name)
    // Every output is planned before the run: none overwrites an input or shares a name.
    let (program, result) = try simulate(path, arguments: arguments) { program, device in
      for input in ProgramLoading.inputPaths(program, path: path) { files.addInput(input) }
      if let devicePath = DeviceLoading.filePath(for: program, option: arguments.value("--device")) {
        files.addInput(devicePath)
      }
      if let dir = dumpDirectory {
        try files.plan(dir, as: "--dump folder")
        let outputs = program.outputs.map { i in
          let t = program.tensors[i]
          // Block-scaled outputs have no codes file (`Dump`): counted as wide.
          let bits = t.dtype.blocking != nil ? 32 : t.dtype.resolved(e4: device.e4, e5: device.e5).totalBits
          return (name: t.name, bits: bits)
        }
        for file in Dump.fileNames(outputs: outputs) {
          try files.plan(URL(fileURLWithPath: dir).appendingPathComponent(file).path, as: "--dump file")
        }
      }
      if let tracePath { try files.plan(tracePath, as: "--trace") }
    } onFault: { machine, fault in
      // The trace up to the fault: when it is most wanted.
      if let tracePath {
        let partial = machine.partialTrace
        try files.write(tracePath, what: "the trace") { file in
          try ChromeTrace.write(
            partial.trace, device: machine.device, cycles: partial.cycles, programPath: path, fault: fault
          ) { try file.append($0) }
        }
      }
    }
    if let dir = dumpDirectory {
      do {
        try FileManager.default.createDirectory(
          at: URL(fileURLWithPath: dir), withIntermediateDirectories: true)
      } catch {
        throw CommandFailure(
          "fp8sim run: error: cannot create the --dump folder '\(Printable.quoted(dir))': \(error.localizedDescription)",
          status: .ioError)
      }
      for file in Dump.files(result) {
        try files.write(URL(fileURLWithPath: dir).appendingPathComponent(file.name).path, what: "--dump file")
        {
          try $0.append(file.data)
        }
      }
    }
    if let tracePath {
      try files.write(tracePath, what: "the trace") { file in
        try ChromeTrace.write(
          result.trace, device: result.device, cycles: result.cycles, programPath: program.source.path
        ) { try file.append($0) }
      }
    }
    let report = Report(result: result, program: program)
    context.stdout.write(format == .json ? report.json() : TextReport.render(report))
    return .success
  }

  /// Assembles and runs one program with the options of `run` (shared with `compare`).
  /// `prepare` sees the program and device before the run (to plan outputs); `onFault` sees the
  /// machine and the fault's text when the run faults, before the fault is reported.
  static func simulate(
    _ path: String, arguments: ParsedArguments, lenient: Bool = false,
    prepare: (Program, DeviceConfig) throws -> Void = { _, _ in },
    onFault: (Machine, String) throws -> Void = { _, _ in }
  ) throws -> (Program, RunResult) {
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
        "--trace-limit", default: 1_000_000, range: 1...RunOptions.maxTraceEvents)
    }
    try prepare(program, device)
    var machine: Machine?
    do {
      machine = try Machine(program: program, device: device, options: options)
      return (program, try machine!.run())
    } catch {
      let rendered = error.rendered(source: program.source)
      if let machine {
        do {
          try onFault(machine, error.description)
        } catch let failure as CommandFailure {
          // The fault is still reported, then why the trace could not be written (status 74).
          throw CommandFailure(rendered + failure.message, status: failure.status)
        }
      }
      throw CommandFailure(rendered, status: .runtimeFault)
    }
  }
}
