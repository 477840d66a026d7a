extension FloatFormat {
  /// The result of encoding one value: the code and what happened on the way.
  public struct Encoded: Sendable, Hashable {
    public var code: UInt32
    public var event: CastEvent
  }

  /// Encodes `x` directly (one rounding, from the exact `Double`).
  ///
  /// - Parameters:
  ///   - rounding: see `RoundingMode`.
  ///   - overflow: see `OverflowMode`.
  ///   - randomBits: 64 random bits, used only by `.stochastic` rounding; the top 53 bits form a
  ///     uniform number `u` in [0, 1) and the magnitude rounds up when `u < fraction`.
  public func encode(
    _ x: Double, rounding: RoundingMode = .nearestEven, overflow: OverflowMode = .nonfinite,
    randomBits: UInt64 = 0
  ) -> Encoded {
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

    // The quantum (spacing of representable values) around `magnitude`, with an unbounded
    // exponent range above and the subnormal spacing below the smallest normal.
    let quantumExponent = Swift.max(Int(magnitude.exponent), minNormalExponent) - mantissaBits
    let scaled = magnitude * exp2Int(-quantumExponent)  // exact: a power-of-two scaling
    var n: Double
    switch rounding {
    case .nearestEven: n = scaled.rounded(.toNearestOrEven)
    case .towardZero: n = scaled.rounded(.towardZero)
    case .stochastic:
      n = scaled.rounded(.down)
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

  private func overflowResult(negative: Bool, rounding: RoundingMode, overflow: OverflowMode)
    -> Encoded
  {
    if overflow == .saturate || rounding == .towardZero {
      return Encoded(code: maxFiniteCode(negative: negative), event: .overflow)
    }
    let code = infinityCode(negative: negative) ?? nanCode(negative: negative)
    return Encoded(code: code, event: .overflow)
  }

  /// Rounds `x` to the nearest value of this format and returns it as a `Double`
  /// (`decode(encode(x))`).
  @inline(__always)
  public func round(
    _ x: Double, rounding: RoundingMode = .nearestEven, overflow: OverflowMode = .nonfinite,
    randomBits: UInt64 = 0
  ) -> Double {
    decode(encode(x, rounding: rounding, overflow: overflow, randomBits: randomBits).code)
  }
}
