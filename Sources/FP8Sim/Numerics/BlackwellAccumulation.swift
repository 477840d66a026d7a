import FP8Formats
import FP8ISA

/// How `f32rz` reads the values of one packed `mma` operand: each value is an element of a narrow
/// format times its block's power-of-two scale (an MX block scale; 2^0 without block scales).
/// The element is read as a significand in [1, 2) times 2^e, with e at least the element format's
/// smallest normal exponent (a subnormal element keeps that exponent and a significand below 1),
/// and the block scale's exponent is added to e, as Blackwell's block-scaled MMA does.
public struct ScaledOperand: Sendable {
  /// The exponent of each value's block scale, in the packed operand's layout (row-major A
  /// `m × k` or B `k × n`); `nil`: no block scales (all 0).
  public var scaleExponents: [Int32]?
  /// The element format's smallest normal exponent.
  public var elementMinExponent: Int

  public init(scaleExponents: [Int32]?, elementMinExponent: Int) {
    self.scaleExponents = scaleExponents
    self.elementMinExponent = elementMinExponent
  }

  /// Values of `format` without block scales (f32's smallest exponent when it is not known).
  public static func plain(_ format: FloatFormat?) -> ScaledOperand {
    ScaledOperand(scaleExponents: nil, elementMinExponent: MMANumerics.fp22Floor(format))
  }

  /// The values of block-scaled blocks along K (`scheme`'s blocks, one scale each), each
  /// block's scale exponent recovered from its values:
  /// - MX: a cast makes a block's largest element lie in the element format's top binade (its
  ///   largest finite value or below, at least 2^emax), so the scale is 2^(exponent(max |value|)
  ///   − emax), unless the scale is E8M0's smallest, 2^-127 (a block below 2^(emax − 127), or a
  ///   block of zeros), which the same expression clamped at −127 gives.
  /// - NVFP4 (values without the tensor scale: element × E4M3 block scale): a block scale that is
  ///   a normal E4M3 number is within 2^-4 of (amax / 6) / tensor scale, so the block's largest
  ///   element rounds to 6 and the scale is max |value| / 6, exactly; a subnormal one has E4M3's
  ///   smallest exponent, −6, which max |value| / 6 (below 2^-6 then) also gives, clamped. A
  ///   block of zeros has scale 0, exponent −126 as MMA-Sim reads a zero.
  /// `kAlongRows`: K runs along the packed matrix's rows (A, `rows × k`); otherwise down its
  /// columns (B, `k × cols`).
  public static func blockScaled(
    _ values: [Float], rows: Int, cols: Int, kAlongRows: Bool, scheme: BlockScaling
  ) -> ScaledOperand {
    precondition(values.count == rows * cols && scheme.rule != .amax)
    let (blockSize, element) = (scheme.blockSize, scheme.element)
    let emax = Int(element.maxFinite.exponent)
    let nvfp4 = scheme.rule == .nvfp4
    let (largest, scaleMin) = (Float(element.maxFinite), scheme.scale.minNormalExponent)
    var exponents = [Int32](repeating: 0, count: values.count)
    let (outer, inner) = kAlongRows ? (rows, cols) : (cols, rows)
    /// The index of element `t` along K of line `line` (a row of A, a column of B).
    func index(_ line: Int, _ t: Int) -> Int { kAlongRows ? line * cols + t : t * cols + line }
    for line in 0..<outer {
      var k0 = 0
      while k0 < inner {
        let k1 = min(inner, k0 + blockSize)
        var amax: Float = 0
        for t in k0..<k1 where values[index(line, t)].isFinite {
          amax = max(amax, values[index(line, t)].magnitude)
        }
        let s: Int32
        if nvfp4 {
          s = Int32(amax == 0 ? -126 : max(Int((amax / largest).exponent), scaleMin))
        } else {
          // E8M0's smallest scale, 2^-127, leaves a small block's largest element below the top
          // binade: the recovered exponent is then clamped as the cast's was.
          s = Int32(amax == 0 ? -127 : max(Int(amax.exponent) - emax, -127))
        }
        for t in k0..<k1 { exponents[index(line, t)] = s }
        k0 = k1
      }
    }
    return ScaledOperand(scaleExponents: exponents, elementMinExponent: element.minNormalExponent)
  }

  /// The alignment exponent of value `x` at `index`: its element's exponent (at least the
  /// format's smallest normal one; −126 for a zero, as MMA-Sim reads it) plus its block scale's;
  /// 0 for a non-finite value (its group is decided apart).
  @inline(__always)
  func exponent(_ x: Float, at index: Int) -> Int {
    let s = scaleExponent(at: index)
    return MMANumerics.inputExponent(x, floor: elementMinExponent + s, scale: s)
  }

  @inline(__always)
  func scaleExponent(at index: Int) -> Int { Int(scaleExponents?[index] ?? 0) }
}

extension MMANumerics {
  /// `f32rz` (Blackwell's `tcgen05.mma` into f32, as MMA-Sim models it): products per aligned
  /// group, and the fractional bits each group keeps below its largest exponent.
  public static let f32rzGroup = 32
  public static let f32rzFractionBits = 25
  /// Block-scaled FP4 (`kind::mxf4`, `mxf4nvf4`): exact sums of 16 products, four of them (64
  /// values of K, one instruction) aligned with the accumulator at 35 fractional bits.
  public static let f32rzFP4Sum = 16
  public static let f32rzFP4Step = 64
  public static let f32rzFP4FractionBits = 35

  /// `f32rz`, the definition (isa/ISA.md, `mma`). `fp4Sums`: block-scaled FP4 inputs (sums of
  /// 16 exact products aligned at their scales' exponents); otherwise every product is aligned at
  /// its inputs' exponents (`ScaledOperand.exponent`) in groups of 32.
  public static func f32rz(
    a: [Float], b: [Float], c: inout [Float], m: Int, n: Int, k: Int,
    scaling: (a: ScaledOperand, b: ScaledOperand),
    fp4Sums: Bool
  ) {
    alignedAccumulation(
      a: a, b: b, c: &c, m: m, n: n, k: k, scaling: scaling, fp4Sums: fp4Sums,
      fractionBits: fp4Sums ? f32rzFP4FractionBits : f32rzFractionBits, mantissaBits: 23)
  }

  /// The aligned accumulation of `fp22` and `f32rz`: K in groups (of 32 products, or of
  /// `f32rzFP4Step` values summed 16 at a time with `fp4Sums`), each group with the accumulator
  /// one `alignedGroup` of `fractionBits` and `mantissaBits`, its result the next group's
  /// accumulator.
  static func alignedAccumulation(
    a: [Float], b: [Float], c: inout [Float], m: Int, n: Int, k: Int,
    scaling: (a: ScaledOperand, b: ScaledOperand), fp4Sums: Bool, fractionBits: Int, mantissaBits: Int
  ) {
    precondition(a.count == m * k && b.count == k * n && c.count == m * n)
    let (sa, sb) = scaling
    let width = fp4Sums ? f32rzFP4Step : f32rzGroup
    var terms = [Double](repeating: 0, count: width + 1)
    var exponents = [Int](repeating: 0, count: width + 1)
    for i in 0..<m {
      for j in 0..<n {
        var acc = Double(c[i * n + j])
        var k0 = 0
        while k0 < k {
          let k1 = min(k, k0 + width)
          terms[0] = acc
          exponents[0] = acc == 0 || !acc.isFinite ? fp22MinExponent : Int(acc.exponent)
          var count = 1
          if fp4Sums {
            var g0 = k0
            while g0 < k1 {
              var sum = 0.0  // exact: 16 products of E2M1 elements under one pair of scales
              for t in g0..<min(k1, g0 + f32rzFP4Sum) { sum += Double(a[i * k + t]) * Double(b[t * n + j]) }
              terms[count] = sum
              exponents[count] = sa.scaleExponent(at: i * k + g0) + sb.scaleExponent(at: g0 * n + j)
              count += 1
              g0 += f32rzFP4Sum
            }
          } else {
            for t in k0..<k1 {
              let (x, y) = (a[i * k + t], b[t * n + j])
              terms[count] = Double(x) * Double(y)
              exponents[count] = sa.exponent(x, at: i * k + t) + sb.exponent(y, at: t * n + j)
              count += 1
            }
          }
          acc = alignedGroup(
            terms[0..<count], exponents: exponents[0..<count], fractionBits: fractionBits,
            mantissaBits: mantissaBits, zerosAlign: true)
          k0 = k1
        }
        c[i * n + j] = Float(acc)  // exact: every group result is an f32 value
      }
    }
  }
}
