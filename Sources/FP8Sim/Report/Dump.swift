import FP8Data
import FP8Formats
import FP8ISA
import Foundation

/// `--dump DIR`: every output as `.npy` files.
///
/// - `NAME.npy`: the device's values as float32 (every FP8, f16 and bf16 value is exact in f32);
/// - `NAME.ref.npy`: the FP32 shadow run's values;
/// - `NAME.codes.npy`: for 8- and 16-bit types, the raw codes (`|u1` / `<u2`), as ml_dtypes views them
///   (not for block-scaled types, whose values are elements times block scales).
public enum Dump {
  /// The file names of one output: the one rule `files` and `fileNames(outputs:)` share.
  static func names(of output: String, bits: Int) -> (values: String, reference: String, codes: String?) {
    ("\(output).npy", "\(output).ref.npy", bits <= 16 ? "\(output).codes.npy" : nil)
  }

  /// The files of every output, as (file name, contents), in output order; written by the
  /// caller (the CLI writes each atomically and checks that no two names collide).
  public static func files(_ result: RunResult) -> [(name: String, data: Data)] {
    var files: [(name: String, data: Data)] = []
    for o in result.outputs where !o.values.isEmpty {
      let blocked = DType.named(o.dtype)?.blocking != nil
      let name = names(of: o.name, bits: blocked ? 32 : o.format.totalBits)
      files.append((name.values, NPY.encode(shape: o.shape, descr: "<f4", data: floats(o.values))))
      files.append((name.reference, NPY.encode(shape: o.shape, descr: "<f4", data: floats(o.reference))))
      if let codes = name.codes {
        var data = Data(capacity: o.values.count * o.format.byteWidth)
        for v in o.values {
          let code = o.format.encode(Double(v)).code
          data.append(UInt8(code & 0xFF))
          if o.format.byteWidth == 2 { data.append(UInt8(code >> 8)) }
        }
        files.append(
          (codes, NPY.encode(shape: o.shape, descr: o.format.byteWidth == 1 ? "|u1" : "<u2", data: data)))
      }
    }
    return files
  }

  /// The file names `files` will produce for a program's outputs (known before the run).
  public static func fileNames(outputs: [(name: String, bits: Int)]) -> [String] {
    outputs.flatMap { o in
      let name = names(of: o.name, bits: o.bits)
      return [name.values, name.reference] + (name.codes.map { [$0] } ?? [])
    }
  }

  static func floats(_ values: [Float]) -> Data {
    var data = Data(capacity: values.count * 4)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    return data
  }
}
