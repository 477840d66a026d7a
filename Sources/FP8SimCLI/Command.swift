/// What every subcommand gets: its arguments and the three standard streams.
public struct CommandContext {
  public var arguments: [String]
  public var stdout: any OutputSink
  public var stderr: any OutputSink
  /// Reads the next chunk of standard input (nil at its end); only called by commands that
  /// need it, which stream through it. A read that fails (standard input a directory, or
  /// closed) throws, status 74: it is never taken for the end of the input.
  public var readStandardInput: () throws -> [UInt8]?

  public init(
    arguments: [String], stdout: any OutputSink, stderr: any OutputSink,
    readStandardInput: @escaping () throws -> [UInt8]?
  ) {
    self.arguments = arguments
    self.stdout = stdout
    self.stderr = stderr
    self.readStandardInput = readStandardInput
  }
}

/// A subcommand: its name, one-line summary, option table and body.
public protocol Command {
  static var name: String { get }
  static var summary: String { get }
  /// The argument synopsis after the command name, e.g. `--format F [VALUES...]`.
  static var synopsis: String { get }
  static var options: [CommandOption] { get }
  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode
}

extension Command {
  static var helpText: String {
    var text = "usage: fp8sim \(name) \(synopsis)\n\n\(summary)\n"
    let rows = (options + [CommandOption("--help", help: "Show this help.")])
    if !rows.isEmpty {
      text += "\noptions:\n"
      let width = rows.map(\.usageText.count).max() ?? 0
      for option in rows {
        text +=
          "  " + option.usageText.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
          + option.help + "\n"
      }
    }
    return text
  }
}
