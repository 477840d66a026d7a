/// Per-tensor power-of-two scaling, as in Perez et al. 2023 (§2.1–2.3) and Graphcore's
/// `pow2scale_cast_to_fp8`.
///
/// With an integer scaling bias `b`, the stored code is `cast(x · 2^b)` and the value it stands
/// for is `decode(code) · 2^-b`. A matmul of operands with biases `b_a`, `b_b` is unscaled by
/// `2^-(b_a + b_b)`.
public enum ScalingBias {
  /// The default clamp of an AMAX bias, `[-31, 31]`, as Graphcore's `popxl-addons`
  /// (`fp8_amax_scale.py`) and the IPU's ±31 hardware exponent bias.
  public static let defaultRange: ClosedRange<Int> = -31...31

  /// Every bias fp8sim accepts. Beyond ±300 a scaling moves every finite value of every format
  /// (f32 spans 2^-149 ... 2^128) out of range, so a larger bias is certainly a mistake.
  public static let validRange: ClosedRange<Int> = -300...300

  /// FP8-AMAX: `floor(log2(maxFinite / amax)) - margin`, clamped to `range`.
  ///
  /// Computed exactly: the result (before margin and clamp) is the largest integer `b` with
  /// `amax · 2^b ≤ format.maxFinite`, so with margin 0 the scaled amax never overflows and lands
  /// in `(maxFinite / 2, maxFinite]`.
  ///
  /// The rule is undefined for `amax` = 0, NaN or ±inf; those return `undefined` (default 0),
  /// which the simulator's `bias` instruction replaces by "keep the previous value", as
  /// Transformer Engine does.
  public static func amax(
    _ amax: Double, format: FloatFormat, margin: Int = 0, range: ClosedRange<Int> = defaultRange,
    undefined: Int = 0
  ) -> Int {
    guard let b = rawAmaxBias(amax, maxValue: format.maxFinite) else { return undefined }
    let withMargin = b.subtractingReportingOverflow(margin)
    if withMargin.overflow { return margin > 0 ? range.lowerBound : range.upperBound }
    return Swift.min(Swift.max(withMargin.partialValue, range.lowerBound), range.upperBound)
  }

  /// `floor(log2(maxValue / amax))` computed without rounding error, or `nil` when `amax` is
  /// zero or not finite.
  public static func rawAmaxBias(_ amax: Double, maxValue: Double) -> Int? {
    let a = amax.magnitude
    guard a.isFinite, a > 0, maxValue.isFinite, maxValue > 0 else { return nil }
    // Start from the exponent difference, then correct by at most one step each way.
    var b = Int(maxValue.exponent) - Int(a.exponent)
    while scaled(a, by: b) > maxValue { b -= 1 }
    while scaled(a, by: b + 1) <= maxValue { b += 1 }
    return b
  }

  /// `x · 2^b`, exact unless it overflows or underflows `Double`. The common case (2^b a normal
  /// `Double`) is one multiplication, small enough to be inlined into every caller, such as
  /// `FloatFormat.encode` once per value; the rest is out of line.
  @inline(__always)
  public static func scaled(_ x: Double, by b: Int) -> Double {
    if b >= -1022 && b <= 1023 { return x * Double(bitPattern: UInt64(b + 1023) << 52) }
    return scaledBeyondNormalPowers(x, by: b)
  }

  /// `scaled` when 2^b is not a normal `Double`: split so that neither factor is out of range.
  @inline(never)
  static func scaledBeyondNormalPowers(_ x: Double, by b: Int) -> Double {
    let half = b / 2
    return x * exp2Int(half) * exp2Int(b - half)
  }

  /// `2^b` as a `Double` (`0` or `inf` out of range).
  public static func powerOfTwo(_ b: Int) -> Double { exp2Int(b) }
}

extension FloatFormat {
  /// Quantises `x` with scaling bias `bias`: `code = cast(x · 2^bias)` (one rounding of the exact
  /// scaled value, which is never formed as a `Double`), and returns the code, the event and the
  /// dequantised value `decode(code) · 2^-bias`.
  public func quantize(
    _ x: Double, bias: Int, rounding: RoundingMode = .nearestEven,
    overflow: OverflowMode = .nonfinite, randomBits: UInt64 = 0
  ) -> (encoded: Encoded, dequantized: Double) {
    let e = encode(x, scale: bias, rounding: rounding, overflow: overflow, randomBits: randomBits)
    return (e, ScalingBias.scaled(decode(e.code), by: -bias))
  }
}
