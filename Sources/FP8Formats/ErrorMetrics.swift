/// How far a result is from its reference: the figures fp8sim reports for every output.
///
/// - `snrDB`: `10·log10(Σ ref² / Σ (x − ref)²)` over all elements; `+inf` when the result is
///   exact, `-inf` when the error energy is infinite or NaN (a NaN or inf where the reference is
///   finite), `nan` when there are no elements or the reference itself is not finite.
/// - `maxAbsError`: `max |x − ref|` over elements where both are finite.
/// - `maxRelError`: `max |x − ref| / |ref|` over elements where both are finite and `ref ≠ 0`.
/// - `nanCount`, `infCount`: non-finite results.
/// - `overflow`, `underflow`: cast events recorded while the result was produced (a cast that
///   saturated or became non-finite; a non-zero value that became zero).
public struct ErrorMetrics: Sendable, Hashable {
  public var count = 0
  public var snrDB = Double.nan
  public var maxAbsError = 0.0
  public var maxRelError = 0.0
  public var nanCount = 0
  public var infCount = 0
  public var overflowCount = 0
  public var underflowCount = 0

  public init() {}

  /// Compares `values` with `reference` element by element (same length required). Inlinable so
  /// that callers get a specialised loop (unspecialised, it cost 0.2 µs per element).
  @inlinable
  public init<V: Collection, R: Collection>(
    values: V, reference: R, casts: CastCounts = CastCounts()
  ) where V.Element: BinaryFloatingPoint, R.Element: BinaryFloatingPoint {
    precondition(values.count == reference.count, "value and reference counts differ")
    var signal = 0.0
    var noise = 0.0
    var referenceFinite = true
    for (vRaw, rRaw) in zip(values, reference) {
      let v = Double(vRaw)
      let r = Double(rRaw)
      count += 1
      if v.isNaN { nanCount += 1 } else if v.isInfinite { infCount += 1 }
      if !r.isFinite { referenceFinite = false }
      signal += r * r
      let d = v - r
      noise += d * d
      if v.isFinite && r.isFinite {
        let a = d.magnitude
        if a > maxAbsError { maxAbsError = a }
        if r != 0 {
          let rel = a / r.magnitude
          if rel > maxRelError { maxRelError = rel }
        }
      }
    }
    overflowCount = casts.overflow
    underflowCount = casts.underflow
    snrDB = ErrorMetrics.snr(signal: signal, noise: noise, referenceFinite: referenceFinite, count: count)
  }

  @usableFromInline
  static func snr(signal: Double, noise: Double, referenceFinite: Bool, count: Int) -> Double {
    if count == 0 || !referenceFinite { return .nan }
    if noise.isNaN || noise.isInfinite { return -.infinity }
    if noise == 0 { return .infinity }
    if signal == 0 { return -.infinity }
    return 10 * Math.log10(signal / noise)
  }
}
