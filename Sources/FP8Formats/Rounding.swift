/// How a value between two representable neighbours is rounded.
///
/// Worked examples for `e4m3fn` (neighbours 1.0 and 1.125, midpoint 1.0625):
///
/// | input    | nearest-even     | toward-zero | stochastic: P(→ 1.125) |
/// |----------|------------------|-------------|------------------------|
/// | 1.03125  | 1.0              | 1.0         | 0.25                   |
/// | 1.0625   | 1.0 (tie → even) | 1.0         | 0.5                    |
/// | 1.09375  | 1.125            | 1.0         | 0.75                   |
/// | −1.09375 | −1.125           | −1.0        | 0.75 (of −1.125)       |
///
/// Rounding always happens once, from the exact input (`Double`), never through an
/// intermediate format: FP32 → FP16 → FP8 can round twice and give a different code.
public enum RoundingMode: String, Sendable, CaseIterable {
  /// Round to nearest, ties to the neighbour with an even last mantissa bit (IEEE default).
  case nearestEven = "nearest-even"
  /// Truncate the magnitude.
  case towardZero = "toward-zero"
  /// Round up in magnitude with probability equal to the discarded fraction of a quantum,
  /// using caller-supplied random bits, so the result is unbiased in expectation and repeatable
  /// for a given seed.
  case stochastic
}

/// What a cast does with a finite value whose rounded magnitude exceeds the largest finite value.
///
/// | input → result           | `saturate`  | `nonfinite`                                     |
/// |--------------------------|-------------|-------------------------------------------------|
/// | finite, rounds past max  | ±max        | ±inf, or NaN where the format has no infinity   |
/// | ±inf                     | ±max        | ±inf, or NaN where the format has no infinity   |
/// | NaN                      | NaN         | NaN                                             |
///
/// "Rounds past max" depends on the rounding mode; the value is first rounded as if the exponent
/// range were unbounded (with the scaling bias applied exactly: `x · 2^b` is never formed as a
/// `Double`, so it cannot become infinite on the way):
/// - `nearest-even`: overflow when the value, rounded as if the exponent range were unbounded, is
///   beyond max, as IEEE 754 and ml_dtypes: from `max + ulp(max)/2` on where max's last mantissa
///   bit is 1 (the midpoint ties up, e.g. e5m2: 61440), from just above it where the bit is 0
///   (the midpoint ties down to max, e.g. e4m3fn: 464 → 448, 464.0001 overflows).
/// - `toward-zero`: a finite input never becomes non-finite, in every format and both modes:
///   truncating a finite value beyond max gives ±max (IEEE 754 §7.4: round-toward-zero carries
///   overflow to the largest finite value). Values between max and `max + ulp` are merely
///   rounded (to max); from `max + ulp` on they count as an overflow. The same holds
///   for the formats without infinity (`e4m3fn`, the fnuz formats): `nonfinite` makes NaN only
///   from a value that would round past max, and toward-zero never does.
/// - `stochastic`: a value between max and `max + ulp(max)` rounds to max or to `max + ulp` with
///   the usual probabilities; `max + ulp` is an overflow (then ±inf/NaN or ±max as above). A value
///   at or beyond `max + ulp` always overflows (it has no neighbour at or below max).
///
/// An infinite input is not rounded: it stays ±inf where the format has infinities and overflow
/// is `nonfinite`, whatever the rounding mode (NaN in the formats without; ±max with
/// `saturate`).
///
/// `saturate` is what NVIDIA's `cvt.satfinite` and ONNX `Cast(saturate=1)` do; `nonfinite` is
/// ml_dtypes' and IEEE 754's behaviour.
///
/// NaN keeps its sign where the format has signed NaNs (`e4m3fn`: `0x7F`/`0xFF`, `e5m2`:
/// `0x7E`/`0xFE`, `f16`: `0x7E00`/`0xFE00`, `bf16`, `f32`), as ml_dtypes does; the fnuz formats
/// have the single NaN `0x80`.
public enum OverflowMode: String, Sendable, CaseIterable {
  case nonfinite
  case saturate
}

/// What happened to one value during a cast.
public enum CastEvent: UInt8, Sendable, Hashable {
  /// The value was represented exactly.
  case exact
  /// The value was rounded to a neighbour.
  case rounded
  /// A non-zero value rounded to zero.
  case underflow
  /// The rounded magnitude exceeded the largest finite value (or the input was infinite and the
  /// format could not keep it): the result saturated or became non-finite.
  case overflow
  /// The input was NaN.
  case nan
}

/// Counts of cast events over a tensor.
public struct CastCounts: Sendable, Hashable {
  public var total = 0
  public var rounded = 0
  public var underflow = 0
  public var overflow = 0
  public var nan = 0

  public init() {}

  @inline(__always)
  public mutating func record(_ event: CastEvent) {
    total += 1
    switch event {
    case .exact: break
    case .rounded: rounded += 1
    case .underflow: underflow += 1
    case .overflow: overflow += 1
    case .nan: nan += 1
    }
  }

  public static func + (a: CastCounts, b: CastCounts) -> CastCounts {
    var c = a
    c.total += b.total
    c.rounded += b.rounded
    c.underflow += b.underflow
    c.overflow += b.overflow
    c.nan += b.nan
    return c
  }
}
