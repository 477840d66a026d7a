import FP8ISA
import Foundation

/// Reading and assembling a program file, shared by `check`, `run` and `compare`.
enum ProgramLoading {
  /// The `--set NAME=VALUE` option, shared by every command that assembles programs.
  static let setOption = CommandOption(
    "--set", value: "NAME=VALUE", repeatable: true,
    help: "Override a .param value (a constant expression); may be repeated.")

  /// Parses every `--set NAME=VALUE`.
  static func overrides(_ arguments: ParsedArguments) throws(UsageError) -> [String: String] {
    var result: [String: String] = [:]
    for item in arguments.all("--set") {
      guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
        throw UsageError("--set needs NAME=VALUE, got '\(item)'")
      }
      let name = String(item[..<eq])
      guard result[name] == nil else { throw UsageError("--set \(name) given twice") }
      result[name] = String(item[item.index(after: eq)...])
    }
    return result
  }

  /// The files a program reads: itself and its data files (relative to its folder).
  static func inputPaths(_ program: Program, path: String) -> [String] {
    let base = URL(fileURLWithPath: path).deletingLastPathComponent()
    var paths = [path]
    for t in program.tensors {
      switch t.initializer {
      case .npy(let p), .safetensors(let p, _):
        paths.append(p.hasPrefix("/") ? p : base.appendingPathComponent(p).path)
      default: break
      }
    }
    return paths
  }

  /// Reads and assembles `path`; failures are already formatted for the user. An override of a
  /// parameter the program does not declare is a usage error unless `lenient` (`compare` checks
  /// instead that some program declares it).
  static func load(_ path: String, overrides: [String: String], lenient: Bool = false) throws -> Program {
    let url = URL(fileURLWithPath: path)
    let text: String
    do {
      let data = try Data(contentsOf: url)
      guard data.count <= ProgramLimits.maxSourceBytes else {
        throw CommandFailure(
          "\(path): error: program is larger than \(ProgramLimits.maxSourceBytes) bytes", status: .dataError)
      }
      guard let decoded = String(data: data, encoding: .utf8) else {
        throw CommandFailure("\(path): error: the file is not UTF-8 text", status: .dataError)
      }
      text = decoded
    } catch let failure as CommandFailure {
      throw failure
    } catch {
      throw UsageError("cannot read '\(path)'")
    }
    let program: Program
    do {
      program = try Assembler.assemble(
        SourceFile(path: path, text: text),
        options: Assembler.Options(overrides: overrides, baseDirectory: url.deletingLastPathComponent()))
    } catch {
      throw CommandFailure(error.description, status: .dataError)
    }
    let declared = Set(program.params.map(\.name))
    if !lenient, let unknown = overrides.keys.sorted().first(where: { !declared.contains($0) }) {
      let names = program.params.map(\.name).joined(separator: ", ")
      throw UsageError(
        "--set \(unknown): '\(path)' declares no parameter '\(unknown)'"
          + (names.isEmpty ? "" : " (parameters: \(names))"))
    }
    return program
  }
}
