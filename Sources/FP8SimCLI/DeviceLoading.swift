import FP8ISA
import FP8Sim
import Foundation

/// Finding the device a run uses: `--device` (a preset or a JSON file), else the program's
/// `.device` (a preset, or a file relative to the program), else `teach`.
enum DeviceLoading {
  static let deviceOption = CommandOption(
    "--device", value: "D",
    help: "A preset (" + DeviceConfig.presets.map(\.name).joined(separator: ", ")
      + ") or a device JSON file; overrides .device.")

  static func device(for program: Program, option: String?) throws -> DeviceConfig {
    if let option { return try load(option, relativeTo: nil) }
    if let name = program.device {
      do {
        return try load(
          name, relativeTo: URL(fileURLWithPath: program.source.path).deletingLastPathComponent())
      } catch let error as UsageError {
        // The program named it: a program error at the directive, rendered like the assembler's.
        guard let at = program.deviceLocation else {
          throw CommandFailure("\(program.source.path): error: \(error.message)", status: .dataError)
        }
        let diagnostic = Diagnostic(DiagnosticMessage(id: "device", error.message), at: at)
        throw CommandFailure(diagnostic.rendered(source: program.source), status: .dataError)
      }
    }
    return .teach
  }

  /// The device file a run reads, if the device is a file (for `OutputFiles`).
  static func filePath(for program: Program, option: String?) -> String? {
    let name = option ?? program.device
    guard let name, DeviceConfig.preset(named: name) == nil else { return nil }
    if name.hasPrefix("/") || option != nil { return name }
    return URL(fileURLWithPath: program.source.path).deletingLastPathComponent().appendingPathComponent(name)
      .path
  }

  static func load(_ name: String, relativeTo base: URL?) throws -> DeviceConfig {
    if let preset = DeviceConfig.preset(named: name) { return preset }
    guard name.hasSuffix(".json") || name.hasSuffix(".json5") || name.contains("/") else {
      throw UsageError(
        "unknown device '\(Printable.quoted(name))'; presets: "
          + DeviceConfig.presets.map(\.name).joined(separator: ", ")
          + ", or a .json device file")
    }
    let url =
      name.hasPrefix("/") || base == nil ? URL(fileURLWithPath: name) : base!.appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: url.path) else {
      // Named by the program: located at its `.device` (65); named by --device: a data error too.
      let message = "cannot read the device file '\(Printable.quoted(url.path))': no such file"
      if base != nil { throw UsageError(message) }
      throw CommandFailure("\(Printable.quoted(url.path)): error: \(message)", status: .dataError)
    }
    do {
      return try DeviceConfig.load(url)
    } catch {
      throw CommandFailure(error.description, status: .dataError)
    }
  }
}
