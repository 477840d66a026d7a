import FP8ISA
import Foundation

/// The `fp8sim` command line: dispatches to a subcommand and maps errors to exit statuses.
public enum CLI {
  /// All subcommands, in the order `fp8sim --help` lists them.
  static var commands: [any Command.Type] {
    [
      QuantizeCommand.self,
      FormatsCommand.self,
      CheckCommand.self,
      ISACommand.self,
      RunCommand.self,
      CompareCommand.self,
      MergeCommand.self,
      GenCommand.self,
      ValidateCommand.self,
      ModelCommand.self,
      TrainCommand.self,
      DevicesCommand.self,
      BenchCommand.self,
    ]
  }

  /// Runs the process's command line and exits with its status. A failed write to standard
  /// output (a full disk, a closed pipe) is reported on standard error with status 74.
  public static func exitWithMain() -> Never {
    // A closed pipe is a write error we report, not a signal that kills the process.
    signal(SIGPIPE, SIG_IGN)
    keepFreedMemoryForReuse()
    let stdout = FileSink(descriptor: STDOUT_FILENO)
    let stderr = FileSink(descriptor: STDERR_FILENO, unbuffered: true)
    var status = main(
      Array(CommandLine.arguments.dropFirst()), stdout: stdout, stderr: stderr,
      readStandardInput: {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
          let n = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress!, $0.count) }
          if n < 0 && errno == EINTR { continue }
          if n < 0 {
            throw CommandFailure(
              "fp8sim: error: cannot read standard input: \(String(cString: strerror(errno)))",
              status: .ioError)
          }
          return n > 0 ? Array(chunk[0..<n]) : nil
        }
      })
    stdout.flush()
    if let failure = stdout.failure {
      stderr.line("fp8sim: error: cannot write to standard output: \(failure)")
      status = .ioError
    }
    exit(status.rawValue)
  }

  /// Runs `fp8sim` with `arguments` (without the program name). Testable in process.
  public static func main(
    _ arguments: [String], stdout: any OutputSink, stderr: any OutputSink,
    readStandardInput: @escaping () throws -> [UInt8]? = { nil }
  ) -> ExitCode {
    if arguments.first == "help", arguments.count > 2 {
      stderr.line("fp8sim: error: 'help' takes one command, e.g. 'fp8sim help run'")
      return .usage
    }
    if arguments.isEmpty {
      stdout.write(generalHelp)
      stderr.line("fp8sim: error: no command given; see the list above")
      return .usage
    }
    if arguments.first == "help", arguments.count == 2 {
      // `fp8sim help run` is `fp8sim run --help`.
      guard let command = commands.first(where: { $0.name == arguments[1] }) else {
        stderr.line("fp8sim: error: unknown command '\(Printable.quoted(arguments[1]))'; see 'fp8sim --help'")
        return .usage
      }
      stdout.write(command.helpText)
      return .success
    }
    guard let first = arguments.first, first != "--help", first != "-h", first != "help" else {
      stdout.write(generalHelp)
      return .success
    }
    if first == "--version" {
      stdout.line("fp8sim \(version)")
      return .success
    }
    guard let command = commands.first(where: { $0.name == first }) else {
      stderr.line("fp8sim: error: unknown command '\(Printable.quoted(first))'; see 'fp8sim --help'")
      return .usage
    }
    let rest = Array(arguments.dropFirst())
    if rest.contains("--help") {
      stdout.write(command.helpText)
      return .success
    }
    let context = CommandContext(
      arguments: rest, stdout: stdout, stderr: stderr, readStandardInput: readStandardInput)
    do {
      let parsed = try ParsedArguments.parse(rest, specs: command.options)
      return try command.run(parsed, context)
    } catch let error as UsageError {
      stderr.line("fp8sim \(command.name): error: \(Printable.quoted(error.message))")
      return .usage
    } catch let error as CommandFailure {
      stderr.write(error.message.hasSuffix("\n") ? error.message : error.message + "\n")
      return error.status
    } catch {
      stderr.line("fp8sim \(command.name): error: \(error)")
      return .runtimeFault
    }
  }

  public static let version = "0.1.0"

  static var generalHelp: String {
    var text = """
      fp8sim \(version): a cycle-approximate simulator of an FP8 AI accelerator

      usage: fp8sim <command> [options]

      commands:

      """
    let width = commands.map { $0.name.count }.max() ?? 0
    for command in commands {
      text +=
        "  " + command.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
        + command.summary + "\n"
    }
    text += "\nRun 'fp8sim <command> --help' for a command's options.\n"
    return text
  }
}

/// A failure that has already been formatted for the user, with its exit status.
public struct CommandFailure: Error {
  public var message: String
  public var status: ExitCode
  public init(_ message: String, status: ExitCode) {
    self.message = message
    self.status = status
  }
}

#if canImport(Glibc)
  /// glibc's `mallopt` (its header, malloc.h, is not part of the Glibc module).
  @_silgen_name("mallopt") private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// A numeric run allocates and frees operand copies of 64 KiB to a few MiB per `mma`. glibc
/// serves blocks from 128 KiB up with fresh mappings and returns freed memory to the system, so
/// each copy costs a page fault per 4 KiB it touches; kept in the heap for reuse instead, the
/// 2048³ GEMM of docs/performance.md makes 82 k page faults instead of 208 k and runs about 15 %
/// faster, with the same peak memory (what is freed is reused, not added to). The library leaves
/// the allocator alone; this is the command's choice.
private func keepFreedMemoryForReuse() {
  #if canImport(Glibc)
    let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
    let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
    _ = mallopt(mmapThreshold, 1 << 30)
    _ = mallopt(trimThreshold, 1 << 30)
  #endif
}
