import FP8Formats
import Foundation

/// The element encoding of an array stored in a `.npy` or `.safetensors` file.
public enum FileElement: Sendable, Hashable, CustomStringConvertible {
  case float16, bfloat16, float32, float64
  /// OCP FP8 as safetensors names it (`F8_E4M3`, `F8_E5M2`).
  case float8(FloatFormat)
  /// Raw codes of the tensor's own element type (`.npy` `|V1`/`|u1`, `<V2`/`<u2`), as ml_dtypes
  /// saves its FP8 and bfloat16 arrays.
  case rawCodes(bytes: Int)

  public var byteWidth: Int {
    switch self {
    case .float16, .bfloat16: return 2
    case .float32: return 4
    case .float64: return 8
    case .float8: return 1
    case .rawCodes(let n): return n
    }
  }

  public var description: String {
    switch self {
    case .float16: return "float16"
    case .bfloat16: return "bfloat16"
    case .float32: return "float32"
    case .float64: return "float64"
    case .float8(let f): return "float8 \(f.name)"
    case .rawCodes(let n): return "\(n)-byte raw codes"
    }
  }
}

/// What the header of an array file says: enough to check a declaration without reading data.
/// Only the readers make one, after checking every value against the file.
public struct ArrayFileHeader: Sendable, Hashable {
  public let shape: [Int]
  public let element: FileElement
  public let bigEndian: Bool
  /// Byte offset of the first element in the file.
  public let dataOffset: Int
  /// Product of `shape`, checked: the header is rejected when it overflows.
  public let elementCount: Int
  /// `elementCount × element.byteWidth`, checked the same way.
  public let byteCount: Int

  init(shape: [Int], element: FileElement, bigEndian: Bool, dataOffset: Int, path: String)
    throws(DataFileError)
  {
    self.shape = shape
    self.element = element
    self.bigEndian = bigEndian
    self.dataOffset = dataOffset
    (elementCount, byteCount) = try Self.counts(shape: shape, element: element, path: path)
  }

  /// Element and byte counts of `shape`, with overflow reported as an error.
  static func counts(shape: [Int], element: FileElement, path: String) throws(DataFileError) -> (Int, Int) {
    var count = 1
    for d in shape {
      let (p, overflow) = count.multipliedReportingOverflow(by: d)
      guard d >= 0, !overflow else { throw DataFileError(path, "shape \(shape) has too many elements") }
      count = p
    }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: element.byteWidth)
    guard !overflow else {
      throw DataFileError(path, "shape \(shape) of \(element) needs more than \(Int.max) bytes")
    }
    return (count, bytes)
  }

  /// Why the file's elements cannot initialise a tensor whose elements are `byteWidth` bytes
  /// of type `typeName`; `nil` when they can. Raw codes must have the tensor's own width
  /// (values of other encodings are converted).
  public func problem(storingInto typeName: String, byteWidth: Int) -> String? {
    guard case .rawCodes(let n) = element, n != byteWidth else { return nil }
    return
      "\(n)-byte raw codes cannot hold \(typeName) values (\(byteWidth) byte\(byteWidth == 1 ? "" : "s") each)"
  }
}

/// A malformed or unsupported data file, with a message that says what is wrong.
public struct DataFileError: Error, Sendable, Equatable, CustomStringConvertible {
  public var path: String
  public var message: String
  public init(_ path: String, _ message: String) {
    self.path = path
    self.message = message
  }
  public var description: String { "\(path): \(message)" }
}

/// Where a header is read from: an open file, or bytes in memory (tests and fuzzers).
struct ByteReader {
  enum Source {
    case file(FileHandle)
    case memory([UInt8])
  }
  let source: Source
  /// Size of the whole file in bytes.
  let size: Int
  let path: String
  /// Where the next `read` starts.
  private(set) var offset = 0

  init(_ source: Source, size: Int, path: String) {
    self.source = source
    self.size = size
    self.path = path
  }

  /// The next `count` bytes, or fewer at the end of the file.
  mutating func read(_ count: Int) throws(DataFileError) -> [UInt8] {
    let n = max(0, min(count, size - offset))
    let bytes: [UInt8]
    switch source {
    case .memory(let all):
      bytes = Array(all[offset..<offset + n])
    case .file(let handle):
      do {
        try handle.seek(toOffset: UInt64(offset))
        bytes = Array(try handle.read(upToCount: n) ?? Data())
      } catch {
        throw DataFileError(path, "cannot read file")
      }
    }
    offset += bytes.count
    return bytes
  }
}

/// Reading and writing the array files programs can name.
public enum ArrayFile {
  /// Largest header accepted (a `.npy` header is at most 64 KiB in format 1.0; safetensors
  /// recommends 100 MB, fp8sim accepts 16 MiB).
  public static let maxHeaderBytes = 16 << 20

  /// Reads and validates a file's header (and that the file holds all the data it promises).
  /// `.safetensors` files (by extension) need the tensor's name; anything else is read as `.npy`.
  public static func header(of url: URL, tensor name: String? = nil) throws(DataFileError)
    -> ArrayFileHeader
  {
    let path = url.path
    let handle: FileHandle
    do {
      handle = try FileHandle(forReadingFrom: url)
    } catch {
      throw DataFileError(path, "cannot open file")
    }
    defer { try? handle.close() }
    let end: UInt64
    do { end = try handle.seekToEnd() } catch { throw DataFileError(path, "cannot read file") }
    guard let fileSize = Int(exactly: end) else { throw DataFileError(path, "file is too large") }
    var reader = ByteReader(.file(handle), size: fileSize, path: path)
    return try header(&reader, safetensors: url.pathExtension == "safetensors", tensor: name)
  }

  /// The same checks on a file held in memory (`path` names it in messages and chooses the
  /// format by its extension, as for files).
  public static func header(in bytes: [UInt8], path: String, tensor name: String? = nil)
    throws(DataFileError) -> ArrayFileHeader
  {
    var reader = ByteReader(.memory(bytes), size: bytes.count, path: path)
    return try header(&reader, safetensors: path.hasSuffix(".safetensors"), tensor: name)
  }

  static func header(_ reader: inout ByteReader, safetensors: Bool, tensor name: String?)
    throws(DataFileError) -> ArrayFileHeader
  {
    let path = reader.path
    let header: ArrayFileHeader
    if safetensors {
      guard let name else { throw DataFileError(path, "a tensor name is needed for .safetensors") }
      header = try Safetensors.header(&reader, tensor: name)
    } else {
      header = try NPY.header(&reader)
    }
    // Both readers check dataOffset ≤ size; subtracting cannot overflow.
    guard header.dataOffset <= reader.size, header.byteCount <= reader.size - header.dataOffset else {
      throw DataFileError(
        path,
        "file is truncated: shape \(header.shape) of \(header.element) needs \(header.byteCount) bytes of data"
      )
    }
    return header
  }

  /// Reads every element as a `Double` (`rawCodes` decoded with `format`).
  public static func readValues(_ url: URL, header: ArrayFileHeader, rawFormat format: FloatFormat)
    throws(DataFileError) -> [Double]
  {
    let data: Data
    do {
      let handle = try FileHandle(forReadingFrom: url)
      defer { try? handle.close() }
      try handle.seek(toOffset: UInt64(header.dataOffset))
      data = try handle.read(upToCount: header.byteCount) ?? Data()
    } catch {
      throw DataFileError(url.path, "cannot read data")
    }
    guard data.count == header.byteCount else { throw DataFileError(url.path, "file is truncated") }
    return try data.withUnsafeBytes { raw in
      Result { () throws(DataFileError) in try decode(raw, header: header, rawFormat: format, path: url.path)
      }
    }.get()
  }

  /// Rows of a 2-D array (each `rows` index below its first dimension), in the order asked,
  /// read one by one: an embedding look-up reads a few rows of a large table.
  public static func readRows(
    _ url: URL, header: ArrayFileHeader, rows: [Int], rawFormat format: FloatFormat
  ) throws(DataFileError) -> [Double] {
    guard header.shape.count == 2 else {
      throw DataFileError(url.path, "rows of a \(header.shape.count)-D array: expected a 2-D one")
    }
    let (count, width) = (header.shape[0], header.shape[1])
    let rowHeader = try ArrayFileHeader(
      shape: [1, width], element: header.element, bigEndian: header.bigEndian, dataOffset: 0, path: url.path)
    var values: [Double] = []
    values.reserveCapacity(rows.count * width)
    do {
      let handle = try FileHandle(forReadingFrom: url)
      defer { try? handle.close() }
      for r in rows {
        guard (0..<count).contains(r) else {
          throw DataFileError(url.path, "row \(r) is outside the array's \(count) rows")
        }
        try handle.seek(toOffset: UInt64(header.dataOffset + r * rowHeader.byteCount))
        let data = try handle.read(upToCount: rowHeader.byteCount) ?? Data()
        guard data.count == rowHeader.byteCount else { throw DataFileError(url.path, "file is truncated") }
        values += try data.withUnsafeBytes { raw in
          Result { () throws(DataFileError) in
            try decode(raw, header: rowHeader, rawFormat: format, path: url.path)
          }
        }.get()
      }
    } catch let error as DataFileError {
      throw error
    } catch {
      throw DataFileError(url.path, "cannot read data")
    }
    return values
  }

  /// The values of a file held in memory whose header `header(in:path:)` returned.
  public static func values(
    in bytes: [UInt8], header: ArrayFileHeader, rawFormat format: FloatFormat, path: String
  )
    throws(DataFileError) -> [Double]
  {
    guard header.dataOffset <= bytes.count, header.byteCount <= bytes.count - header.dataOffset else {
      throw DataFileError(path, "file is truncated")
    }
    return try bytes.withUnsafeBytes { raw in
      Result { () throws(DataFileError) in
        try decode(
          UnsafeRawBufferPointer(rebasing: raw[header.dataOffset..<header.dataOffset + header.byteCount]),
          header: header, rawFormat: format, path: path)
      }
    }.get()
  }

  /// Decodes `header.byteCount` bytes of data. Raw codes must have `format`'s width and fit its
  /// bits (a code with bits above them would otherwise be silently masked).
  static func decode(
    _ raw: UnsafeRawBufferPointer, header: ArrayFileHeader, rawFormat format: FloatFormat, path: String
  )
    throws(DataFileError) -> [Double]
  {
    precondition(raw.count == header.byteCount)
    if let problem = header.problem(storingInto: format.name, byteWidth: format.byteWidth) {
      throw DataFileError(path, problem)
    }
    let width = header.element.byteWidth
    if case .float32 = header.element, !header.bigEndian {
      // The common case (PyTorch checkpoints, numpy f32) as one loop of loads.
      return (0..<header.elementCount).map {
        Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian))
      }
    }
    var values = [Double](repeating: 0, count: header.elementCount)
    for i in 0..<header.elementCount {
      var bits: UInt64 = 0
      for b in 0..<width {
        let byte = UInt64(raw[i * width + (header.bigEndian ? width - 1 - b : b)])
        bits |= byte << UInt64(8 * b)
      }
      switch header.element {
      case .float16: values[i] = FloatFormat.f16.decode(UInt32(bits))
      case .bfloat16: values[i] = FloatFormat.bf16.decode(UInt32(bits))
      case .float32: values[i] = Double(Float(bitPattern: UInt32(bits)))
      case .float64: values[i] = Double(bitPattern: bits)
      case .float8(let f): values[i] = f.decode(UInt32(bits))
      case .rawCodes:
        guard format.totalBits >= 64 || bits >> UInt64(format.totalBits) == 0 else {
          throw DataFileError(
            path,
            "raw code 0x\(String(bits, radix: 16, uppercase: true)) of element \(i) does not fit \(format.name) (\(format.totalBits) bits)"
          )
        }
        values[i] = format.decode(UInt32(bits))
      }
    }
    return values
  }
}
