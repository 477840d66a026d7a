import FP8ISA
import FP8Sim
import Foundation

/// Finding the device a run uses: `--device` (a preset or a JSON file), else the program's
/// `.device` (a preset, or a file relative to the program), else `teach`.
enum DeviceLoading {
  static let deviceOption = OptionSpec(
    "--device", value: "D", help: "A preset (teach, h100, ipu) or a device JSON file; overrides .device.")

  static func device(for program: Program, option: String?) throws -> DeviceConfig {
    if let option { return try load(option, relativeTo: nil) }
    if let name = program.device {
      return try load(name, relativeTo: URL(fileURLWithPath: program.source.path).deletingLastPathComponent())
    }
    return .teach
  }

  static func load(_ name: String, relativeTo base: URL?) throws -> DeviceConfig {
    if let preset = DeviceConfig.preset(named: name) { return preset }
    guard name.hasSuffix(".json") || name.hasSuffix(".json5") || name.contains("/") else {
      throw UsageError(
        "unknown device '\(name)'; presets: " + DeviceConfig.presets.map(\.name).joined(separator: ", ")
          + ", or a .json device file")
    }
    let url =
      name.hasPrefix("/") || base == nil ? URL(fileURLWithPath: name) : base!.appendingPathComponent(name)
    do {
      return try DeviceConfig.load(url)
    } catch {
      throw CommandFailure(error.description, status: .dataError)
    }
  }
}
