import Foundation

/// NumPy's `.npy` format, versions 1.0–3.0: magic `\x93NUMPY`, version, header length, a Python
/// dict literal `{'descr': ..., 'fortran_order': ..., 'shape': (...)}`, then C-order data.
public enum NPY {
  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

  static func header(_ reader: inout ByteReader) throws(DataFileError) -> ArrayFileHeader {
    let path = reader.path
    let start = try reader.read(10)
    guard start.count == 10 else { throw DataFileError(path, "not a .npy file: too short") }
    guard Array(start[0..<6]) == magic else {
      throw DataFileError(path, "not a .npy file: bad magic bytes")
    }
    let major = start[6]
    let headerLength: Int
    let prefix: Int
    switch major {
    case 1:
      headerLength = Int(start[8]) | Int(start[9]) << 8
      prefix = 10
    case 2, 3:
      let more = try reader.read(2)
      guard more.count == 2 else { throw DataFileError(path, "not a .npy file: too short") }
      headerLength = Int(start[8]) | Int(start[9]) << 8 | Int(more[0]) << 16 | Int(more[1]) << 24
      prefix = 12
    default:
      throw DataFileError(path, "unsupported .npy version \(major).\(start[7])")
    }
    guard headerLength <= ArrayFile.maxHeaderBytes, headerLength <= reader.size - prefix else {
      throw DataFileError(path, "malformed .npy header length \(headerLength)")
    }
    var parser = PyLiteralParser(bytes: try reader.read(headerLength))
    let root: PyLiteralParser.Value
    do {
      root = try parser.document()
    } catch {
      throw DataFileError(path, "malformed .npy header: \(error)")
    }
    guard case .dict(let entries) = root else {
      throw DataFileError(path, "malformed .npy header: not a dict")
    }
    func entry(_ key: String) -> PyLiteralParser.Value? { entries.first { $0.key == key }?.value }
    guard let descrValue = entry("descr") else {
      throw DataFileError(path, "malformed .npy header: no 'descr'")
    }
    guard case .string(let descr) = descrValue else {
      throw DataFileError(path, "unsupported dtype: structured arrays are not supported")
    }
    switch entry("fortran_order") {
    case nil, .bool(false)?: break
    case .bool(true)?: throw DataFileError(path, "Fortran-order arrays are not supported; save with C order")
    default: throw DataFileError(path, "malformed .npy header: 'fortran_order' must be True or False")
    }
    guard case .tuple(let dims)? = entry("shape") else {
      throw DataFileError(path, "malformed .npy header: no 'shape'")
    }
    var shape: [Int] = []
    for d in dims {
      guard case .int(let n) = d, n >= 0 else {
        throw DataFileError(path, "malformed .npy shape")
      }
      shape.append(n)
    }
    let (element, bigEndian) = try element(descr: descr, path: path)
    return try ArrayFileHeader(
      shape: shape, element: element, bigEndian: bigEndian, dataOffset: prefix + headerLength, path: path)
  }

  static func element(descr: String, path: String) throws(DataFileError) -> (FileElement, Bool) {
    guard descr.count >= 3 else { throw DataFileError(path, "unsupported dtype '\(descr)'") }
    let order = descr.first!
    let code = String(descr.dropFirst())
    let bigEndian = order == ">"
    guard "<>|=".contains(order) else { throw DataFileError(path, "unsupported dtype '\(descr)'") }
    switch code {
    case "f2": return (.float16, bigEndian)
    case "f4": return (.float32, bigEndian)
    case "f8": return (.float64, bigEndian)
    case "V1", "u1": return (.rawCodes(bytes: 1), false)
    case "V2", "u2": return (.rawCodes(bytes: 2), bigEndian)
    default:
      throw DataFileError(
        path, "unsupported dtype '\(descr)' (supported: f2, f4, f8, and raw codes V1/u1/V2/u2)")
    }
  }

  /// Writes a C-order `.npy` (version 1.0) with little-endian data.
  public static func write(_ url: URL, shape: [Int], descr: String, data: Data) throws {
    try encode(shape: shape, descr: descr, data: data).write(to: url)
  }

  /// A whole `.npy` file (version 1.0) holding `data` with `shape` and `descr`.
  public static func encode(shape: [Int], descr: String, data: Data) -> Data {
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
    // Pad so that magic + version + length + header + "\n" is a multiple of 64.
    let total = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
    var file = Data(magic + [1, 0])
    let n = header.utf8.count
    file.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
    file.append(contentsOf: Array(header.utf8))
    file.append(data)
    return file
  }
}

/// The subset of Python literals `.npy` headers use: dicts, tuples, strings, ints, booleans,
/// `None`. Nesting is limited to `maxDepth` (64) dicts and tuples, so a hostile header cannot
/// exhaust the stack; a key given twice in a dict is an error.
struct PyLiteralParser {
  static let maxDepth = 64

  indirect enum Value {
    case dict([(key: String, value: Value)])
    case tuple([Value])
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
  }
  struct Failure: Error, CustomStringConvertible {
    var message: String
    /// 1-based position in the header text (bytes).
    var column: Int
    var description: String { "\(message) at column \(column)" }
  }

  let bytes: [UInt8]
  var i = 0
  init(bytes: [UInt8]) { self.bytes = bytes }

  func fail(_ message: String, at position: Int? = nil) -> Failure {
    Failure(message: message, column: (position ?? i) + 1)
  }

  func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

  mutating func skip() {
    while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
  }

  /// One value and nothing after it but whitespace.
  mutating func document() throws(Failure) -> Value {
    let value = try parse(depth: 0)
    skip()
    guard i == bytes.count else { throw fail("unexpected text after the value") }
    return value
  }

  mutating func parse(depth: Int) throws(Failure) -> Value {
    skip()
    guard let c = peek() else { throw fail("unexpected end of the header") }
    switch c {
    case UInt8(ascii: "{"), UInt8(ascii: "("):
      guard depth < Self.maxDepth else { throw fail("nested more than \(Self.maxDepth) levels deep") }
      i += 1
      return c == UInt8(ascii: "{") ? try dict(depth: depth + 1) : try tuple(depth: depth + 1)
    case UInt8(ascii: "'"), UInt8(ascii: "\""):
      let start = i
      i += 1
      while let d = peek(), d != c {
        guard d != UInt8(ascii: "\\") else { throw fail("escapes in strings are not supported") }
        i += 1
      }
      guard peek() != nil else { throw fail("unterminated string", at: start) }
      i += 1
      return .string(String(decoding: bytes[start + 1..<i - 1], as: UTF8.self))
    default:
      let start = i
      while let d = peek(),
        JSONReader.isASCIIIdentifier(d) || d == UInt8(ascii: "-") || d == UInt8(ascii: "+")
      {
        i += 1
      }
      let word = String(decoding: bytes[start..<i], as: UTF8.self)
      switch word {
      case "True": return .bool(true)
      case "False": return .bool(false)
      case "None": return .none
      case "": throw fail("unexpected character")
      default:
        let digits = word.hasSuffix("L") ? String(word.dropLast()) : word  // Python 2 longs
        let unsigned = digits.first == "-" || digits.first == "+" ? digits.dropFirst() : Substring(digits)
        guard !unsigned.isEmpty, unsigned.allSatisfy({ $0.isASCII && $0.isNumber }) else {
          throw fail("unexpected '\(word.prefix(20))'", at: start)
        }
        guard let n = Int(digits) else {
          throw fail("integer \(digits.prefix(40)) is out of range", at: start)
        }
        return .int(n)
      }
    }
  }

  mutating func dict(depth: Int) throws(Failure) -> Value {
    var entries: [(key: String, value: Value)] = []
    var keys: Set<String> = []
    while true {
      skip()
      if peek() == UInt8(ascii: "}") {
        i += 1
        return .dict(entries)
      }
      let keyStart = i
      guard case .string(let key) = try parse(depth: depth) else {
        throw fail("a dict key must be a string", at: keyStart)
      }
      guard keys.insert(key).inserted else {
        throw fail("duplicate key \(JSONParser.quoted(key))", at: keyStart)
      }
      skip()
      guard peek() == UInt8(ascii: ":") else { throw fail("expected ':'") }
      i += 1
      entries.append((key, try parse(depth: depth)))
      skip()
      if peek() == UInt8(ascii: ",") {
        i += 1
      } else if peek() != UInt8(ascii: "}") {
        throw fail("expected ',' or '}'")
      }
    }
  }

  mutating func tuple(depth: Int) throws(Failure) -> Value {
    var items: [Value] = []
    while true {
      skip()
      if peek() == UInt8(ascii: ")") {
        i += 1
        return .tuple(items)
      }
      items.append(try parse(depth: depth))
      skip()
      if peek() == UInt8(ascii: ",") {
        i += 1
      } else if peek() != UInt8(ascii: ")") {
        throw fail("expected ',' or ')'")
      }
    }
  }
}
