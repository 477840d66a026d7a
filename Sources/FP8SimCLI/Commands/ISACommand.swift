import FP8ISA

/// `fp8sim isa`: prints the ISA reference generated from the opcode table (`isa/ISA.md`).
enum ISACommand: Command {
  static let name = "isa"
  static let summary = "Print the ISA reference (the Markdown of isa/ISA.md)."
  static let synopsis = ""
  static let options: [CommandOption] = []

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    try arguments.expectNoPositionals()
    context.stdout.write(ISADocument.markdown())
    return .success
  }
}
