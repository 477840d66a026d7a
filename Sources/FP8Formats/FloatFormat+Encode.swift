extension FloatFormat {
  /// The result of encoding one value: the code and what happened on the way.
  public struct Encoded: Sendable, Hashable {
    public var code: UInt32
    public var event: CastEvent
  }

  /// Encodes `x · 2^scale` directly: one rounding, from the exact value. The product
  /// `x · 2^scale` is never formed as a `Double`, so a scaling bias cannot overflow or underflow
  /// `Double` on the way (`1e300` with scale 300 is a finite value far above every format's
  /// maximum, not an infinity).
  ///
  /// - Parameters:
  ///   - scale: a power-of-two scaling applied exactly before rounding (a scaling bias).
  ///   - rounding: see `RoundingMode`.
  ///   - overflow: see `OverflowMode`.
  ///   - randomBits: 64 random bits, used only by `.stochastic` rounding; the top 53 bits form a
  ///     uniform number `u` in [0, 1) and the magnitude rounds up when `u < fraction`.
  ///
  /// Formats without infinity or NaN (`finiteOnly`: FP6, FP4) saturate whatever `overflow`
  /// says, infinities included; NaN becomes a zero (`nanCode`). `e8m0fnu` (`exponentOnly`):
  /// see `encodeExponentOnly`.
  public func encode(
    _ x: Double, scale: Int = 0, rounding: RoundingMode = .nearestEven,
    overflow: OverflowMode = .nonfinite, randomBits: UInt64 = 0
  ) -> Encoded {
    if specials == .exponentOnly {
      return encodeExponentOnly(
        x, scale: scale, rounding: rounding, overflow: overflow, randomBits: randomBits)
    }
    if x.isNaN { return Encoded(code: nanCode(negative: x.sign == .minus), event: .nan) }
    let negative = x.sign == .minus
    let magnitude = x.magnitude
    if magnitude.isInfinite {
      if overflow == .nonfinite, let inf = infinityCode(negative: negative) {
        return Encoded(code: inf, event: .exact)
      }
      return overflowResult(negative: negative, rounding: .nearestEven, overflow: overflow)
    }
    if magnitude == 0 { return Encoded(code: zeroCode(negative: negative), event: .exact) }

    // The quantum (spacing of representable values) around `magnitude · 2^scale`, with an
    // unbounded exponent range above and the subnormal spacing below the smallest normal.
    let valueExponent = Self.exponent(of: magnitude) + scale
    let quantumExponent = Swift.max(valueExponent, minNormalExponent) - mantissaBits
    // `scaled` = magnitude · 2^(scale − quantumExponent), in [2^m, 2^(m+1)) for normal results
    // and below 2^m for subnormal ones; exact (a power-of-two scaling) unless it is far below
    // one quantum, where any tiny positive stand-in (2^-64) gives the same decision in every
    // mode: nearest and toward-zero give 0, stochastic rounds up only when u = 0.
    let scaled =
      valueExponent - quantumExponent < -64
      ? 0x1p-64 : ScalingBias.scaled(magnitude, by: scale - quantumExponent)
    // 0 ≤ scaled ≤ 2^(m+1) ≤ 2^24: adding and subtracting 2^52 rounds it to an integer, ties to
    // even, and the conversion to Int64 truncates it, exactly (`rounded(_:)` calls libm's rint
    // and trunc in a baseline x86-64 build).
    var n: Double
    switch rounding {
    case .nearestEven: n = (scaled + 0x1p52) - 0x1p52
    case .towardZero: n = Double(Int64(scaled))
    case .stochastic:
      n = Double(Int64(scaled))
      let fraction = scaled - n  // exact
      let u = Double(randomBits >> 11) * 0x1p-53
      if u < fraction { n += 1 }
    }
    let event: CastEvent = n == scaled ? .exact : .rounded
    if n == 0 { return Encoded(code: zeroCode(negative: negative), event: .underflow) }

    // n is an integer in [1, 2^(m+1)]; split it into exponent and mantissa fields.
    var integer = UInt32(n)
    var exponent = quantumExponent + mantissaBits  // unbiased exponent if normal
    let hidden = UInt32(1) << UInt32(mantissaBits)
    if integer < hidden {
      // Subnormal: only possible at the smallest exponent.
      return Encoded(code: code(sign: negative, exponentField: 0, mantissa: integer), event: event)
    }
    if integer == hidden << 1 {
      integer = hidden
      exponent += 1
    }
    let exponentField = exponent + bias
    let mantissa = integer - hidden
    if exponentField > Int(maxFiniteExponentField)
      || (exponentField == Int(maxFiniteExponentField) && mantissa > maxFiniteMantissa)
    {
      return overflowResult(negative: negative, rounding: rounding, overflow: overflow)
    }
    return Encoded(
      code: code(sign: negative, exponentField: UInt32(exponentField), mantissa: mantissa),
      event: event)
  }

  /// `x.exponent` for a finite nonzero `x`, from its bits when it is normal (the standard
  /// library's getter is an out-of-line call).
  @inline(__always)
  static func exponent(of x: Double) -> Int {
    let field = Int((x.bitPattern >> 52) & 0x7FF)
    return field != 0 ? field - 1023 : Int(x.exponent)
  }

  private func overflowResult(negative: Bool, rounding: RoundingMode, overflow: OverflowMode)
    -> Encoded
  {
    if overflow == .saturate || rounding == .towardZero || !hasNaN {
      return Encoded(code: maxFiniteCode(negative: negative), event: .overflow)
    }
    let code = infinityCode(negative: negative) ?? nanCode(negative: negative)
    return Encoded(code: code, event: .overflow)
  }

  /// `e8m0fnu` and the like, as ml_dtypes 0.6 converts to `float8_e8m0fnu`: a positive finite
  /// value rounds to a power of two, to nearest with ties *up* (1.5 → 2, 3 → 4: the format has no
  /// mantissa to make a tie even), toward zero, or stochastically between its two neighbours
  /// (rounding up with probability x/2^e − 1); below the smallest value (2^-127) it becomes the
  /// smallest (there is no zero to underflow to; counted as rounded). Past the largest (2^127) it
  /// is NaN, or the largest with `.saturate` or `.towardZero`; +inf is NaN, or the largest with
  /// `.saturate`. NaN, zero and
  /// negative values have no code: NaN (counted as NaN events).
  private func encodeExponentOnly(
    _ x: Double, scale: Int, rounding: RoundingMode, overflow: OverflowMode, randomBits: UInt64
  ) -> Encoded {
    let nan = nanCode()
    if x.isNaN || x <= 0 { return Encoded(code: nan, event: .nan) }
    // An infinity is not a finite value rounded: as for the other formats, toward-zero does not
    // make it finite.
    if x.isInfinite { return overflowResult(negative: false, rounding: .nearestEven, overflow: overflow) }
    // x · 2^scale = f · 2^e with f in [1, 2): e = exponent + scale (no Double overflow).
    let e = Int(x.exponent) + scale
    let f = x.significand
    if e < minNormalExponent {
      return Encoded(code: 0, event: .rounded)
    }
    var up: Bool
    switch rounding {
    case .nearestEven: up = f >= 1.5
    case .towardZero: up = false
    case .stochastic:
      let u = Double(randomBits >> 11) * 0x1p-53
      up = u < f - 1  // exact: f − 1 in [0, 1)
    }
    let field = e + bias + (up ? 1 : 0)
    if field > Int(maxFiniteExponentField) {
      return overflowResult(negative: false, rounding: rounding, overflow: overflow)
    }
    return Encoded(code: UInt32(field), event: f == 1 ? .exact : .rounded)
  }

  /// Rounds `x` to the nearest value of this format and returns it as a `Double`
  /// (`decode(encode(x))`).
  @inline(__always)
  public func round(
    _ x: Double, rounding: RoundingMode = .nearestEven, overflow: OverflowMode = .nonfinite,
    randomBits: UInt64 = 0
  ) -> Double {
    if rounding == .nearestEven, let r = nearestFinite(x) { return r }
    return decode(encode(x, rounding: rounding, overflow: overflow, randomBits: randomBits).code)
  }

  /// `x` rounded to nearest, ties to even, by f64 arithmetic alone, when that is the whole story:
  /// a signed format of at most 16 bits with a zero, `x` finite and well inside the doubles, and
  /// the result neither zero nor beyond `maxFinite` (whose codes the specials decide). Nil
  /// otherwise: `encode` answers. The value is `encode`'s in every case it answers
  /// (`OutputCastTests` checks every narrow format exhaustively).
  @inline(__always)
  public func nearestFinite(_ x: Double) -> Double? {
    guard totalBits <= 16, isSigned, specials != .exponentOnly else { return nil }
    let m = x.magnitude
    guard m > 0x1p-900 && m < 0x1p900 else { return nil }
    // The quantum of m's binade (the subnormal one below the smallest normal): m / q is below
    // 2^(mantissa + 2) and exact, so adding 2^52 rounds it to an integer, ties to even.
    let q = Double(
      sign: .plus, exponent: Swift.max(Int(m.exponent), minNormalExponent) - mantissaBits, significand: 1)
    let r = ((m / q + 0x1p52) - 0x1p52) * q
    guard r != 0 && r <= maxFinite else { return nil }
    return x < 0 ? -r : r
  }
}
