import FP8ISA
import FP8Sim

/// `fp8sim check`: assembles a program and reports what it declares, or every error.
enum CheckCommand: Command {
  static let name = "check"
  static let summary = "Assemble a program and report its errors (or a summary)."
  static let synopsis = "PROGRAM.isa [--set NAME=VALUE]... [--device D] [--print]"
  static let options: [CommandOption] = [
    ProgramLoading.setOption,
    CommandOption(
      "--device", value: "D",
      help: "Also check the program against a device (a preset or a JSON file): that its sram tensors fit."),
    CommandOption("--print", help: "Print the program in canonical form instead of a summary."),
  ]

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    guard arguments.positionals.count == 1 else {
      throw UsageError(arguments.positionals.isEmpty ? "missing PROGRAM.isa" : "expected one program")
    }
    let path = arguments.positionals[0]
    let program = try ProgramLoading.load(path, overrides: try ProgramLoading.overrides(arguments))
    if arguments.value("--device") != nil || program.device != nil {
      // The device the run would use (`--device`, else the program's `.device`), and what the
      // run would check before its first instruction (SRAM capacity, address space).
      let device = try DeviceLoading.device(for: program, option: arguments.value("--device"))
      var options = RunOptions()
      options.timingOnly = true
      do {
        _ = try Machine(program: program, device: device, options: options)
      } catch {
        throw CommandFailure(error.rendered(source: program.source), status: .dataError)
      }
    }
    if arguments.has("--print") {
      context.stdout.write(Disassembler.text(of: program))
      return .success
    }
    let dram = program.tensors.filter { $0.space == .dram }
    let sram = program.tensors.filter { $0.space == .sram }
    let acc = program.tensors.filter { $0.space == .acc }.reduce(0) { $0 + $1.byteCount }
    context.stdout.line(
      "\(path): ok: \(program.instructions.count) instructions, \(program.tensors.count) tensors"
        + " (\(dram.reduce(0) { $0 + $1.byteCount }) bytes in dram, \(sram.reduce(0) { $0 + $1.byteCount }) bytes of sram"
        + (acc > 0 ? " and \(acc) bytes of acc" : "") + " per tile),"
        + " \(program.params.count) parameters, \(program.outputs.count) outputs")
    return .success
  }
}
