/// Text forms of values that parse back exactly.
public enum ValueText {
  /// The shortest decimal that reads back as exactly `x` (Swift's `Double.description`), with
  /// the spellings `nan`, `inf`, `-inf`; negative zero prints as `-0.0`.
  public static func exact(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    return x.description
  }

  /// Parses a decimal number, `nan`, `-nan` (a NaN with the sign bit set, as ml_dtypes and
  /// numpy keep it), `inf`, `-inf`, `+inf`, `-0` (and hexadecimal floats such as `0x1p-3`); `nil`
  /// for anything else.
  public static func parse(_ text: String) -> Double? {
    let t = text.lowercased()
    switch t {
    case "nan", "+nan": return .nan
    case "-nan": return -.nan
    case "inf", "+inf", "infinity", "+infinity": return .infinity
    case "-inf", "-infinity": return -.infinity
    default: break
    }
    // Swift's parser accepts some spellings we don't want ("infinity" handled above); reject
    // empty strings and embedded whitespace explicitly.
    // Control characters (NUL included: the C parser behind `Double(_:)` would stop there and
    // read "1\02" as 1) make a token invalid.
    guard !t.isEmpty,
      !t.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0.properties.isWhitespace })
    else { return nil }
    guard let value = Double(t), !value.isNaN || t.contains("nan") else { return nil }
    return value
  }

  /// Fixed-precision text for reports, `nan`/`inf`/`-inf` for non-finite values.
  public static func fixed(_ x: Double, digits: Int) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    return FixedPoint.format(x, digits: digits)
  }
}

/// Fixed-point formatting without Foundation's `String(format:)`: rounds half away from zero at
/// `digits` decimals. Exact for magnitudes below 2^53 / 10^digits; larger values fall back to
/// scientific notation.
enum FixedPoint {
  static func format(_ x: Double, digits: Int) -> String {
    precondition(digits >= 0 && digits <= 12)
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (x.magnitude * scale).rounded(.toNearestOrAwayFromZero)
    guard scaled < 9.0e15 else { return x.description }
    let integer = UInt64(scaled)
    let unit = UInt64(scale)
    let whole = integer / unit
    let fraction = integer % unit
    var text = String(whole)
    if digits > 0 {
      let f = String(fraction)
      text += "." + String(repeating: "0", count: digits - f.count) + f
    }
    let isZero = integer == 0
    return (x < 0 && !isZero ? "-" : "") + text
  }
}
