import FP8Formats
import FP8ISA
import Foundation

/// `--dump DIR`: every output as `.npy` files.
///
/// - `NAME.npy`: the device's values as float32 (every FP8, f16 and bf16 value is exact in f32);
/// - `NAME.ref.npy`: the FP32 shadow run's values;
/// - `NAME.codes.npy`: for 8- and 16-bit types, the raw codes (`|u1` / `<u2`), as ml_dtypes views them.
public enum Dump {
  public static func write(_ result: RunResult, to directory: URL) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for o in result.outputs where !o.values.isEmpty {
      try NPY.write(
        directory.appendingPathComponent("\(o.name).npy"), shape: o.shape, descr: "<f4",
        data: floats(o.values))
      try NPY.write(
        directory.appendingPathComponent("\(o.name).ref.npy"), shape: o.shape, descr: "<f4",
        data: floats(o.reference))
      if o.format.totalBits <= 16 {
        var data = Data(capacity: o.values.count * o.format.byteWidth)
        for v in o.values {
          let code = o.format.encode(Double(v)).code
          data.append(UInt8(code & 0xFF))
          if o.format.byteWidth == 2 { data.append(UInt8(code >> 8)) }
        }
        try NPY.write(
          directory.appendingPathComponent("\(o.name).codes.npy"), shape: o.shape,
          descr: o.format.byteWidth == 1 ? "|u1" : "<u2", data: data)
      }
    }
  }

  static func floats(_ values: [Float]) -> Data {
    var data = Data(capacity: values.count * 4)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    return data
  }
}
