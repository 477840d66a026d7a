import FP8Formats
import Foundation
import Synchronization

/// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
/// `{"name": {"dtype": "F16", "shape": [..], "data_offsets": [begin, end]}, ...}`, then the data;
/// offsets are relative to the end of the header.
///
/// Every entry of the header is checked, not only the one asked for: offsets are exact
/// non-negative integers, inside the data section, and no two tensors' bytes overlap.
public enum Safetensors {
  /// One tensor's entry in the header.
  struct Entry: Sendable {
    var name: String
    var dtype: String
    var shape: [Int]
    var begin: Int
    var end: Int
  }

  /// Reads and checks the whole header: every entry's dtype, shape and offsets (inside the data
  /// section, not overlapping). Returns the entries and where the data section starts.
  static func entries(_ reader: inout ByteReader) throws(DataFileError) -> (entries: [Entry], dataStart: Int)
  {
    let path = reader.path
    let lengthBytes = try reader.read(8)
    guard lengthBytes.count == 8 else { throw DataFileError(path, "not a .safetensors file: too short") }
    var length: UInt64 = 0
    for (i, b) in lengthBytes.enumerated() { length |= UInt64(b) << UInt64(8 * i) }
    guard length <= UInt64(ArrayFile.maxHeaderBytes), Int(length) <= reader.size - 8 else {
      throw DataFileError(path, "malformed .safetensors header length \(length)")
    }
    let headerBytes = try reader.read(Int(length))
    let dataStart = 8 + Int(length)
    let dataSize = reader.size - dataStart
    // The checked entries depend only on the header's bytes and the data section's size: a
    // model's kernels read the same header dozens of times.
    let key = HeaderKey(bytes: headerBytes, dataSize: dataSize)
    if let known = checkedHeaders.withLock({ $0[key] }) { return (known, dataStart) }
    let root: JSONNode
    do {
      root = try JSONParser.parse(headerBytes, syntax: .json)
    } catch {
      throw DataFileError(path, "malformed .safetensors header: \(error)")
    }
    guard case .object(let members) = root.value else {
      throw DataFileError(path, "malformed .safetensors header: not a JSON object")
    }
    var entries: [Entry] = []
    for member in members where member.key != "__metadata__" {
      let entry = try self.entry(member, path: path)
      guard entry.end <= dataSize else {
        throw DataFileError(
          path,
          "data of \(JSONParser.quoted(entry.name)) extends past the end of the file (data_offsets end at \(entry.end), the data section has \(dataSize) bytes)"
        )
      }
      entries.append(entry)
    }
    try checkNoOverlap(entries, path: path)
    checkedHeaders.withLock {
      if $0.count >= 16 { $0.removeAll() }
      $0[key] = entries
    }
    return (entries, dataStart)
  }

  struct HeaderKey: Hashable {
    var bytes: [UInt8]
    var dataSize: Int
  }
  /// Headers that passed every check, by content (a few: a model's file or two).
  private static let checkedHeaders = Mutex<[HeaderKey: [Entry]]>([:])

  static func header(_ reader: inout ByteReader, tensor: String) throws(DataFileError) -> ArrayFileHeader {
    let path = reader.path
    let (entries, dataStart) = try entries(&reader)
    guard let entry = entries.first(where: { $0.name == tensor }) else {
      let names = entries.map(\.name).sorted()
      throw DataFileError(
        path,
        "no tensor '\(tensor)' (the file has: \(names.prefix(8).map(JSONParser.printable).joined(separator: ", "))\(names.count > 8 ? ", …" : ""))"
      )
    }
    let element: FileElement
    switch entry.dtype {
    case "F16": element = .float16
    case "BF16": element = .bfloat16
    case "F32": element = .float32
    case "F64": element = .float64
    case "F8_E4M3": element = .float8(.e4m3fn)
    case "F8_E5M2": element = .float8(.e5m2)
    default:
      throw DataFileError(
        path,
        "unsupported dtype \(JSONParser.quoted(entry.dtype)) for '\(tensor)' (F16, BF16, F32, F64, F8_E4M3, F8_E5M2)"
      )
    }
    // begin ≤ end ≤ dataSize, so dataStart + begin ≤ the file size.
    let header = try ArrayFileHeader(
      shape: entry.shape, element: element, bigEndian: false, dataOffset: dataStart + entry.begin, path: path)
    guard entry.end - entry.begin == header.byteCount else {
      throw DataFileError(
        path,
        "data_offsets of '\(tensor)' span \(entry.end - entry.begin) bytes, shape \(entry.shape) of \(element) needs \(header.byteCount)"
      )
    }
    return header
  }

  /// Checks one member of the header: dtype, shape and data_offsets (begin ≤ end).
  static func entry(_ member: JSONNode.Member, path: String) throws(DataFileError) -> Entry {
    let name = member.key
    let quotedName = JSONParser.quoted(name)
    func malformed(_ what: String, _ detail: String) -> DataFileError {
      DataFileError(path, "malformed \(what) for \(quotedName): \(detail)")
    }
    guard case .object = member.value.value else {
      throw malformed("entry", "expected an object, got \(member.value.typeName)")
    }
    guard case .string(let dtype)? = member.value["dtype"]?.value else {
      throw malformed("entry", "'dtype' must be a string")
    }
    guard case .array(let dims)? = member.value["shape"]?.value else {
      throw malformed("entry", "'shape' must be a list of integers")
    }
    guard case .array(let offsets)? = member.value["data_offsets"]?.value, offsets.count == 2 else {
      throw malformed("entry", "'data_offsets' must be [begin, end]")
    }
    var shape: [Int] = []
    for d in dims {
      switch nonNegativeInt(d) {
      case .success(let n): shape.append(n)
      case .failure(let problem): throw malformed("shape", problem.message)
      }
    }
    var bounds: [Int] = []
    for o in offsets {
      switch nonNegativeInt(o) {
      case .success(let n): bounds.append(n)
      case .failure(let problem): throw malformed("data_offsets", problem.message)
      }
    }
    guard bounds[0] <= bounds[1] else {
      throw malformed("data_offsets", "begin \(bounds[0]) is after end \(bounds[1])")
    }
    return Entry(name: name, dtype: dtype, shape: shape, begin: bounds[0], end: bounds[1])
  }

  struct NotACount: Error {
    var message: String
  }

  /// An exact non-negative integer that fits `Int`, or why the value is not one.
  static func nonNegativeInt(_ node: JSONNode) -> Result<Int, NotACount> {
    guard case .number(let n) = node.value else {
      return .failure(NotACount(message: "expected an integer, got \(node.typeName)"))
    }
    if let v = n.nonNegativeInt { return .success(v) }
    if !n.isIntegral { return .failure(NotACount(message: "\(n) is not an integer")) }
    if n.double < 0 { return .failure(NotACount(message: "\(n) is negative")) }
    return .failure(NotACount(message: "\(n) is too large"))
  }

  /// No two tensors with data may share a byte.
  static func checkNoOverlap(_ entries: [Entry], path: String) throws(DataFileError) {
    let spans = entries.filter { $0.begin < $0.end }.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
    guard var last = spans.first else { return }
    for span in spans.dropFirst() {
      if span.begin < last.end {
        throw DataFileError(
          path,
          "data of \(JSONParser.quoted(last.name)) (bytes \(last.begin)..<\(last.end)) and \(JSONParser.quoted(span.name)) (bytes \(span.begin)..<\(span.end)) overlap"
        )
      }
      last = span  // span.begin ≥ last.end, so it reaches further
    }
  }

  /// Writes a safetensors file with the given tensors (name, dtype string, shape, raw bytes).
  /// A tensor a file's header lists.
  public struct Listing: Sendable, Equatable {
    public var name: String
    public var dtype: String
    public var shape: [Int]
  }

  /// Every tensor a `.safetensors` file lists, sorted by name, the header checked as for reading
  /// one tensor.
  public static func listing(of url: URL) throws(DataFileError) -> [Listing] {
    let handle: FileHandle
    do { handle = try FileHandle(forReadingFrom: url) } catch {
      throw DataFileError(url.path, "cannot open file")
    }
    defer { try? handle.close() }
    let end: UInt64
    do { end = try handle.seekToEnd() } catch { throw DataFileError(url.path, "cannot read file") }
    guard let size = Int(exactly: end) else { throw DataFileError(url.path, "file is too large") }
    var reader = ByteReader(.file(handle), size: size, path: url.path)
    return try entries(&reader).entries.map { Listing(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
      .sorted { $0.name < $1.name }
  }

  public static func write(_ url: URL, tensors: [(name: String, dtype: String, shape: [Int], data: Data)])
    throws
  {
    var header: [String: Any] = [:]
    var offset = 0
    var body = Data()
    for t in tensors {
      header[t.name] = ["dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + t.data.count]]
      offset += t.data.count
      body.append(t.data)
    }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    while json.count % 8 != 0 { json.append(0x20) }
    var file = Data()
    var n = UInt64(json.count)
    for _ in 0..<8 {
      file.append(UInt8(n & 0xFF))
      n >>= 8
    }
    file.append(json)
    file.append(body)
    try file.write(to: url)
  }
}
