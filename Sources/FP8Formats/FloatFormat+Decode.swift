extension FloatFormat {
  /// The value a code stands for. NaN codes give `Double.nan` (with the code's sign where the
  /// format has signed NaNs). Bits above `totalBits` are ignored.
  @inline(__always)
  public func decode(_ code: UInt32) -> Double {
    let masked = totalBits == 32 ? code : code & UInt32((1 << totalBits) - 1)
    if !decodeTable.isEmpty { return decodeTable[Int(masked)] }
    return decodeSlow(masked)
  }

  /// Field-by-field decoding; `decode` uses a precomputed table for formats up to 16 bits.
  func decodeSlow(_ code: UInt32) -> Double {
    let negative = code & signMask != 0
    let exponentField = (code >> UInt32(mantissaBits)) & exponentMask
    let mantissa = code & mantissaMask
    let sign: Double = negative ? -1 : 1
    switch specials {
    case .ieee where exponentField == exponentMask:
      return mantissa == 0 ? sign * .infinity : (negative ? -Double.nan : .nan)
    case .finite where exponentField == exponentMask && mantissa == mantissaMask:
      return negative ? -Double.nan : .nan
    case .fnuz where code == signMask:
      return .nan
    case .exponentOnly:
      return exponentField == exponentMask ? .nan : exp2Int(Int(exponentField) - bias)
    default:
      break
    }
    if exponentField == 0 {
      return sign * Double(mantissa) * minSubnormal
    }
    let significand = Double((UInt32(1) << UInt32(mantissaBits)) | mantissa)
    return sign * significand * exp2Int(Int(exponentField) - bias - mantissaBits)
  }

  /// The class of a code, for tables and tests.
  public enum CodeClass: String, Sendable, Hashable {
    case zero, subnormal, normal, infinity, nan
  }

  public func classify(_ code: UInt32) -> CodeClass {
    let value = decode(code)
    if value.isNaN { return .nan }
    if value.isInfinite { return .infinity }
    if value == 0 { return .zero }
    return value.magnitude < minNormal ? .subnormal : .normal
  }
}
