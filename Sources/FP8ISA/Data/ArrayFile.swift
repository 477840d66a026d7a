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
public struct ArrayFileHeader: Sendable, Hashable {
  public var shape: [Int]
  public var element: FileElement
  public var bigEndian: Bool
  /// Byte offset of the first element in the file.
  public var dataOffset: Int
  /// Product of `shape`, checked: the header is rejected when it overflows.
  public let elementCount: Int

  init(shape: [Int], element: FileElement, bigEndian: Bool, dataOffset: Int, path: String)
    throws(DataFileError)
  {
    var count = 1
    for d in shape {
      let (p, overflow) = count.multipliedReportingOverflow(by: d)
      guard d >= 0, !overflow else { throw DataFileError(path, "shape \(shape) has too many elements") }
      count = p
    }
    self.shape = shape
    self.element = element
    self.bigEndian = bigEndian
    self.dataOffset = dataOffset
    self.elementCount = count
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

/// Reading and writing the array files programs can name.
public enum ArrayFile {
  /// Largest header accepted (a `.npy` header is at most 64 KiB in format 1.0; safetensors
  /// recommends 100 MB, fp8sim accepts 16 MiB).
  public static let maxHeaderBytes = 16 << 20

  /// Reads and validates a file's header (and that the file holds all the data it promises).
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
    let fileSize: Int
    do {
      fileSize = Int(try handle.seekToEnd())
      try handle.seek(toOffset: 0)
    } catch {
      throw DataFileError(path, "cannot read file")
    }
    let header: ArrayFileHeader
    if url.pathExtension == "safetensors" {
      guard let name else { throw DataFileError(path, "a tensor name is needed for .safetensors") }
      header = try Safetensors.header(handle: handle, fileSize: fileSize, path: path, tensor: name)
    } else {
      header = try NPY.header(handle: handle, fileSize: fileSize, path: path)
    }
    let (bytes, overflow) = header.elementCount.multipliedReportingOverflow(by: header.element.byteWidth)
    guard !overflow, header.dataOffset <= fileSize, bytes <= fileSize - header.dataOffset else {
      throw DataFileError(
        path,
        "file is truncated: shape \(header.shape) of \(header.element) needs \(overflow ? "too many" : String(bytes)) bytes of data"
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
      data = try handle.read(upToCount: header.elementCount * header.element.byteWidth) ?? Data()
    } catch {
      throw DataFileError(url.path, "cannot read data")
    }
    guard data.count == header.elementCount * header.element.byteWidth else {
      throw DataFileError(url.path, "file is truncated")
    }
    let width = header.element.byteWidth
    if case .rawCodes(let n) = header.element, n != format.byteWidth {
      throw DataFileError(url.path, "\(n)-byte codes cannot hold \(format.name) values")
    }
    var values = [Double](repeating: 0, count: header.elementCount)
    data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
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
        case .rawCodes: values[i] = format.decode(UInt32(bits))
        }
      }
    }
    return values
  }
}
