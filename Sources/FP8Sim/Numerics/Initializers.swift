import FP8Data
import FP8Formats
import FP8ISA
import FP8KernelsC
import Foundation

/// Initial tensor values. The device copy holds each value rounded once to the tensor's type
/// (nearest-even, non-finite overflow); the FP32 shadow holds it rounded to f32 only, so input
/// quantisation shows in the reported error.
enum Initializers {
  /// Fills elements in chunks across cores; `generator(start)` makes the value source of the
  /// chunk starting at element `start`, which yields what a single sequential pass would at
  /// those elements (so results do not depend on the number of cores). `round` replaces
  /// `format.round` where a faster conversion gives the same values.
  static func inParallel(
    _ storage: TensorStorage, count n: Int, format: FloatFormat,
    _ generator: @Sendable (Int) -> () -> Double, round: (@Sendable (Double) -> Float)? = nil
  ) {
    let chunk = 1 << 16
    let chunks = (n + chunk - 1) / chunk
    storage.main.withUnsafeMutableBufferPointer { main in
      storage.shadow.withUnsafeMutableBufferPointer { shadow in
        let pointers = (main: UnsafeSendable(main), shadow: UnsafeSendable(shadow))
        @Sendable func fill(_ c: Int) {
          let start = c * chunk
          let next = generator(start)
          for i in start..<min(n, start + chunk) {
            let x = next()
            pointers.main.value[i] = round?(x) ?? Float(format.round(x))
            pointers.shadow.value[i] = Float(x)
          }
        }
        MMAKernels.split(chunks, fill)
      }
    }
  }

  /// Fills `storage`; returns how many initial values are NaN and how many infinite.
  @discardableResult
  static func fill(_ storage: TensorStorage, layout: TensorLayout, baseDirectory: URL?) throws(RuntimeFault)
    -> (nan: Int, inf: Int)
  {
    try fillValues(storage, layout: layout, baseDirectory: baseDirectory)
    if let scheme = layout.blocking { quantizeBlocks(storage, layout: layout, scheme: scheme) }
    var nan = 0
    var inf = 0
    for v in storage.shadow where !v.isFinite {
      if v.isNaN { nan += 1 } else { inf += 1 }
    }
    return (nan, inf)
  }

  /// A block-scaled tensor's device values: its initial (shadow) values quantised block by
  /// block, plane by plane (the last two dimensions), each value the element times its block's
  /// scale (rounded to f32 where the scale is not a power of two). NVFP4's tensor scale is 1
  /// (its amax taken as 448 · 6): the values are the initial values, quantised, with nothing to
  /// divide them by.
  static func quantizeBlocks(_ storage: TensorStorage, layout: TensorLayout, scheme: BlockScaling) {
    let (rows, cols) = BlockScaling.plane(of: layout.decl.shape)
    let plane = rows * cols
    guard plane > 0 else { return }
    for p in 0..<(layout.count / plane) {
      let values = storage.shadow[(p * plane)..<((p + 1) * plane)].map(Double.init)
      let q = scheme.quantize(
        values, rows: rows, cols: cols,
        tensorAmax: scheme.rule == .nvfp4 ? BlockScaling.nvfp4UnitScaleAmax : nil
      )
      .values()
      for i in 0..<plane { storage.main[p * plane + i] = Float(q[i]) }
    }
  }

  /// `FloatFormat.f16.round(x)` as a Float: for an f32 value by the host's conversion (nearest
  /// even, IEEE overflow to infinity: the same value, much faster), for others by `round`.
  @Sendable static func f16(_ x: Double) -> Float {
    let f = Float(x)
    return Double(f) == x ? Float(Float16(f)) : Float(FloatFormat.f16.round(x))
  }

  /// `storage.main = RN_f16(storage.shadow)` by the AVX2 kernel, in chunks across cores.
  static func roundF16(_ storage: TensorStorage, count n: Int) {
    let chunk = 1 << 16
    storage.main.withUnsafeMutableBufferPointer { main in
      storage.shadow.withUnsafeBufferPointer { shadow in
        let pointers = (main: UnsafeSendable(main), shadow: UnsafeSendable(shadow))
        MMAKernels.split((n + chunk - 1) / chunk) { c in
          let start = c * chunk
          fp8k_round_f16(
            pointers.shadow.value.baseAddress! + start, pointers.main.value.baseAddress! + start,
            min(chunk, n - start))
        }
      }
    }
  }

  static func fillValues(_ storage: TensorStorage, layout: TensorLayout, baseDirectory: URL?)
    throws(RuntimeFault)
  {
    let format = layout.format
    let n = layout.count
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
      // Each deviate takes two steps of the generator: a chunk from element s starts at step 2s.
      inParallel(storage, count: n, format: format) { start in
        var rng = SplitMix64(seed: seed &+ UInt64(2 * start) &* SplitMix64.increment)
        return { mean + std * rng.nextGaussian() }
      }
    case .uniform(let seed, let low, let high):
      inParallel(storage, count: n, format: format) { start in
        var rng = SplitMix64(seed: seed &+ UInt64(start) &* SplitMix64.increment)
        return { low + (high - low) * rng.nextUnit() }
      }
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
        var exactF32 = format == .f32 || format == .f16
        if exactF32 {
          storage.shadow.withUnsafeMutableBufferPointer { shadow in
            for i in 0..<n {
              shadow[i] = Float(values[i])
              exactF32 = exactF32 && (Double(shadow[i]) == values[i] || values[i].isNaN)
            }
          }
        }
        if format == .f32 {
          // The device holds f32 values as the shadow does: one conversion each.
          storage.main = storage.shadow
        } else if format == .f16 && exactF32 && KernelSet.best == .avx2 {
          // f32 values (a PyTorch checkpoint's) rounded to f16 eight at a time, on every core.
          roundF16(storage, count: n)
        } else {
          inParallel(
            storage, count: n, format: format,
            { start in
              var i = start
              return {
                defer { i += 1 }
                return values[i]
              }
            }, round: format == .f16 ? f16 : nil)
        }
      } catch {
        throw RuntimeFault(
          "cannot load '\(layout.decl.name)': \(error.description)", at: layout.decl.location)
      }
    }
  }
}

/// A buffer handed to `concurrentPerform` workers that write disjoint elements of it.
struct UnsafeSendable<T>: @unchecked Sendable {
  var value: T
  init(_ value: T) { self.value = value }
}
