import FP8Data
import FP8ISA
import Foundation

/// A member of the JSON report that is not a statistic: what was run, on what.
public struct ReportField: Sendable {
  /// JSON path, written like a statistic's (`outputs[].dtype`).
  public var path: String
  /// The JSON type.
  public var type: String
  public var meaning: String

  init(_ path: String, _ type: String, _ meaning: String) {
    self.path = path
    self.type = type
    self.meaning = meaning
  }
}

extension Report {
  /// The members of the JSON report besides the statistics (`StatKey`), in the order of
  /// docs/report.md. `json()` writes each of them and `decode` reads each of them.
  public static let fields: [ReportField] = [
    ReportField(
      "schema", "string", "`\"fp8sim-report/1\"`; a change that removes or renames a key bumps the number."),
    ReportField("program", "string", "The program path as given."),
    ReportField("device.name", "string", "The device."),
    ReportField("device.tiles", "int", "Its number of tiles."),
    ReportField("device.clockGHz", "number", "Its clock."),
    ReportField("device.fp8e4", "string", "The format `fp8e4` stood for."),
    ReportField("device.fp8e5", "string", "The format `fp8e5` stood for."),
    ReportField(
      "params", "object", "Every `.param` (after `--set`), values as written by the canonical printer."),
    ReportField(
      "timingOnly", "bool",
      "Values were not computed: the statistics computed from values (outputs, casts) are then missing or zero."
    ),
    ReportField("outputs[].name", "string", "An output tensor."),
    ReportField("outputs[].dtype", "string", "Its element type as written."),
    ReportField("outputs[].format", "string", "Its format as resolved on the device."),
    ReportField("outputs[].shape", "array of int", "Its shape."),
    ReportField("outputs[].count", "int", "Its number of elements."),
    ReportField("casts[].tensor", "string", "A tensor whose stores were not all exact."),
    ReportField(
      "warnings", "array of strings",
      "Things that are not errors but change how to read the report: input tensors that start with NaN or"
        + " inf values, outputs whose FP32 reference is not finite (their SNR is `nan`)."),
  ]

  /// Pretty-printed JSON with sorted keys (stable for golden files).
  public func json() -> String {
    let data = (try? Report.encoder().encode(self)) ?? Data()
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  /// The encoder of every fp8sim JSON document: sorted keys, `inf`/`-inf`/`nan` as strings.
  public static func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return encoder
  }

  /// The report as a JSON tree: the fields, then every statistic at its path.
  func jsonTree() -> JSONTree {
    var root = JSONTree.object([:])
    root.set(["schema"], .string(schema))
    root.set(["program"], .string(program))
    root.set(["device", "name"], .string(device.name))
    root.set(["device", "tiles"], .int(Int64(device.tiles)))
    root.set(["device", "clockGHz"], .double(device.clockGHz))
    root.set(["device", "fp8e4"], .string(device.fp8e4))
    root.set(["device", "fp8e5"], .string(device.fp8e5))
    root.set(["params"], .object(params.mapValues { .string($0) }))
    root.set(["timingOnly"], .bool(timingOnly))
    root.set(
      ["outputs"],
      .array(
        outputs.map { o in
          .object([
            "name": .string(o.name), "dtype": .string(o.dtype), "format": .string(o.format),
            "shape": .array(o.shape.map { .int(Int64($0)) }), "count": .int(Int64(o.count)),
          ])
        }))
    root.set(["casts"], .array(instances(.castTensor).map { .object(["tensor": .string($0)]) }))
    root.set(["warnings"], .array(warnings.map { .string($0) }))
    for key in StatKey.allCases {
      let s = key.statistic
      let path = s.jsonPath
      switch path.instance {
      case .none:
        if let v = value(key) { root.set(path.prefix, v.json) }
      case .member:
        root.set(path.prefix, root[path.prefix] ?? .object([:]))
        for i in instances(s.scope) {
          if let v = value(key, i) { root.set(path.prefix + [.member(i)] + path.suffix, v.json) }
        }
      case .element:
        for (n, i) in instances(s.scope).enumerated() {
          if let v = value(key, i) { root.set(path.prefix + [.element(n)] + path.suffix, v.json) }
        }
      }
    }
    return root
  }

  /// Reads a report back. The text is read by `JSONParser` (strict JSON), which rejects a key
  /// given twice and unbounded nesting; then every field and every statistic of the table is
  /// read from its path, with its type checked. Members the table does not know are ignored.
  public static func decode(_ json: String) throws -> Report {
    try Report(json: JSONParser.parse(json, syntax: .json))
  }

  /// Reads a report from a parsed JSON value (a member of a larger document).
  public static func decode(_ node: JSONNode) throws(ReportDecodingError) -> Report { try Report(json: node) }

  init(json root: JSONNode) throws(ReportDecodingError) {
    let reader = JSONTreeReader()
    schema = try reader.string(root, "schema")
    program = try reader.string(root, "program")
    device = Device(
      name: try reader.string(root, "device.name"), tiles: try reader.int(root, "device.tiles"),
      clockGHz: try reader.number(root, "device.clockGHz"), fp8e4: try reader.string(root, "device.fp8e4"),
      fp8e5: try reader.string(root, "device.fp8e5"))
    params = [:]
    for member in try reader.members(root, "params") {
      params[member.key] = try reader.string(member.value, at: "params.\(member.key)")
    }
    timingOnly = try reader.bool(root, "timingOnly")
    warnings = try reader.elements(root, "warnings").enumerated().map { n, node throws(ReportDecodingError) in
      try reader.string(node, at: "warnings[\(n)]")
    }
    outputs = []
    for (n, node) in try reader.elements(root, "outputs").enumerated() {
      let at = "outputs[\(n)]."
      let shape = try reader.elements(node, "shape", at: at).enumerated().map {
        i, d throws(ReportDecodingError) in try reader.int(d, at: at + "shape[\(i)]")
      }
      _ = try reader.int(node, "count", at: at)
      outputs.append(
        Output(
          name: try reader.string(node, "name", at: at), dtype: try reader.string(node, "dtype", at: at),
          format: try reader.string(node, "format", at: at), shape: shape))
    }
    instanceNames = [:]
    values = [:]
    for key in StatKey.allCases {
      let s = key.statistic
      let path = s.jsonPath
      let prefix = path.prefix.map(\.name).joined(separator: ".")
      let suffix = path.suffix.map(\.name).joined(separator: ".")
      switch path.instance {
      case .none:
        if let node = try reader.node(root, prefix, required: s.absentWhen == nil) {
          values[key, default: [:]][""] = try reader.value(node, s, at: prefix)
        }
      case .member:
        var names = instanceNames[s.scope] ?? []
        for member in try reader.members(root, prefix) {
          let at = prefix + "." + member.key + (suffix.isEmpty ? "" : ".")
          let node =
            suffix.isEmpty ? member.value : try reader.node(member.value, suffix, at: at, required: true)
          if let node { values[key, default: [:]][member.key] = try reader.value(node, s, at: at + suffix) }
          if !names.contains(member.key) { names.append(member.key) }
        }
        instanceNames[s.scope] = s.scope.ordered(names)
      case .element:
        var names: [String] = []
        for (n, element) in try reader.elements(root, prefix).enumerated() {
          let at = prefix + "[\(n)]."
          let name = try reader.string(element, s.scope.nameField ?? "", at: at)
          names.append(name)
          if let node = try reader.node(element, suffix, at: at, required: s.absentWhen == nil) {
            values[key, default: [:]][name] = try reader.value(node, s, at: at + suffix)
          }
        }
        if s.scope != .output { instanceNames[s.scope] = names }
      }
    }
    // Every report has every unit: a missing one would read as idle, silently.
    let units = Set(instanceNames[.unit] ?? [])
    if let missing = UnitKind.reported.first(where: { !units.contains($0.rawValue) }) {
      throw ReportDecodingError(
        path: "units.\(missing.rawValue)", message: "missing (a report has every unit)")
    }
  }
}

extension Report: Encodable {
  public func encode(to encoder: any Encoder) throws { try jsonTree().encode(to: encoder) }
}

/// Why a JSON report could not be read: the path of the member and what is wrong with it.
public struct ReportDecodingError: Error, Equatable, CustomStringConvertible {
  public var path: String
  public var message: String
  public var description: String { "\(path): \(message)" }
}

extension StatValue {
  var json: JSONTree {
    switch self {
    case .count(let n): return .int(n)
    case .real(let x): return .double(x)
    }
  }
}

// MARK: - Paths

/// A statistic's JSON path cut at its instance: `units` / one member per unit / `busyCycles`.
struct StatPath {
  enum Step: Hashable {
    case member(String)
    case element(Int)

    var name: String {
      switch self {
      case .member(let m): return m
      case .element(let n): return "[\(n)]"
      }
    }
  }
  enum Instance { case none, member, element }
  var prefix: [Step]
  var instance: Instance
  var suffix: [Step]
}

extension Statistic {
  /// The path cut at the scope's placeholder; nil when the path does not name its scope once.
  var parsedPath: StatPath? {
    let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    let marks = parts.indices.filter { parts[$0] == scope.placeholder || parts[$0].hasSuffix("[]") }
    let members = { (names: ArraySlice<String>) in names.map { StatPath.Step.member($0) } }
    guard !parts.contains(where: \.isEmpty) else { return nil }
    if scope == .run {
      return marks.isEmpty ? StatPath(prefix: members(parts[...]), instance: .none, suffix: []) : nil
    }
    guard marks.count == 1, let i = marks.first else { return nil }
    if scope.placeholder == "[]" {
      guard parts[i].count > 2 else { return nil }
      return StatPath(
        prefix: members(parts[..<i]) + [.member(String(parts[i].dropLast(2)))], instance: .element,
        suffix: members(parts[(i + 1)...]))
    }
    guard parts[i] == scope.placeholder else { return nil }
    return StatPath(prefix: members(parts[..<i]), instance: .member, suffix: members(parts[(i + 1)...]))
  }

  /// `parsedPath`, which a test checks for every row.
  var jsonPath: StatPath { parsedPath ?? StatPath(prefix: [.member(path)], instance: .none, suffix: []) }
}

// MARK: - A JSON tree to write

/// A JSON value for `JSONEncoder` (which sorts the members and spells non-finite numbers).
enum JSONTree: Encodable, Equatable {
  case object([String: JSONTree])
  case array([JSONTree])
  case string(String)
  case int(Int64)
  case double(Double)
  case bool(Bool)

  struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  func encode(to encoder: any Encoder) throws {
    switch self {
    case .object(let members):
      var c = encoder.container(keyedBy: Key.self)
      for (k, v) in members { try c.encode(v, forKey: Key(stringValue: k)) }
    case .array(let elements):
      var c = encoder.unkeyedContainer()
      for v in elements { try c.encode(v) }
    case .string(let s):
      var c = encoder.singleValueContainer()
      try c.encode(s)
    case .int(let n):
      var c = encoder.singleValueContainer()
      try c.encode(n)
    case .double(let x):
      var c = encoder.singleValueContainer()
      try c.encode(x)
    case .bool(let b):
      var c = encoder.singleValueContainer()
      try c.encode(b)
    }
  }

  subscript(path: [StatPath.Step]) -> JSONTree? {
    var node = self
    for step in path {
      switch (step, node) {
      case (.member(let k), .object(let members)):
        guard let next = members[k] else { return nil }
        node = next
      case (.element(let n), .array(let elements)) where n < elements.count: node = elements[n]
      default: return nil
      }
    }
    return node
  }

  /// Puts `value` at `path`, making the objects and array elements on the way.
  mutating func set(_ path: [StatPath.Step], _ value: JSONTree) { set(path[...], value) }

  mutating func set(_ path: ArraySlice<StatPath.Step>, _ value: JSONTree) {
    guard let step = path.first else {
      self = value
      return
    }
    switch step {
    case .member(let k):
      guard case .object(var members) = self else { preconditionFailure("JSON path \(k) crosses a value") }
      var child = members[k] ?? .object([:])
      child.set(path.dropFirst(), value)
      members[k] = child
      self = .object(members)
    case .element(let n):
      guard case .array(var elements) = self else { preconditionFailure("JSON path [\(n)] crosses a value") }
      while elements.count <= n { elements.append(.object([:])) }
      elements[n].set(path.dropFirst(), value)
      self = .array(elements)
    }
  }
}

/// Set by dotted path strings (fields have no instances).
extension JSONTree {
  mutating func set(_ path: [String], _ value: JSONTree) { set(path.map { .member($0) }, value) }
}

// MARK: - Reading a parsed report

/// Typed reads from a `JSONNode` by dotted path, failing with the path.
struct JSONTreeReader {
  func node(_ root: JSONNode, _ path: String, at base: String = "", required: Bool)
    throws(ReportDecodingError)
    -> JSONNode?
  {
    var node = root
    for part in path.split(separator: ".") {
      guard case .object = node.value else {
        throw ReportDecodingError(
          path: base + path, message: "expected an object on the way, got \(node.typeName)")
      }
      guard let next = node[String(part)] else {
        if required { throw ReportDecodingError(path: base + path, message: "missing") }
        return nil
      }
      node = next
    }
    return node
  }

  func required(_ root: JSONNode, _ path: String, at base: String) throws(ReportDecodingError) -> JSONNode {
    guard let node = try node(root, path, at: base, required: true) else {
      throw ReportDecodingError(path: base + path, message: "missing")
    }
    return node
  }

  func string(_ root: JSONNode, _ path: String, at base: String = "") throws(ReportDecodingError) -> String {
    try string(required(root, path, at: base), at: base + path)
  }

  func string(_ node: JSONNode, at path: String) throws(ReportDecodingError) -> String {
    guard case .string(let s) = node.value else { throw mismatch("a string", node, path) }
    return s
  }

  func int(_ root: JSONNode, _ path: String, at base: String = "") throws(ReportDecodingError) -> Int {
    try int(required(root, path, at: base), at: base + path)
  }

  func int(_ node: JSONNode, at path: String) throws(ReportDecodingError) -> Int {
    guard case .number(let n) = node.value, let v = n.int64, let i = Int(exactly: v) else {
      throw mismatch("an integer", node, path)
    }
    return i
  }

  func number(_ root: JSONNode, _ path: String) throws(ReportDecodingError) -> Double {
    let node = try required(root, path, at: "")
    guard case .number(let n) = node.value else { throw mismatch("a number", node, path) }
    return n.double
  }

  func bool(_ root: JSONNode, _ path: String) throws(ReportDecodingError) -> Bool {
    let node = try required(root, path, at: "")
    guard case .bool(let b) = node.value else { throw mismatch("a boolean", node, path) }
    return b
  }

  func members(_ root: JSONNode, _ path: String) throws(ReportDecodingError) -> [JSONNode.Member] {
    let node = try required(root, path, at: "")
    guard case .object(let members) = node.value else { throw mismatch("an object", node, path) }
    return members
  }

  func elements(_ root: JSONNode, _ path: String, at base: String = "") throws(ReportDecodingError)
    -> [JSONNode]
  {
    let node = try required(root, path, at: base)
    guard case .array(let elements) = node.value else { throw mismatch("an array", node, base + path) }
    return elements
  }

  /// A statistic's value: an integer for a count; a number, or `inf`, `-inf`, `nan` as a
  /// string, otherwise.
  func value(_ node: JSONNode, _ s: Statistic, at path: String) throws(ReportDecodingError) -> StatValue {
    switch node.value {
    case .number(let n):
      if !s.format.isInteger {
        // A number too large for a Double reads as ±inf: not something fp8sim writes.
        guard n.double.isFinite else { throw mismatch("a number within the range of a Double", node, path) }
        return .real(n.double)
      }
      guard let v = n.int64 else { throw mismatch("an integer", node, path) }
      // Counts (cycles, bytes, events) are never negative.
      guard v >= 0 else { throw mismatch("a count (0 or more)", node, path) }
      return .count(v)
    case .string("inf") where !s.format.isInteger: return .real(.infinity)
    case .string("-inf") where !s.format.isInteger: return .real(-.infinity)
    case .string("nan") where !s.format.isInteger: return .real(.nan)
    default: throw mismatch(s.format.isInteger ? "an integer" : "a number", node, path)
    }
  }

  func mismatch(_ expected: String, _ node: JSONNode, _ path: String) -> ReportDecodingError {
    ReportDecodingError(path: path, message: "expected \(expected), got \(node.typeName)")
  }
}
