/// The formats fp8sim knows, with the names ml_dtypes uses as aliases.
///
/// | name       | E | M | bias | max     | specials                                   |
/// |------------|---|---|------|---------|--------------------------------------------|
/// | `e4m3fn`   | 4 | 3 | 7    | 448     | NaN `S.1111.111`, no inf, signed zero      |
/// | `e5m2`     | 5 | 2 | 15   | 57344   | IEEE: inf `S.11111.00`, NaN `S.11111.{01,10,11}` |
/// | `e4m3fnuz` | 4 | 3 | 8    | 240     | single NaN `0x80`, no inf, no −0 (Graphcore E4) |
/// | `e5m2fnuz` | 5 | 2 | 16   | 57344   | single NaN `0x80`, no inf, no −0 (Graphcore E5) |
/// | `e2m1fn`   | 2 | 1 | 1    | 6       | OCP MX FP4: no inf, no NaN, signed zero    |
/// | `e2m3fn`   | 2 | 3 | 1    | 7.5     | OCP MX FP6: no inf, no NaN, signed zero    |
/// | `e3m2fn`   | 3 | 2 | 3    | 28      | OCP MX FP6: no inf, no NaN, signed zero    |
/// | `e8m0fnu`  | 8 | 0 | 127  | 2^127   | OCP MX scale: unsigned, powers of two 2^-127…2^127, NaN `0xFF` |
/// | `f16`      | 5 | 10| 15   | 65504   | IEEE binary16                              |
/// | `bf16`     | 8 | 7 | 127  | 3.39e38 | IEEE-style bfloat16                        |
/// | `f32`      | 8 | 23| 127  | 3.40e38 | IEEE binary32                              |
extension FloatFormat {
  public static let e4m3fn = FloatFormat(
    name: "e4m3fn", aliases: ["float8_e4m3fn"], exponentBits: 4, mantissaBits: 3, bias: 7,
    specials: .finite)
  public static let e5m2 = FloatFormat(
    name: "e5m2", aliases: ["float8_e5m2"], exponentBits: 5, mantissaBits: 2, bias: 15,
    specials: .ieee)
  public static let e4m3fnuz = FloatFormat(
    name: "e4m3fnuz", aliases: ["float8_e4m3fnuz"], exponentBits: 4, mantissaBits: 3, bias: 8,
    specials: .fnuz)
  public static let e5m2fnuz = FloatFormat(
    name: "e5m2fnuz", aliases: ["float8_e5m2fnuz"], exponentBits: 5, mantissaBits: 2, bias: 16,
    specials: .fnuz)
  public static let e2m1fn = FloatFormat(
    name: "e2m1fn", aliases: ["float4_e2m1fn"], exponentBits: 2, mantissaBits: 1, bias: 1,
    specials: .finiteOnly)
  public static let e2m3fn = FloatFormat(
    name: "e2m3fn", aliases: ["float6_e2m3fn"], exponentBits: 2, mantissaBits: 3, bias: 1,
    specials: .finiteOnly)
  public static let e3m2fn = FloatFormat(
    name: "e3m2fn", aliases: ["float6_e3m2fn"], exponentBits: 3, mantissaBits: 2, bias: 3,
    specials: .finiteOnly)
  public static let e8m0fnu = FloatFormat(
    name: "e8m0fnu", aliases: ["float8_e8m0fnu"], exponentBits: 8, mantissaBits: 0, bias: 127,
    specials: .exponentOnly)
  public static let f16 = FloatFormat(
    name: "f16", aliases: ["float16", "half"], exponentBits: 5, mantissaBits: 10, bias: 15,
    specials: .ieee)
  public static let bf16 = FloatFormat(
    name: "bf16", aliases: ["bfloat16"], exponentBits: 8, mantissaBits: 7, bias: 127,
    specials: .ieee)
  public static let f32 = FloatFormat(
    name: "f32", aliases: ["float32", "float"], exponentBits: 8, mantissaBits: 23, bias: 127,
    specials: .ieee)

  /// Every built-in format: the FP8 formats, the MX element formats (FP4, FP6) and scale
  /// (E8M0), then the 16- and 32-bit ones.
  public static let all: [FloatFormat] = [
    e4m3fn, e5m2, e4m3fnuz, e5m2fnuz, e2m1fn, e2m3fn, e3m2fn, e8m0fnu, f16, bf16, f32,
  ]

  /// Looks a format up by its name or an alias (case-sensitive, as ml_dtypes).
  public static func named(_ name: String) -> FloatFormat? {
    all.first { $0.name == name || $0.aliases.contains(name) }
  }

  /// Every accepted spelling, names first, for messages and help.
  public static var allSpellings: [String] { all.map(\.name) + all.flatMap(\.aliases) }

  /// True for the four FP8 formats (8-bit and signed: not the scale format `e8m0fnu`).
  public var isFP8: Bool { totalBits == 8 && isSigned }

  /// Whether values of this format can be a tensor's elements, one or more whole bytes each
  /// (the FP8, 16- and 32-bit formats). FP4, FP6 and E8M0 are for quantising values
  /// (`fp8sim quantize`) and block scaling.
  public var isByteElement: Bool { totalBits % 8 == 0 && isSigned }
}
