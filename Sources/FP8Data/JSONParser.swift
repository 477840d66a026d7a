/// fp8sim's one reader of JSON documents (device files, safetensors headers, reports).
///
/// Foundation's readers lose what hostile or careless input needs: they keep one of two
/// duplicate keys (which one depends on dictionary order, so results change from run to run),
/// turn every number into a `Double` (so `4.7` becomes a shape of 4 and 2^63 traps on
/// conversion), and recurse without a bound. This reader
/// - keeps object members in file order and rejects a key given twice in one object,
/// - keeps every number exactly (`JSONNumber`: the literal, the nearest `Double`, and the
///   integer value when the literal is an integer that fits `Int64`),
/// - rejects nesting deeper than `JSONParser.maxDepth` (64) objects and arrays,
/// - rejects text that is not UTF-8,
/// - reports every error with a 1-based line:column (columns count Unicode scalars).
///
/// `.json` is RFC 8259. `.json5` adds what JSON5 allows: `//` and `/* */` comments, unquoted
/// (identifier) keys, single-quoted strings and their extra escapes, trailing commas, numbers
/// with `+`, a leading or trailing `.`, hexadecimal integers, `Infinity` and `NaN`, and extra
/// whitespace.
public enum JSONParser {
  /// Deepest nesting of objects and arrays accepted (the top-level value is depth 1).
  public static let maxDepth = 64

  public enum Syntax: Sendable { case json, json5 }

  public static func parse(_ bytes: [UInt8], syntax: Syntax) throws(JSONParseError) -> JSONNode {
    var reader = JSONReader(bytes: bytes, json5: syntax == .json5)
    return try reader.document()
  }

  public static func parse(_ text: String, syntax: Syntax) throws(JSONParseError) -> JSONNode {
    try parse(Array(text.utf8), syntax: syntax)
  }

  /// The contents of a JSON string literal for `s` (quotes, backslashes and control characters
  /// escaped), without the surrounding quotes.
  public static func escaped(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
      switch c {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      default:
        if c.value < 0x20 || c.value == 0x7F {
          let hex = String(c.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(c)
        }
      }
    }
    return out
  }
  /// `'text'` for a message: at most 40 characters, control characters as `\u{..}`.
  public static func quoted(_ text: String) -> String { "'" + printable(text) + "'" }

  /// `text` for a message: at most 40 characters, control characters as `\u{..}`.
  public static func printable(_ text: String) -> String {
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
      if count == 40 {
        out += "…"
        break
      }
      out += scalar.value < 0x20 || scalar.value == 0x7F ? scalar.escaped(asASCII: true) : String(scalar)
      count += 1
    }
    return out
  }
}

/// A 1-based line and column (in Unicode scalars) in a JSON document.
public struct JSONLocation: Sendable, Hashable, CustomStringConvertible {
  public var line: Int
  public var column: Int
  public init(line: Int, column: Int) {
    self.line = line
    self.column = column
  }
  public var description: String { "\(line):\(column)" }
}

/// Why a document was rejected, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// Not JSON (or JSON5): a character out of place, an unterminated string, invalid UTF-8.
    case syntax
    /// A key given twice in one object.
    case duplicateKey
    /// Objects and arrays nested deeper than `JSONParser.maxDepth`.
    case tooDeep
  }
  public var kind: Kind
  public var location: JSONLocation
  public var message: String
  public init(kind: Kind, location: JSONLocation, message: String) {
    self.kind = kind
    self.location = location
    self.message = message
  }
  public var description: String { "\(location): \(message)" }
}

/// A number as written, with its exact integer value when it has one.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
  /// The literal as written (`-1.5e3`, `0x1F`, `Infinity`).
  public let text: String
  /// The nearest `Double` (±infinity beyond its range, NaN for `NaN`).
  public let double: Double
  /// Whether the literal is an integer (`12`, `1.0`, `1e3`, `0x10`; not `2.5`, `Infinity`, `NaN`).
  public let isIntegral: Bool
  /// The value when the literal is an integer within `Int64`; `nil` otherwise.
  public let int64: Int64?

  /// The literal for messages, at most 40 characters.
  public var description: String { text.count <= 40 ? text : text.prefix(40) + "…" }

  /// The value as a non-negative `Int` when it is exactly one.
  public var nonNegativeInt: Int? {
    guard let v = int64, v >= 0 else { return nil }
    return Int(exactly: v)
  }
}

/// One parsed value and where it starts.
public struct JSONNode: Sendable, Equatable {
  public enum Value: Sendable, Equatable {
    /// Members in file order; keys are unique.
    case object([Member])
    case array([JSONNode])
    case string(String)
    case number(JSONNumber)
    case bool(Bool)
    case null
  }
  public struct Member: Sendable, Equatable {
    public var key: String
    public var keyLocation: JSONLocation
    public var value: JSONNode
  }
  public var value: Value
  public var location: JSONLocation

  /// The member named `key` of an object (`nil` for other values).
  public subscript(key: String) -> JSONNode? {
    guard case .object(let members) = value else { return nil }
    return members.first { $0.key == key }?.value
  }

  /// "an object", "a number", ... for messages.
  public var typeName: String {
    switch value {
    case .object: return "an object"
    case .array: return "an array"
    case .string: return "a string"
    case .number: return "a number"
    case .bool: return "a boolean"
    case .null: return "null"
    }
  }
}

// MARK: - The reader

/// A recursive-descent reader over UTF-8 bytes. Recursion is bounded by `JSONParser.maxDepth`.
struct JSONReader {
  let bytes: [UInt8]
  let json5: Bool
  var pos = 0
  var line = 1
  var column = 1

  init(bytes: [UInt8], json5: Bool) {
    self.bytes = bytes
    self.json5 = json5
  }

  var location: JSONLocation { JSONLocation(line: line, column: column) }

  func peek(_ ahead: Int = 0) -> UInt8? { pos + ahead < bytes.count ? bytes[pos + ahead] : nil }

  /// Moves past one byte, keeping line and column.
  mutating func advance() {
    let c = bytes[pos]
    pos += 1
    if c == 0x0A || (c == 0x0D && peek() != 0x0A) {
      line += 1
      column = 1
    } else if c & 0xC0 != 0x80 {
      column += 1
    }
  }

  mutating func advance(_ n: Int) { for _ in 0..<n { advance() } }

  func fail(_ message: String, at location: JSONLocation? = nil, _ kind: JSONParseError.Kind = .syntax)
    -> JSONParseError
  {
    JSONParseError(kind: kind, location: location ?? self.location, message: message)
  }

  /// The scalar at `pos` and its length in bytes (the input is valid UTF-8).
  func scalar() -> (Unicode.Scalar, Int)? {
    guard let c = peek() else { return nil }
    if c < 0x80 { return (Unicode.Scalar(c), 1) }
    let n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2
    var v = UInt32(c) & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07)
    for k in 1..<n { v = v << 6 | UInt32(bytes[pos + k] & 0x3F) }
    return (Unicode.Scalar(v) ?? "\u{FFFD}", n)
  }

  /// What is at `pos`, for "expected X, found Y".
  func found() -> String {
    guard let (s, _) = scalar() else { return "the end of the file" }
    if s.value <= 0x20 || s.value == 0x7F || s.properties.generalCategory == .format
      || s.properties.generalCategory == .control || s.properties.isWhitespace
    {
      let hex = String(s.value, radix: 16, uppercase: true)
      return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
    return "'\(s)'"
  }

  // MARK: Document, whitespace, comments

  mutating func document() throws(JSONParseError) -> JSONNode {
    try checkUTF8()
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }  // a byte-order mark
    let node = try value(depth: 0)
    try skipSpace()
    guard pos == bytes.count else { throw fail("unexpected \(found()) after the JSON value") }
    return node
  }

  /// Rejects input that is not UTF-8, naming where the first bad byte is.
  mutating func checkUTF8() throws(JSONParseError) {
    if String(validating: bytes, as: UTF8.self) != nil { return }  // the fast, usual case
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded): offset += encoded.count
      case .emptyInput: return
      case .error:
        while pos < offset { advance() }  // to the bad byte, for its line and column
        throw fail("invalid UTF-8 (byte 0x\(String(bytes[offset], radix: 16, uppercase: true)))")
      }
    }
  }

  mutating func skipSpace() throws(JSONParseError) {
    while let c = peek() {
      switch c {
      case 0x20, 0x09, 0x0A, 0x0D:
        advance()
      case 0x0B, 0x0C:
        guard json5 else { return }
        advance()
      case UInt8(ascii: "/"):
        guard json5, try comment() else { return }
      default:
        guard json5, c >= 0x80, let (s, n) = scalar(), Self.isJSON5Space(s) else { return }
        advance(n)
      }
    }
  }

  static func isJSON5Space(_ s: Unicode.Scalar) -> Bool {
    s == "\u{FEFF}" || s == "\u{2028}" || s == "\u{2029}" || s.properties.generalCategory == .spaceSeparator
  }

  /// `// ...` to the end of the line or `/* ... */`; `false` (nothing consumed) for a lone `/`.
  mutating func comment() throws(JSONParseError) -> Bool {
    let start = location
    switch peek(1) {
    case UInt8(ascii: "/"):
      while let c = peek(), c != 0x0A, c != 0x0D { advance() }
      return true
    case UInt8(ascii: "*"):
      advance(2)
      while true {
        guard let c = peek() else { throw fail("unterminated /* comment", at: start) }
        if c == UInt8(ascii: "*"), peek(1) == UInt8(ascii: "/") {
          advance(2)
          return true
        }
        advance()
      }
    default:
      return false
    }
  }

  // MARK: Values

  mutating func value(depth: Int) throws(JSONParseError) -> JSONNode {
    try skipSpace()
    let at = location
    guard let c = peek() else { throw fail("expected a value, found the end of the file") }
    switch c {
    case UInt8(ascii: "{"):
      return try object(depth: depth + 1)
    case UInt8(ascii: "["):
      return try array(depth: depth + 1)
    case UInt8(ascii: "\""):
      return JSONNode(value: .string(try string()), location: at)
    case UInt8(ascii: "'") where json5:
      return JSONNode(value: .string(try string()), location: at)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return JSONNode(value: .number(try number()), location: at)
    case UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "I"), UInt8(ascii: "N"):
      guard json5 else { throw fail("expected a value, found \(found())") }
      return JSONNode(value: .number(try number()), location: at)
    case UInt8(ascii: "a")...UInt8(ascii: "z"):
      let word = self.word()
      switch word {
      case "true": return JSONNode(value: .bool(true), location: at)
      case "false": return JSONNode(value: .bool(false), location: at)
      case "null": return JSONNode(value: .null, location: at)
      default: throw fail("expected a value, found \(JSONParser.quoted(word))", at: at)
      }
    default:
      throw fail("expected a value, found \(found())")
    }
  }

  /// Letters, digits, `_` and `$` (ASCII) at `pos`, consumed.
  mutating func word() -> String {
    let start = pos
    while let c = peek(), Self.isASCIIIdentifier(c) { advance() }
    return String(decoding: bytes[start..<pos], as: UTF8.self)
  }

  static func isASCIIIdentifier(_ c: UInt8) -> Bool {
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x24
  }

  mutating func enter(depth: Int) throws(JSONParseError) {
    if depth > JSONParser.maxDepth {
      throw fail("nested more than \(JSONParser.maxDepth) levels deep", at: location, .tooDeep)
    }
    advance()  // the bracket
  }

  mutating func object(depth: Int) throws(JSONParseError) -> JSONNode {
    let at = location
    try enter(depth: depth)
    var members: [JSONNode.Member] = []
    var seen: [String: JSONLocation] = [:]
    while true {
      try skipSpace()
      if peek() == UInt8(ascii: "}"), members.isEmpty || json5 {
        advance()
        return JSONNode(value: .object(members), location: at)
      }
      let keyAt = location
      let key = try key(afterComma: !members.isEmpty)
      if let first = seen[key] {
        throw fail("duplicate key \(JSONParser.quoted(key)) (first at \(first))", at: keyAt, .duplicateKey)
      }
      seen[key] = keyAt
      try skipSpace()
      guard peek() == UInt8(ascii: ":") else {
        throw fail("expected ':' after the key \(JSONParser.quoted(key)), found \(found())")
      }
      advance()
      members.append(JSONNode.Member(key: key, keyLocation: keyAt, value: try value(depth: depth)))
      try skipSpace()
      switch peek() {
      case UInt8(ascii: ","):
        advance()
      case UInt8(ascii: "}"):
        advance()
        return JSONNode(value: .object(members), location: at)
      default:
        throw fail("expected ',' or '}' after an object member, found \(found())")
      }
    }
  }

  /// An object key: a string, or in JSON5 also an identifier.
  mutating func key(afterComma: Bool) throws(JSONParseError) -> String {
    if let c = peek(), c == UInt8(ascii: "\"") || (json5 && c == UInt8(ascii: "'")) { return try string() }
    if json5, let (s, _) = scalar(), Self.isIdentifierStart(s) {
      let start = pos
      while let (s, n) = scalar(), Self.isIdentifierPart(s) { advance(n) }
      return String(decoding: bytes[start..<pos], as: UTF8.self)
    }
    let what = json5 ? "a key" : "a quoted key"
    throw fail("expected \(what)\(afterComma ? "" : " or '}'"), found \(found())")
  }

  static func isIdentifierStart(_ s: Unicode.Scalar) -> Bool {
    s.isASCII ? (isASCIIIdentifier(UInt8(s.value)) && !(s >= "0" && s <= "9")) : s.properties.isIDStart
  }

  static func isIdentifierPart(_ s: Unicode.Scalar) -> Bool {
    s.isASCII
      ? isASCIIIdentifier(UInt8(s.value)) : s.properties.isIDContinue || s == "\u{200C}" || s == "\u{200D}"
  }

  mutating func array(depth: Int) throws(JSONParseError) -> JSONNode {
    let at = location
    try enter(depth: depth)
    var elements: [JSONNode] = []
    while true {
      try skipSpace()
      if peek() == UInt8(ascii: "]"), elements.isEmpty || json5 {
        advance()
        return JSONNode(value: .array(elements), location: at)
      }
      elements.append(try value(depth: depth))
      try skipSpace()
      switch peek() {
      case UInt8(ascii: ","):
        advance()
      case UInt8(ascii: "]"):
        advance()
        return JSONNode(value: .array(elements), location: at)
      default:
        throw fail("expected ',' or ']' after an array element, found \(found())")
      }
    }
  }

  // MARK: Strings

  mutating func string() throws(JSONParseError) -> String {
    let start = location
    let quote = bytes[pos]
    advance()
    var out: [UInt8] = []
    while true {
      guard let c = peek() else { throw fail("unterminated string", at: start) }
      switch c {
      case quote:
        advance()
        return String(decoding: out, as: UTF8.self)
      case UInt8(ascii: "\\"):
        try escape(into: &out)
      case 0x0A, 0x0D:
        throw fail("line break in a string (write \\n)")
      case 0..<0x20 where !json5:
        throw fail("control character \(found()) in a string (escape it)")
      default:
        out.append(c)
        advance()
      }
    }
  }

  mutating func escape(into out: inout [UInt8]) throws(JSONParseError) {
    let at = location
    advance()  // the backslash
    guard let c = peek() else { throw fail("unterminated string") }
    func append(_ s: Unicode.Scalar) { UTF8.encode(s) { out.append($0) } }
    switch c {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(c)
    case UInt8(ascii: "b"): out.append(0x08)
    case UInt8(ascii: "f"): out.append(0x0C)
    case UInt8(ascii: "n"): out.append(0x0A)
    case UInt8(ascii: "r"): out.append(0x0D)
    case UInt8(ascii: "t"): out.append(0x09)
    case UInt8(ascii: "u"):
      advance()
      let unit = try hex4(at: at)
      if (0xD800..<0xDC00).contains(unit) {
        guard peek() == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u") else {
          throw fail("unpaired surrogate in \\u escape", at: at)
        }
        advance(2)
        let low = try hex4(at: at)
        guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in \\u escape", at: at) }
        append(Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}")
      } else if let s = Unicode.Scalar(unit) {
        append(s)
      } else {
        throw fail("unpaired surrogate in \\u escape", at: at)
      }
      return
    default:
      guard json5 else { throw fail("invalid escape \\\(found().trimmingQuotes)", at: at) }
      switch c {
      case UInt8(ascii: "'"): out.append(c)
      case UInt8(ascii: "v"): out.append(0x0B)
      case UInt8(ascii: "0"):
        if let d = peek(1), d >= 0x30, d <= 0x39 {
          throw fail("invalid escape \\0 followed by a digit", at: at)
        }
        out.append(0)
      case UInt8(ascii: "1")...UInt8(ascii: "9"):
        throw fail("invalid escape \\\(found().trimmingQuotes)", at: at)
      case UInt8(ascii: "x"):
        advance()
        var v: UInt32 = 0
        for _ in 0..<2 {
          guard let d = peek().flatMap(Self.hexDigit) else {
            throw fail("expected two hex digits after \\x", at: at)
          }
          v = v << 4 | UInt32(d)
          advance()
        }
        append(Unicode.Scalar(v) ?? "\u{FFFD}")
        return
      case 0x0A, 0x0D:  // a line continuation: backslash, line break
        advance()
        if c == 0x0D, peek() == 0x0A { advance() }
        return
      default:
        guard let (s, n) = scalar() else { throw fail("unterminated string") }
        if s != "\u{2028}" && s != "\u{2029}" { append(s) }  // those two are line continuations
        advance(n)
        return
      }
    }
    advance()
  }

  mutating func hex4(at: JSONLocation) throws(JSONParseError) -> UInt32 {
    var v: UInt32 = 0
    for _ in 0..<4 {
      guard let d = peek().flatMap(Self.hexDigit) else {
        throw fail("expected four hex digits after \\u", at: at)
      }
      v = v << 4 | UInt32(d)
      advance()
    }
    return v
  }

  static func hexDigit(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
  }

  // MARK: Numbers

  func text(from start: Int) -> String { String(decoding: bytes[start..<pos], as: UTF8.self) }

  mutating func digits() -> Range<Int> {
    let start = pos
    while let c = peek(), c >= 0x30, c <= 0x39 { advance() }
    return start..<pos
  }

  mutating func number() throws(JSONParseError) -> JSONNumber {
    let start = pos
    let at = location
    var negative = false
    if let c = peek(), c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
      guard c == UInt8(ascii: "-") || json5 else { throw fail("expected a value, found '+'") }
      negative = c == UInt8(ascii: "-")
      advance()
    }
    if json5, let c = peek(), c == UInt8(ascii: "I") || c == UInt8(ascii: "N") {
      let word = self.word()
      switch word {
      case "Infinity":
        return JSONNumber(
          text: text(from: start), double: negative ? -.infinity : .infinity, isIntegral: false, int64: nil)
      case "NaN":
        return JSONNumber(text: text(from: start), double: .nan, isIntegral: false, int64: nil)
      default:
        throw fail("expected a value, found \(JSONParser.quoted(word))", at: at)
      }
    }
    if json5, peek() == UInt8(ascii: "0"), let x = peek(1), x == UInt8(ascii: "x") || x == UInt8(ascii: "X") {
      advance(2)
      let digitsStart = pos
      while let c = peek(), Self.hexDigit(c) != nil { advance() }
      guard pos > digitsStart else { throw fail("expected hexadecimal digits after 0x") }
      return Self.hexNumber(text: text(from: start), digits: bytes[digitsStart..<pos], negative: negative)
    }
    let integer = digits()
    if integer.count > 1, bytes[integer.lowerBound] == UInt8(ascii: "0") {
      throw fail("a number cannot start with 0 followed by digits", at: at)
    }
    var fraction = pos..<pos
    if peek() == UInt8(ascii: ".") {
      advance()
      fraction = digits()
      if fraction.isEmpty && !json5 { throw fail("expected digits after '.', found \(found())") }
    }
    guard !integer.isEmpty || !fraction.isEmpty else {
      throw fail("expected digits in a number, found \(found())")
    }
    var exponent = 0
    if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
      advance()
      var negativeExponent = false
      if let s = peek(), s == UInt8(ascii: "-") || s == UInt8(ascii: "+") {
        negativeExponent = s == UInt8(ascii: "-")
        advance()
      }
      let e = digits()
      guard !e.isEmpty else { throw fail("expected digits in the exponent, found \(found())") }
      // Saturate far beyond any Double or Int64 (the digit count is bounded by the input size).
      for i in e { exponent = min(exponent * 10 + Int(bytes[i] - 0x30), 1_000_000_000) }
      if negativeExponent { exponent = -exponent }
    }
    return Self.decimalNumber(
      text: text(from: start), negative: negative, integer: bytes[integer], fraction: bytes[fraction],
      exponent: exponent)
  }

  /// Value of `[-]integer.fraction × 10^exponent`: the nearest Double, and exactly when integral.
  static func decimalNumber(
    text: String, negative: Bool, integer: ArraySlice<UInt8>, fraction: ArraySlice<UInt8>, exponent: Int
  ) -> JSONNumber {
    let normalized =
      (negative ? "-" : "") + (integer.isEmpty ? "0" : String(decoding: integer, as: UTF8.self)) + "."
      + (fraction.isEmpty ? "0" : String(decoding: fraction, as: UTF8.self)) + "e\(exponent)"
    let double = Double(normalized) ?? (negative ? -.infinity : .infinity)
    // Significant digits: value = digits × 10^scale.
    let all = Array(integer) + Array(fraction)
    guard let first = all.firstIndex(where: { $0 != UInt8(ascii: "0") }) else {
      return JSONNumber(text: text, double: double, isIntegral: true, int64: 0)
    }
    let last = all.lastIndex(where: { $0 != UInt8(ascii: "0") })!
    let scale = exponent - fraction.count + (all.count - 1 - last)
    guard scale >= 0 else { return JSONNumber(text: text, double: double, isIntegral: false, int64: nil) }
    let significant = all[first...last]
    guard significant.count + scale <= 19 else {  // beyond 10^19 > Int64.max
      return JSONNumber(text: text, double: double, isIntegral: true, int64: nil)
    }
    var magnitude: UInt64 = 0  // at most 19 digits: below 10^19 < UInt64.max
    for d in significant { magnitude = magnitude * 10 + UInt64(d - 0x30) }
    for _ in 0..<scale { magnitude *= 10 }
    return JSONNumber(
      text: text, double: double, isIntegral: true, int64: signed(magnitude, negative: negative))
  }

  static func hexNumber(text: String, digits: ArraySlice<UInt8>, negative: Bool) -> JSONNumber {
    var magnitude: UInt64? = 0
    var double = 0.0
    for c in digits {
      let d = hexDigit(c)!
      double = double * 16 + Double(d)
      if let m = magnitude {
        let (shifted, overflow) = m.multipliedReportingOverflow(by: 16)
        magnitude = overflow ? nil : shifted + UInt64(d)
      }
    }
    if let m = magnitude { double = Double(m) }  // correctly rounded when it fits
    return JSONNumber(
      text: text, double: negative ? -double : double, isIntegral: true,
      int64: magnitude.flatMap { signed($0, negative: negative) })
  }

  /// `±magnitude` as an Int64, or `nil` outside its range.
  static func signed(_ magnitude: UInt64, negative: Bool) -> Int64? {
    if !negative { return Int64(exactly: magnitude) }
    if magnitude == UInt64(Int64.max) + 1 { return .min }
    return Int64(exactly: magnitude).map { -$0 }
  }
}

extension String {
  /// `'x'` → `x` (for escapes named in messages).
  fileprivate var trimmingQuotes: String {
    hasPrefix("'") && hasSuffix("'") && count >= 2 ? String(dropFirst().dropLast()) : self
  }
}
