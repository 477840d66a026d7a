/// A JSON value to write, members in the order given (reports read better in a fixed order).
/// Numbers that are not finite are written as `null` (JSON has no NaN or infinity).
public indirect enum JSONValue: Sendable {
  case object([(String, JSONValue)])
  case array([JSONValue])
  case string(String)
  case number(Double)
  case int(Int)
  case bool(Bool)
  case null

  /// The value as JSON text: objects and arrays of containers one member per line, indented by
  /// two spaces; arrays of plain values on one line.
  public func rendered(indent: Int = 0) -> String {
    let pad = String(repeating: " ", count: indent + 2)
    switch self {
    case .object(let members):
      if members.isEmpty { return "{}" }
      let body = members.map { "\(pad)\"\(JSONParser.escaped($0.0))\": \($0.1.rendered(indent: indent + 2))" }
      return "{\n" + body.joined(separator: ",\n") + "\n" + String(repeating: " ", count: indent) + "}"
    case .array(let items):
      if items.allSatisfy(\.isPlain) {
        return "[" + items.map { $0.rendered() }.joined(separator: ", ") + "]"
      }
      let body = items.map { pad + $0.rendered(indent: indent + 2) }
      return "[\n" + body.joined(separator: ",\n") + "\n" + String(repeating: " ", count: indent) + "]"
    case .string(let s): return "\"\(JSONParser.escaped(s))\""
    case .number(let x):
      guard x.isFinite else { return "null" }
      return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    case .int(let i): return String(i)
    case .bool(let b): return b ? "true" : "false"
    case .null: return "null"
    }
  }

  var isPlain: Bool {
    switch self {
    case .object, .array: return false
    default: return true
    }
  }
}
