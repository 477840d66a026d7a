import FP8Data
import FP8Sim
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `fp8sim merge`: the results of a plan's jobs (`compare --plan`), or of separate `compare` and
/// `run` invocations, put back together and printed as one `compare` would have printed them.
enum MergeCommand: Command {
  static let name = "merge"
  static let summary =
    "Put the JSON results of compare --plan's jobs (or of separate compare and run calls) together, as one compare prints them."
  static let synopsis = "RESULT.json... [--format text|json]"
  static let options: [CommandOption] = [
    CommandOption("--format", value: "F", help: "text (default) or json: the same documents as compare.")
  ]

  /// The largest result file read (a report is a few kilobytes; a compare of many runs more).
  static let maxFileBytes = 1 << 28

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    guard !arguments.positionals.isEmpty else { throw UsageError("missing result files to merge") }
    let format = try arguments.choice("--format", default: RunCommand.Format.text)
    var runs: [CompareCommand.Run] = []
    var sweeps: [String?] = []
    for path in arguments.positionals {
      let file = try read(path)
      runs += file.runs
      sweeps.append(file.sweep)
    }
    // A sweep when every file is part of the same one: rows per run, as compare --sweep prints.
    let sweep = sweeps.first.flatMap { $0 }.flatMap { name in sweeps.allSatisfy { $0 == name } ? name : nil }
    context.stdout.write(CompareCommand.render(runs, sweep: sweep, format: format))
    return .success
  }

  /// The runs of one file: a `compare --format json` document (`fp8sim-compare/1`, labels and
  /// the swept name as written) or a `run --format json` report (`fp8sim-report/1`, labelled by
  /// its program's file name).
  static func read(_ path: String) throws -> (runs: [CompareCommand.Run], sweep: String?) {
    func failure(_ message: String, at location: JSONLocation? = nil) -> CommandFailure {
      CommandFailure(
        "\(path):\(location.map { "\($0):" } ?? "") error: \(message)", status: .dataError)
    }
    let data: Data
    do {
      // Opened without blocking (a FIFO nobody writes to reads as empty instead of hanging),
      // then read normally (a pipe being written, as `<(...)` gives, is waited for).
      let fd = open(path, O_RDONLY | O_NONBLOCK)
      guard fd >= 0 else { throw CommandFailure("\(path): error: cannot read the file", status: .ioError) }
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
      let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
      data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
    } catch let failure as CommandFailure {
      throw failure
    } catch {
      throw CommandFailure("\(path): error: cannot read the file", status: .ioError)
    }
    guard data.count <= maxFileBytes else { throw failure("the file is larger than \(maxFileBytes) bytes") }
    guard !data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
      throw failure("the file is empty (did the job that writes it fail?)")
    }
    let root: JSONNode
    do {
      root = try JSONParser.parse(Array(data), syntax: .json)
    } catch {
      throw failure(
        error.kind == .syntax ? "not valid JSON: \(error.message)" : error.message, at: error.location)
    }
    guard let schema = root["schema"], case .string(let name) = schema.value else {
      throw failure("not a result of fp8sim compare or run (no \"schema\")", at: root.location)
    }
    func report(_ node: JSONNode, at prefix: String) throws -> Report {
      do {
        return try Report.decode(node)
      } catch {
        throw failure("\(prefix)\(error.path): \(error.message)", at: node.location)
      }
    }
    switch name {
    case Report.schema:
      let r = try report(root, at: "")
      return ([CompareCommand.Run(label: CompareCommand.label(of: r.program), report: r)], nil)
    case CompareCommand.schema:
      var sweep: String?
      if let node = root["sweep"] {
        guard case .string(let s) = node.value else {
          throw failure("\"sweep\" must be a string", at: node.location)
        }
        sweep = s
      }
      guard let list = root["runs"], case .array(let elements) = list.value else {
        throw failure("\"runs\" must be an array", at: root.location)
      }
      guard !elements.isEmpty else { throw failure("\"runs\" is empty", at: list.location) }
      var runs: [CompareCommand.Run] = []
      for (n, element) in elements.enumerated() {
        guard let labelNode = element["label"], case .string(let label) = labelNode.value else {
          throw failure("runs[\(n)].label must be a string", at: element.location)
        }
        guard let reportNode = element["report"] else {
          throw failure("runs[\(n)] has no report", at: element.location)
        }
        guard let inner = reportNode["schema"], case .string(Report.schema) = inner.value else {
          throw failure("runs[\(n)].report.schema must be \"\(Report.schema)\"", at: reportNode.location)
        }
        runs.append(
          CompareCommand.Run(label: label, report: try report(reportNode, at: "runs[\(n)].report.")))
      }
      return (runs, sweep)
    default:
      throw failure(
        "schema '\(name)' is not one merge reads (\(CompareCommand.schema) or \(Report.schema))",
        at: schema.location)
    }
  }
}
