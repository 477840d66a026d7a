/// A binary floating-point format described as data: sign bit, exponent and mantissa widths,
/// exponent bias and the rule that reserves codes for special values.
///
/// Every format fp8sim knows (the 8-bit OCP and Graphcore/"fnuz" formats, the OCP MX element
/// formats FP6 and FP4 and the MX scale `e8m0fnu`, `f16`, `bf16`, `f32`) is one value of this
/// type; there is no type per format. Encoding and decoding are written once,
/// against these fields, in `FloatFormat+Encode.swift` and `FloatFormat+Decode.swift`.
///
/// Codes are the raw bit patterns, right-aligned in a `UInt32`: bit `totalBits - 1` is the sign
/// (every format but the unsigned `e8m0fnu`).
public struct FloatFormat: Sendable, Hashable, CustomStringConvertible {
  /// How a format spends its codes on NaN, infinity and negative zero.
  public enum Specials: String, Sendable, Hashable, CaseIterable {
    /// IEEE 754 style: the all-ones exponent holds ±inf (mantissa 0) and NaNs (mantissa ≠ 0);
    /// zero is signed. Used by `e5m2`, `f16`, `bf16`, `f32`.
    case ieee
    /// OCP "finite" style (`e4m3fn`): no infinities; only `S.1111.111` is NaN, so the all-ones
    /// exponent also holds finite values; zero is signed.
    case finite
    /// Graphcore / "fnuz" style (`e4m3fnuz`, `e5m2fnuz`): no infinities, no negative zero; the
    /// single code `1000…0` (the negative-zero pattern) is NaN.
    case fnuz
    /// Every code is a finite number: no infinity, no NaN; zero is signed. The OCP MX element
    /// formats FP6 (`e2m3fn`, `e3m2fn`) and FP4 (`e2m1fn`). Out-of-range values and infinities
    /// saturate; NaN becomes a zero (see `nanCode`).
    case finiteOnly
    /// No sign bit and no mantissa: code E means `2^(E − bias)`, all ones is the only NaN;
    /// no zero, no infinity, no subnormals. The OCP MX scale format `e8m0fnu`.
    case exponentOnly
  }

  /// Canonical name, as used in programs and on the command line (`e4m3fn`, `f16`, ...).
  public let name: String
  /// Other accepted spellings (`float8_e4m3fn`, `float16`, ...), following ml_dtypes.
  public let aliases: [String]
  public let exponentBits: Int
  public let mantissaBits: Int
  /// The stored exponent field `E` of a normal number means `2^(E - bias)`.
  public let bias: Int
  public let specials: Specials

  // Derived constants, computed once.
  /// Whether the format has a sign bit (all but `exponentOnly`).
  public let isSigned: Bool
  /// exponentBits + mantissaBits, plus 1 for the sign bit.
  public let totalBits: Int
  /// The largest finite magnitude.
  public let maxFinite: Double
  /// The smallest positive normal magnitude, `2^(1 - bias)` (`exponentOnly`: `2^(-bias)`,
  /// code 0).
  public let minNormal: Double
  /// The smallest positive subnormal magnitude, `2^(1 - bias - mantissaBits)` (`exponentOnly`,
  /// which has no subnormals: its smallest value, `minNormal`).
  public let minSubnormal: Double
  /// Unbiased exponent of the smallest normal number (`1 - bias`).
  public let minNormalExponent: Int
  /// Exponent field and mantissa field of the largest finite value.
  let maxFiniteExponentField: UInt32
  let maxFiniteMantissa: UInt32
  /// Decoded value of every code, for formats of at most 16 bits (empty for `f32`).
  private(set) var decodeTable: [Double]

  public init(
    name: String, aliases: [String] = [], exponentBits: Int, mantissaBits: Int, bias: Int,
    specials: Specials
  ) {
    precondition(exponentBits >= 2 && exponentBits <= 8, "exponent width out of range")
    precondition(
      specials == .exponentOnly ? mantissaBits == 0 : mantissaBits >= 1 && mantissaBits <= 23,
      "mantissa width out of range")
    self.name = name
    self.aliases = aliases
    self.exponentBits = exponentBits
    self.mantissaBits = mantissaBits
    self.bias = bias
    self.specials = specials
    self.isSigned = specials != .exponentOnly
    self.totalBits = (isSigned ? 1 : 0) + exponentBits + mantissaBits
    let allOnesExponent = UInt32((1 << exponentBits) - 1)
    let allOnesMantissa = UInt32((1 << mantissaBits) - 1)
    switch specials {
    case .ieee:
      maxFiniteExponentField = allOnesExponent - 1
      maxFiniteMantissa = allOnesMantissa
    case .finite:
      maxFiniteExponentField = allOnesExponent
      maxFiniteMantissa = allOnesMantissa - 1
    case .fnuz, .finiteOnly:
      maxFiniteExponentField = allOnesExponent
      maxFiniteMantissa = allOnesMantissa
    case .exponentOnly:
      maxFiniteExponentField = allOnesExponent - 1
      maxFiniteMantissa = 0
    }
    let significand = 1 + Double(maxFiniteMantissa) / Double(1 << mantissaBits)
    maxFinite = significand * exp2Int(Int(maxFiniteExponentField) - bias)
    if specials == .exponentOnly {
      minNormalExponent = -bias
      minNormal = exp2Int(-bias)
      minSubnormal = minNormal
    } else {
      minNormalExponent = 1 - bias
      minNormal = exp2Int(1 - bias)
      minSubnormal = exp2Int(1 - bias - mantissaBits)
    }
    decodeTable = []
    if totalBits <= 16 {
      decodeTable = (0..<(UInt32(1) << UInt32(totalBits))).map { decodeSlow($0) }
    }
  }

  public var description: String { name }

  public static func == (a: FloatFormat, b: FloatFormat) -> Bool {
    a.name == b.name && a.exponentBits == b.exponentBits && a.mantissaBits == b.mantissaBits
      && a.bias == b.bias && a.specials == b.specials
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(name)
    hasher.combine(exponentBits)
    hasher.combine(mantissaBits)
    hasher.combine(bias)
  }

  // MARK: - Code layout

  /// Number of distinct codes, `2^totalBits`.
  public var codeCount: UInt64 { UInt64(1) << UInt64(totalBits) }
  /// Storage size of one value in bytes (1, 2 or 4) when each value has bytes of its own;
  /// FP4 and FP6 values take 1.
  public var byteWidth: Int { (totalBits + 7) / 8 }
  /// The sign bit (0 for an unsigned format).
  public var signMask: UInt32 { isSigned ? UInt32(1) << UInt32(totalBits - 1) : 0 }
  var exponentMask: UInt32 { UInt32((1 << exponentBits) - 1) }
  var mantissaMask: UInt32 { UInt32((1 << mantissaBits) - 1) }

  /// Whether the format encodes ±infinity.
  public var hasInfinity: Bool { specials == .ieee }
  /// Whether zero carries a sign.
  public var hasNegativeZero: Bool { isSigned && specials != .fnuz }
  /// Whether the format has a NaN code.
  public var hasNaN: Bool { specials != .finiteOnly }
  /// Whether the format has a zero (all but `exponentOnly`).
  public var hasZero: Bool { specials != .exponentOnly }
  /// Whether NaN carries a sign (the IEEE and OCP `finite` formats).
  public var hasSignedNaN: Bool { specials == .ieee || specials == .finite }

  /// Assembles a code from its fields.
  @inline(__always)
  func code(sign: Bool, exponentField: UInt32, mantissa: UInt32) -> UInt32 {
    (sign ? signMask : 0) | (exponentField << UInt32(mantissaBits)) | mantissa
  }

  /// The code of the canonical (quiet) NaN. The sign is kept where the format has signed NaNs,
  /// as ml_dtypes does: `e4m3fn` gives `0x7F`/`0xFF`, `e5m2` `0x7E`/`0xFE`, `f16` `0x7E00`.
  ///
  /// The `finiteOnly` formats have no NaN: this is the code a NaN encodes to, a zero with the
  /// opposite sign (NaN becomes −0, −NaN +0), which is what ml_dtypes 0.6 gives. `hasNaN` tells
  /// the two apart; a cast counts such a value as a NaN event.
  public func nanCode(negative: Bool = false) -> UInt32 {
    switch specials {
    case .finiteOnly:
      return negative ? 0 : signMask
    case .exponentOnly:
      return exponentMask
    case .ieee:
      return code(
        sign: negative, exponentField: exponentMask, mantissa: UInt32(1) << UInt32(mantissaBits - 1))
    case .finite:
      return code(sign: negative, exponentField: exponentMask, mantissa: mantissaMask)
    case .fnuz:
      return signMask
    }
  }

  /// The code of ±infinity, or `nil` when the format has none.
  public func infinityCode(negative: Bool = false) -> UInt32? {
    hasInfinity ? code(sign: negative, exponentField: exponentMask, mantissa: 0) : nil
  }

  /// The code of the largest finite magnitude with the given sign.
  public func maxFiniteCode(negative: Bool = false) -> UInt32 {
    code(sign: negative, exponentField: maxFiniteExponentField, mantissa: maxFiniteMantissa)
  }

  /// The code of zero; negative zero where the format has it. A format without zero
  /// (`e8m0fnu`) gives its NaN code.
  public func zeroCode(negative: Bool = false) -> UInt32 {
    guard hasZero else { return nanCode() }
    return negative && hasNegativeZero ? signMask : 0
  }

  /// Every code that decodes to NaN, as increasing runs of consecutive codes.
  public var nanCodeRanges: [ClosedRange<UInt32>] {
    switch specials {
    case .fnuz: return [signMask...signMask]
    case .finiteOnly: return []
    case .exponentOnly: return [exponentMask...exponentMask]
    case .finite: return [nanCode()...nanCode(), nanCode(negative: true)...nanCode(negative: true)]
    case .ieee:
      let first = code(sign: false, exponentField: exponentMask, mantissa: 1)
      let last = code(sign: false, exponentField: exponentMask, mantissa: mantissaMask)
      return [first...last, (first | signMask)...(last | signMask)]
    }
  }
}

/// `2^k` as a `Double`, exact for every `k` in the `Double` range (including subnormals).
@inline(__always)
func exp2Int(_ k: Int) -> Double {
  if k >= -1022 && k <= 1023 {
    return Double(bitPattern: UInt64(k + 1023) << 52)
  }
  if k > 1023 { return .infinity }
  if k >= -1074 { return Double(bitPattern: UInt64(1) << UInt64(k + 1074)) }
  return 0
}
