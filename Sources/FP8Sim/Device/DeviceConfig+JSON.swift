import FP8Formats
import FP8ISA
import Foundation

/// A device file that cannot be used, with every problem found.
public struct DeviceFileError: Error, Sendable, CustomStringConvertible {
  public var path: String
  public var problems: [String]
  public var description: String {
    problems.map { "\(path): error: \($0)" }.joined(separator: "\n")
  }
}

extension DeviceConfig {
  /// Largest device file accepted.
  public static let maxFileBytes = 1 << 20

  /// Reads a device file: JSON5 (comments, trailing commas, unquoted keys allowed). Fields left
  /// out take the values of `base` (a preset name, default `teach`) or, without `base`, the
  /// defaults. Unknown fields, wrong types and values out of range are errors.
  public static func load(_ url: URL) throws(DeviceFileError) -> DeviceConfig {
    let path = url.path
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw DeviceFileError(path: path, problems: ["cannot read the device file"])
    }
    guard data.count <= maxFileBytes else {
      throw DeviceFileError(path: path, problems: ["device file is larger than \(maxFileBytes) bytes"])
    }
    return try parse(data, path: path)
  }

  public static func parse(_ data: Data, path: String) throws(DeviceFileError) -> DeviceConfig {
    let decoder = JSONDecoder()
    decoder.allowsJSON5 = true
    let root: JSONValue
    do {
      root = try decoder.decode(JSONValue.self, from: data)
    } catch {
      throw DeviceFileError(path: path, problems: ["not valid JSON5: \(describe(error))"])
    }
    guard case .object(let object) = root else {
      throw DeviceFileError(path: path, problems: ["the device file must be a JSON object"])
    }
    var problems: [String] = []
    var config = DeviceConfig()
    if let base = object["base"] {
      if case .string(let name) = base, let preset = preset(named: name) {
        config = preset
        config.name = name + "-custom"
      } else {
        problems.append("'base' must name a preset: " + presets.map(\.name).joined(separator: ", "))
      }
    }
    var flat: [String: JSONValue] = [:]
    flatten(object, prefix: "", into: &flat, problems: &problems)
    flat["base"] = nil
    let known = Dictionary(uniqueKeysWithValues: fields.map { ($0.path, $0) })
    for (key, value) in flat.sorted(by: { $0.key < $1.key }) {
      guard let field = known[key] else {
        let nearest = fields.map(\.path).min {
          Assembler.editDistance($0, key) < Assembler.editDistance($1, key)
        }
        problems.append("unknown field '\(key)'" + (nearest.map { " (did you mean '\($0)'?)" } ?? ""))
        continue
      }
      if let problem = config.set(field, value) { problems.append(problem) }
    }
    problems += config.validate()
    if !problems.isEmpty { throw DeviceFileError(path: path, problems: problems) }
    return config
  }

  /// Sets one field from JSON, returning a problem description if the value does not fit.
  mutating func set(_ field: DeviceField, _ value: JSONValue) -> String? {
    switch field.kind {
    case .int(let keyPath, let range):
      guard case .number(let n) = value, n.rounded() == n, n.magnitude < 9e18 else {
        return "'\(field.path)' must be an integer, got \(value.typeName)"
      }
      guard range.contains(Int(n)) else {
        return "'\(field.path)' = \(Int(n)) is outside \(range.lowerBound)...\(range.upperBound)"
      }
      self[keyPath: keyPath] = Int(n)
    case .double(let keyPath, let range):
      guard case .number(let n) = value else {
        return "'\(field.path)' must be a number, got \(value.typeName)"
      }
      guard n.isFinite, range.contains(n) else {
        return "'\(field.path)' = \(n) is outside \(range.lowerBound)...\(range.upperBound)"
      }
      self[keyPath: keyPath] = n
    case .string(let keyPath, let allowed):
      guard case .string(let s) = value else {
        return "'\(field.path)' must be a string, got \(value.typeName)"
      }
      if let allowed, !allowed.contains(s) {
        return "'\(field.path)' must be one of \(allowed.joined(separator: ", ")), got '\(s)'"
      }
      self[keyPath: keyPath] = s
    }
    return nil
  }

  static func flatten(
    _ object: [String: JSONValue], prefix: String, into flat: inout [String: JSONValue],
    problems: inout [String]
  ) {
    for (key, value) in object {
      let path = prefix.isEmpty ? key : prefix + "." + key
      if case .object(let inner) = value {
        flatten(inner, prefix: path, into: &flat, problems: &problems)
      } else {
        flat[path] = value
      }
    }
  }

  static func describe(_ error: any Error) -> String {
    if case DecodingError.dataCorrupted(let context) = error {
      return context.debugDescription
    }
    return "\(error)"
  }

  /// The device as a commented JSON5 document that `load` reads back to the same device.
  public func json5() -> String {
    var lines = [
      "// fp8sim device description. Every field is optional: a missing field takes the value",
      "// of the preset named by \"base\" (or the built-in default). See docs/devices.md.", "{",
    ]
    var openGroups: [String] = []
    for field in Self.fields {
      let parts = field.path.split(separator: ".").map(String.init)
      let groups = Array(parts.dropLast())
      var common = 0
      while common < min(groups.count, openGroups.count), groups[common] == openGroups[common] { common += 1 }
      while openGroups.count > common {
        openGroups.removeLast()
        lines.append(String(repeating: "  ", count: openGroups.count + 1) + "},")
      }
      while openGroups.count < groups.count {
        lines.append(String(repeating: "  ", count: openGroups.count + 1) + "\(groups[openGroups.count]): {")
        openGroups.append(groups[openGroups.count])
      }
      let indent = String(repeating: "  ", count: openGroups.count + 1)
      let unit = field.unit.isEmpty ? "" : " [\(field.unit)]"
      lines.append(indent + "// \(field.help)\(unit)")
      lines.append(indent + "\(parts.last!): \(valueText(field)),")
    }
    while !openGroups.isEmpty {
      openGroups.removeLast()
      lines.append(String(repeating: "  ", count: openGroups.count + 1) + "},")
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }

  func valueText(_ field: DeviceField) -> String {
    switch field.kind {
    case .int(let kp, _): return String(self[keyPath: kp])
    case .double(let kp, _): return ValueText.exact(self[keyPath: kp])
    case .string(let kp, _):
      let s = self[keyPath: kp]
      return "\""
        + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
  }
}
