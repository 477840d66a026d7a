import FP8Data
import FP8Formats
import FP8ISA
import Foundation

/// Initial tensor values. The device copy holds each value rounded once to the tensor's type
/// (nearest-even, non-finite overflow); the FP32 shadow holds it rounded to f32 only, so input
/// quantisation shows in the reported error.
enum Initializers {
  /// Fills `storage`; returns how many initial values are NaN and how many infinite.
  @discardableResult
  static func fill(_ storage: TensorStorage, layout: TensorLayout, baseDirectory: URL?) throws(RuntimeFault)
    -> (nan: Int, inf: Int)
  {
    try fillValues(storage, layout: layout, baseDirectory: baseDirectory)
    var nan = 0
    var inf = 0
    for v in storage.shadow where !v.isFinite {
      if v.isNaN { nan += 1 } else { inf += 1 }
    }
    return (nan, inf)
  }

  static func fillValues(_ storage: TensorStorage, layout: TensorLayout, baseDirectory: URL?)
    throws(RuntimeFault)
  {
    let format = layout.format
    let n = layout.count
    func set(_ i: Int, _ x: Double) {
      storage.main[i] = Float(format.round(x))
      storage.shadow[i] = Float(x)
    }
    switch layout.decl.initializer {
    case .zeros:
      return
    case .constant(let v):
      let main = Float(format.round(v))
      let shadow = Float(v)
      for i in 0..<n {
        storage.main[i] = main
        storage.shadow[i] = shadow
      }
    case .randn(let seed, let mean, let std):
      var rng = SplitMix64(seed: seed)
      for i in 0..<n { set(i, mean + std * rng.nextGaussian()) }
    case .uniform(let seed, let low, let high):
      var rng = SplitMix64(seed: seed)
      for i in 0..<n { set(i, low + (high - low) * rng.nextUnit()) }
    case .npy(let path), .safetensors(let path, _):
      var name: String?
      if case .safetensors(_, let n) = layout.decl.initializer { name = n }
      let url = Assembler.resolve(path, base: baseDirectory)
      do throws(DataFileError) {
        let header = try ArrayFile.header(of: url, tensor: name)
        guard header.shape == layout.decl.shape else {
          throw DataFileError(path, "shape \(header.shape) does not match the declared \(layout.decl.shape)")
        }
        let values = try ArrayFile.readValues(url, header: header, rawFormat: format)
        for i in 0..<n { set(i, values[i]) }
      } catch {
        throw RuntimeFault(
          "cannot load '\(layout.decl.name)': \(error.description)", at: layout.decl.location)
      }
    }
  }
}
