import FP8Formats
import Foundation

/// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
/// `{"name": {"dtype": "F16", "shape": [..], "data_offsets": [begin, end]}, ...}`, then the data;
/// offsets are relative to the end of the header.
public enum Safetensors {
  static func header(handle: FileHandle, fileSize: Int, path: String, tensor: String)
    throws(DataFileError) -> ArrayFileHeader
  {
    let lengthBytes: Data?
    do { lengthBytes = try handle.read(upToCount: 8) } catch {
      throw DataFileError(path, "cannot read file")
    }
    guard let lengthBytes, lengthBytes.count == 8 else {
      throw DataFileError(path, "not a .safetensors file: too short")
    }
    var length: UInt64 = 0
    for (i, b) in lengthBytes.enumerated() { length |= UInt64(b) << UInt64(8 * i) }
    guard length <= UInt64(ArrayFile.maxHeaderBytes), Int(length) <= fileSize - 8 else {
      throw DataFileError(path, "malformed .safetensors header length \(length)")
    }
    let json: Data?
    do { json = try handle.read(upToCount: Int(length)) } catch {
      throw DataFileError(path, "cannot read file")
    }
    guard let json, json.count == Int(length),
      let object = try? JSONSerialization.jsonObject(with: json), let dict = object as? [String: Any]
    else {
      throw DataFileError(path, "malformed .safetensors header: not a JSON object")
    }
    guard let entry = dict[tensor] as? [String: Any] else {
      let names = dict.keys.filter { $0 != "__metadata__" }.sorted()
      throw DataFileError(
        path,
        "no tensor '\(tensor)' (the file has: \(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", …" : ""))"
      )
    }
    guard let dtype = entry["dtype"] as? String, let shapeAny = entry["shape"] as? [Any],
      let offsetsAny = entry["data_offsets"] as? [Any], offsetsAny.count == 2
    else {
      throw DataFileError(path, "malformed entry for '\(tensor)'")
    }
    var shape: [Int] = []
    for d in shapeAny {
      guard let n = (d as? NSNumber)?.intValue, n >= 0 else {
        throw DataFileError(path, "malformed shape for '\(tensor)'")
      }
      shape.append(n)
    }
    guard let begin = (offsetsAny[0] as? NSNumber)?.intValue,
      let end = (offsetsAny[1] as? NSNumber)?.intValue,
      begin >= 0, end >= begin
    else {
      throw DataFileError(path, "malformed data_offsets for '\(tensor)'")
    }
    let element: FileElement
    switch dtype {
    case "F16": element = .float16
    case "BF16": element = .bfloat16
    case "F32": element = .float32
    case "F64": element = .float64
    case "F8_E4M3": element = .float8(.e4m3fn)
    case "F8_E5M2": element = .float8(.e5m2)
    default:
      throw DataFileError(
        path, "unsupported dtype '\(dtype)' for '\(tensor)' (F16, BF16, F32, F64, F8_E4M3, F8_E5M2)")
    }
    let dataStart = 8 + Int(length)
    let header = try ArrayFileHeader(
      shape: shape, element: element, bigEndian: false, dataOffset: dataStart + begin, path: path)
    let (bytes, overflow) = header.elementCount.multipliedReportingOverflow(by: element.byteWidth)
    guard !overflow, end - begin == bytes else {
      throw DataFileError(
        path,
        "data_offsets of '\(tensor)' span \(end - begin) bytes, shape \(shape) of \(element) needs \(overflow ? "too many" : String(bytes))"
      )
    }
    guard end <= fileSize - dataStart else {
      throw DataFileError(path, "data of '\(tensor)' extends past the end of the file")
    }
    return header
  }

  /// Writes a safetensors file with the given tensors (name, dtype string, shape, raw bytes).
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
