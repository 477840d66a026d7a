import FP8Data
import FP8Formats
import FP8ISA
import Foundation

/// A device file that cannot be used, with every problem found.
public struct DeviceFileError: Error, Sendable, CustomStringConvertible {
  /// One problem, at a place in the file when it has one (relations between fields have not).
  public struct Problem: Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var location: JSONLocation?
    public init(_ message: String, at location: JSONLocation? = nil) {
      self.message = message
      self.location = location
    }
    public var description: String { message }
  }
  public var path: String
  public var problems: [Problem]
  /// `path:line:col: error: message` (or `path: error: message`), one line per problem.
  public var description: String {
    problems.map { "\(path)\($0.location.map { ":\($0)" } ?? ""): error: \($0.message)" }
      .joined(separator: "\n")
  }
}

extension DeviceConfig {
  /// Largest device file accepted.
  public static let maxFileBytes = 1 << 20
  /// Problems reported for one file before giving up.
  public static let maxProblems = 50

  /// Reads a device file: JSON5 (comments, trailing commas, unquoted keys allowed). Fields left
  /// out take the values of `base` (a preset name, default `teach`) or, without `base`, the
  /// defaults. Unknown fields, wrong types, values out of range and a field given twice (as
  /// `"l2.bytes"` and as `l2: { bytes }`, or one key twice in an object) are errors.
  public static func load(_ url: URL) throws(DeviceFileError) -> DeviceConfig {
    let path = url.path
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw DeviceFileError(path: path, problems: [.init("cannot read the device file")])
    }
    guard data.count <= maxFileBytes else {
      throw DeviceFileError(path: path, problems: [.init("device file is larger than \(maxFileBytes) bytes")])
    }
    return try parse(data, path: path)
  }

  public static func parse(_ data: Data, path: String) throws(DeviceFileError) -> DeviceConfig {
    let root: JSONNode
    do {
      root = try JSONParser.parse(Array(data), syntax: .json5)
    } catch {
      let message = error.kind == .syntax ? "not valid JSON5: \(error.message)" : error.message
      throw DeviceFileError(path: path, problems: [.init(message, at: error.location)])
    }
    guard case .object(let members) = root.value else {
      throw DeviceFileError(
        path: path, problems: [.init("the device file must be a JSON object", at: root.location)])
    }
    var problems: [DeviceFileError.Problem] = []
    var config = DeviceConfig()
    if let base = root["base"] {
      if case .string(let name) = base.value, let preset = preset(named: name) {
        config = preset
        config.name = name + "-custom"
      } else {
        problems.append(
          .init(
            "'base' must name a preset: " + presets.map(\.name).joined(separator: ", "), at: base.location))
      }
    }
    var flat: [FlatField] = []
    var seen: [String: JSONLocation] = [:]
    flatten(members.filter { $0.key != "base" }, prefix: "", into: &flat, seen: &seen, problems: &problems)
    let known = Dictionary(uniqueKeysWithValues: fields.map { ($0.path, $0) })
    var stopped = false
    for entry in flat {
      if problems.count >= maxProblems {
        stopped = true
        break
      }
      guard let field = known[entry.path] else {
        // Suggestions only for names of a plausible length (edit distance is quadratic).
        let nearest =
          entry.path.count > 64
          ? nil
          : fields.map(\.path).min {
            Assembler.editDistance($0, entry.path) < Assembler.editDistance($1, entry.path)
          }
        problems.append(
          .init(
            "unknown field \(JSONParser.quoted(entry.path))"
              + (nearest.map { " (did you mean '\($0)'?)" } ?? ""),
            at: entry.keyLocation))
        continue
      }
      if let problem = config.set(field, entry.value) {
        problems.append(.init(problem, at: entry.value.location))
      }
    }
    // In file order (a field given twice is found before the fields are checked), then the
    // relations, which have no place.
    problems = problems.enumerated().sorted {
      let a = ($0.element.location?.line ?? .max, $0.element.location?.column ?? .max, $0.offset)
      let b = ($1.element.location?.line ?? .max, $1.element.location?.column ?? .max, $1.offset)
      return a < b
    }.map(\.element)
    problems += config.validate().map { .init($0) }
    if stopped || problems.count > maxProblems {
      problems =
        problems.prefix(maxProblems) + [.init("too many problems; only the first \(maxProblems) are shown")]
    }
    if !problems.isEmpty { throw DeviceFileError(path: path, problems: problems) }
    return config
  }

  /// Sets one field from JSON, returning a problem description if the value does not fit.
  /// Integers must be written as exact integers (`2.5`, `1e30` and `Infinity` are not).
  mutating func set(_ field: DeviceField, _ node: JSONNode) -> String? {
    switch field.kind {
    case .int(let keyPath, let range):
      guard case .number(let n) = node.value else {
        return "'\(field.path)' must be an integer, got \(node.typeName)"
      }
      guard n.isIntegral else { return "'\(field.path)' must be an integer, got \(n)" }
      guard let v = n.int64.flatMap({ Int(exactly: $0) }), range.contains(v) else {
        return "'\(field.path)' = \(n) is outside \(range.lowerBound)...\(range.upperBound)"
      }
      self[keyPath: keyPath] = v
    case .double(let keyPath, let range):
      guard case .number(let n) = node.value else {
        return "'\(field.path)' must be a number, got \(node.typeName)"
      }
      guard n.double.isFinite, range.contains(n.double) else {
        return "'\(field.path)' = \(n) is outside \(range.lowerBound)...\(range.upperBound)"
      }
      self[keyPath: keyPath] = n.double
    case .string(let keyPath, let allowed):
      guard case .string(let s) = node.value else {
        return "'\(field.path)' must be a string, got \(node.typeName)"
      }
      // Names and summaries are printed in reports and dumped back: one printable line.
      guard Printable.quoted(s) == s, s.count <= 200 else {
        return
          "'\(field.path)' must be one line of at most 200 printable characters, got '\(Printable.quoted(String(s.prefix(200))))'"
      }
      if let allowed, !allowed.contains(s) {
        return
          "'\(field.path)' must be one of \(allowed.joined(separator: ", ")), got \(JSONParser.quoted(s))"
      }
      self[keyPath: keyPath] = s
    }
    return nil
  }

  /// A leaf of the device file under its dotted path (`l2: { bytes: 1 }` and `"l2.bytes": 1`
  /// both give `l2.bytes`).
  struct FlatField {
    var path: String
    var keyLocation: JSONLocation
    var value: JSONNode
  }

  /// Flattens nested objects into dotted paths, in file order. A path reached twice is a
  /// problem: which value wins must not depend on the spelling.
  static func flatten(
    _ members: [JSONNode.Member], prefix: String, into flat: inout [FlatField],
    seen: inout [String: JSONLocation], problems: inout [DeviceFileError.Problem]
  ) {
    for member in members {
      let path = prefix.isEmpty ? member.key : prefix + "." + member.key
      if case .object(let inner) = member.value.value {
        flatten(inner, prefix: path, into: &flat, seen: &seen, problems: &problems)
      } else if let first = seen[path] {
        problems.append(
          .init(
            "\(JSONParser.quoted(path)) is given twice (first at \(first))", at: member.keyLocation))
      } else {
        seen[path] = member.keyLocation
        flat.append(FlatField(path: path, keyLocation: member.keyLocation, value: member.value))
      }
    }
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
