import FP8ISA

/// `fp8sim isa`: prints the ISA reference generated from the opcode table (`isa/ISA.md`).
enum ISACommand: Command {
  static let name = "isa"
  static let summary = "Print the ISA reference (the Markdown of isa/ISA.md)."
  static let synopsis = ""
  static let options: [OptionSpec] = []

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    guard arguments.positionals.isEmpty else {
      throw UsageError("unexpected argument '\(arguments.positionals[0])'")
    }
    context.stdout.write(ISADocument.markdown())
    return .success
  }
}
