import Foundation

/// NumPy's `.npy` format, versions 1.0–3.0: magic `\x93NUMPY`, version, header length, a Python
/// dict literal `{'descr': ..., 'fortran_order': ..., 'shape': (...)}`, then C-order data.
public enum NPY {
  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

  static func header(handle: FileHandle, fileSize: Int, path: String) throws(DataFileError)
    -> ArrayFileHeader
  {
    func read(_ n: Int) throws(DataFileError) -> [UInt8] {
      let d: Data?
      do { d = try handle.read(upToCount: n) } catch { throw DataFileError(path, "cannot read file") }
      guard let d, d.count == n else { throw DataFileError(path, "not a .npy file: too short") }
      return Array(d)
    }
    let start = try read(10)
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
      let more = try read(2)
      headerLength = Int(start[8]) | Int(start[9]) << 8 | Int(more[0]) << 16 | Int(more[1]) << 24
      prefix = 12
    default:
      throw DataFileError(path, "unsupported .npy version \(major).\(start[7])")
    }
    guard headerLength <= ArrayFile.maxHeaderBytes, prefix + headerLength <= fileSize else {
      throw DataFileError(path, "malformed .npy header length \(headerLength)")
    }
    let text = String(decoding: try read(headerLength), as: UTF8.self)
    var parser = PyLiteralParser(text: text)
    guard case .dict(let dict)? = try? parser.parse() else {
      throw DataFileError(path, "malformed .npy header: \(text.prefix(80))")
    }
    guard case .string(let descr)? = dict["descr"] else {
      throw DataFileError(path, "malformed .npy header: no 'descr'")
    }
    if case .bool(true)? = dict["fortran_order"] {
      throw DataFileError(path, "Fortran-order arrays are not supported; save with C order")
    }
    guard case .tuple(let dims)? = dict["shape"] else {
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

/// The subset of Python literals `.npy` headers use: dicts, tuples, strings, ints, booleans.
struct PyLiteralParser {
  indirect enum Value {
    case dict([String: Value])
    case tuple([Value])
    case string(String)
    case int(Int)
    case bool(Bool)
  }
  struct Failure: Error {}

  let chars: [Character]
  var i = 0
  init(text: String) { chars = Array(text) }

  mutating func skip() { while i < chars.count, chars[i].isWhitespace { i += 1 } }

  mutating func parse() throws -> Value {
    skip()
    guard i < chars.count else { throw Failure() }
    switch chars[i] {
    case "{":
      i += 1
      var d: [String: Value] = [:]
      while true {
        skip()
        if i < chars.count, chars[i] == "}" {
          i += 1
          return .dict(d)
        }
        guard case .string(let key) = try parse() else { throw Failure() }
        skip()
        guard i < chars.count, chars[i] == ":" else { throw Failure() }
        i += 1
        d[key] = try parse()
        skip()
        if i < chars.count, chars[i] == "," { i += 1 }
      }
    case "(":
      i += 1
      var items: [Value] = []
      while true {
        skip()
        if i < chars.count, chars[i] == ")" {
          i += 1
          return .tuple(items)
        }
        items.append(try parse())
        skip()
        if i < chars.count, chars[i] == "," {
          i += 1
        } else if i < chars.count, chars[i] != ")" {
          throw Failure()
        }
      }
    case "'", "\"":
      let quote = chars[i]
      i += 1
      var s = ""
      while i < chars.count, chars[i] != quote {
        s.append(chars[i])
        i += 1
      }
      guard i < chars.count else { throw Failure() }
      i += 1
      return .string(s)
    default:
      var word = ""
      while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "-" {
        word.append(chars[i])
        i += 1
      }
      if word == "True" { return .bool(true) }
      if word == "False" { return .bool(false) }
      if let n = Int(word.hasSuffix("L") ? String(word.dropLast()) : word) { return .int(n) }
      throw Failure()
    }
  }
}
