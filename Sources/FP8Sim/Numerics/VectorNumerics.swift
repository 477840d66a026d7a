import FP8Formats
import FP8ISA

/// How the results of a vector instruction are stored: the output options of the ISA.
struct OutputCast {
  var format: FloatFormat
  var bias: Int
  var rounding: RoundingMode
  var overflow: OverflowMode
  /// Stream of random bits for stochastic rounding (element index is added per value).
  var seed: UInt64

  /// f16 and f32 results rounded to nearest, ties to even, with non-finite overflow: the host's
  /// conversion gives the same value and event as `encode` (one rounding of the exact scaled
  /// value; `OutputCastTests` compares them), several times faster.
  private let host: HostFormat?
  private enum HostFormat { case f16, f32 }
  /// Narrow formats (FP8, FP6, FP4 and other ≤ 16-bit formats), nearest-even: rounded in f64
  /// arithmetic (`FloatFormat.nearestFinite`); zeros and overflow take `encode`.
  private let narrow: Bool

  init(format: FloatFormat, bias: Int, rounding: RoundingMode, overflow: OverflowMode, seed: UInt64) {
    self.format = format
    self.bias = bias
    self.rounding = rounding
    self.overflow = overflow
    self.seed = seed
    let plain = rounding == .nearestEven && overflow == .nonfinite
    host = !plain ? nil : format == .f16 ? .f16 : format == .f32 ? .f32 : nil
    narrow = rounding == .nearestEven && host == nil && format.totalBits <= 16
  }

  /// Stores `x · 2^bias` in `format`; returns the stored value (not unscaled) and the event.
  @inline(__always)
  func store(_ x: Double, index: Int) -> (Float, CastEvent) {
    if let host {
      // x · 2^bias is exact while it stays inside the normal doubles; zeros, NaN, infinities and
      // anything near the ends of the double range take the general path.
      let y = bias == 0 ? x : ScalingBias.scaled(x, by: bias)
      let m = y.magnitude
      if m > 0x1p-1000 && m < 0x1p1000 {
        let v = host == .f16 ? Float(Float16(y)) : Float(y)
        let event: CastEvent =
          v.isInfinite ? .overflow : v == 0 ? .underflow : Double(v) == y ? .exact : .rounded
        return (v, event)
      }
    }
    if narrow {
      let y = bias == 0 ? x : ScalingBias.scaled(x, by: bias)
      if let r = format.nearestFinite(y) { return (Float(r), r == y ? .exact : .rounded) }
    }
    let bits = rounding == .stochastic ? RandomBits.at(seed: seed, index: UInt64(index)) : 0
    // The scaling is exact inside `encode` (x · 2^bias is never formed as a Double).
    let e = format.encode(x, scale: bias, rounding: rounding, overflow: overflow, randomBits: bits)
    return (Float(format.decode(e.code)), e.event)
  }

  /// The shadow run's store: `x · 2^bias` rounded to f32 only.
  @inline(__always)
  func storeShadow(_ x: Double) -> Float {
    Float(bias == 0 ? x : ScalingBias.scaled(x, by: bias))
  }
}

/// The elementwise and row-wise operations of the vector unit, on gathered values.
enum VectorNumerics {
  /// The per-element function of an elementwise binary instruction.
  static func binary(_ f: BinaryFunction) -> (Double, Double) -> Double {
    switch f {
    case .add: return { $0 + $1 }
    case .sub: return { $0 - $1 }
    case .mul: return { $0 * $1 }
    case .div: return { $0 / $1 }
    case .max: return maxNaN
    }
  }

  /// The per-element function of an elementwise unary instruction.
  static func unary(_ f: UnaryFunction) -> (Double) -> Double {
    switch f {
    case .relu: return { a in a.isNaN ? .nan : max(a, 0) }
    case .gelu: return { a in 0.5 * a * (1 + Math.erf(a * 0.70710678118654752440)) }
    case .exp: return { a in Math.exp(a) }
    case .geluTanh:
      return { a in 0.5 * a * (1 + Math.tanh(0.79788456080286535588 * (a + 0.044715 * a * a * a))) }
    case .silu: return { a in a / (1 + Math.exp(-a)) }
    case .sqrt: return { a in a.squareRoot() }
    case .geluGrad:
      // Φ(a) + a·φ(a), φ the standard normal density.
      return { a in
        0.5 * (1 + Math.erf(a * 0.70710678118654752440)) + a * 0.39894228040143267794 * Math.exp(-0.5 * a * a)
      }
    case .geluTanhGrad:
      return { a in
        let c = 0.79788456080286535588
        let th = Math.tanh(c * (a + 0.044715 * a * a * a))
        return 0.5 * (1 + th) + 0.5 * a * (1 - th * th) * c * (1 + 3 * 0.044715 * a * a)
      }
    case .siluGrad:
      return { a in
        let s = 1 / (1 + Math.exp(-a))
        return s * (1 + a * (1 - s))
      }
    }
  }

  /// The scalar core's float arithmetic (f64).
  static func apply(_ op: FloatOperator, _ a: Double, _ b: Double) -> Double {
    switch op {
    case .add: return a + b
    case .mul: return a * b
    case .max: return maxNaN(a, b)
    case .min: return a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
    case .div: return a / b
    case .sqrt: return a.squareRoot()
    }
  }

  /// Each row of `values` (rows of `width` elements) reduced in order, in f64: max (NaN if any
  /// is NaN), max |a| or sum.
  static func rowReduce(_ r: Reduction, _ values: [Double], width: Int) -> [Double] {
    stride(from: 0, to: values.count, by: width).map { start in
      var acc: Double = r == .max ? -.infinity : 0
      for v in values[start..<start + width] {
        switch r {
        case .max: acc = maxNaN(acc, v)
        case .amax: acc = maxNaN(acc, v.magnitude)
        case .sum: acc += v
        }
      }
      return acc
    }
  }

  /// Softmax of each row of `values` (rows of `width` elements), numerically stable, in f64.
  static func softmax(_ values: [Double], width: Int) -> [Double] {
    var out = values
    var row = 0
    while row < values.count {
      let r = row..<(row + width)
      let m = values[r].reduce(-Double.infinity, maxNaN)
      var sum = 0.0
      for i in r {
        out[i] = Math.exp(values[i] - m)
        sum += out[i]
      }
      for i in r { out[i] /= sum }
      row += width
    }
    return out
  }

  /// Rotary position embedding of each row (rotate-half form): row r at position
  /// `firstPosition + r`, the pairs (j, j + width/2) turned by `p · base^(−2j/width)`.
  static func rope(_ values: [Double], width: Int, firstPosition: Int, base: Double) -> [Double] {
    var out = values
    let half = width / 2
    let frequencies = (0..<half).map { j in Math.pow(base, -2 * Double(j) / Double(width)) }
    var row = 0
    while row * width < values.count {
      let p = Double(firstPosition + row)
      let r0 = row * width
      for j in 0..<half {
        let theta = p * frequencies[j]
        let (c, s) = (Math.cos(theta), Math.sin(theta))
        let (x1, x2) = (values[r0 + j], values[r0 + j + half])
        out[r0 + j] = x1 * c - x2 * s
        out[r0 + j + half] = x2 * c + x1 * s
      }
      row += 1
    }
    return out
  }

  /// Layer normalisation of each row (population variance), then `· gamma + beta`; with `rms`,
  /// RMS normalisation (the mean square in place of the variance, no mean subtracted; `beta` is
  /// nil then).
  static func layernorm(
    _ values: [Double], width: Int, gamma: [Double]?, beta: [Double]?, eps: Double, rms: Bool = false
  ) -> [Double] {
    var out = values
    var row = 0
    let n = Double(width)
    while row < values.count {
      let r = row..<(row + width)
      var mean = 0.0
      if !rms {
        for i in r { mean += values[i] }
        mean /= n
      }
      var variance = 0.0
      for i in r {
        let d = values[i] - mean
        variance += d * d
      }
      variance /= n
      let inv = 1 / (variance + eps).squareRoot()
      for (j, i) in r.enumerated() {
        out[i] = (values[i] - mean) * inv * (gamma?[j] ?? 1) + (beta?[j] ?? 0)
      }
      row += width
    }
    return out
  }

  /// The larger of two values, NaN if either is NaN (the max of `vmax`, `rmax`, `amax`,
  /// `fmax`, `allreduce.max` and the softmax row maximum).
  static func maxNaN(_ a: Double, _ b: Double) -> Double { a.isNaN || b.isNaN ? .nan : max(a, b) }

  /// `max |x|` with NaN propagation.
  static func amax(_ values: [Double]) -> Double {
    var m = 0.0
    for v in values {
      if v.isNaN { return .nan }
      m = max(m, v.magnitude)
    }
    return m
  }
}
