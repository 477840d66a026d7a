/// The formats fp8sim knows, with the names ml_dtypes uses as aliases.
///
/// | name       | E | M | bias | max     | specials                                   |
/// |------------|---|---|------|---------|--------------------------------------------|
/// | `e4m3fn`   | 4 | 3 | 7    | 448     | NaN `S.1111.111`, no inf, signed zero      |
/// | `e5m2`     | 5 | 2 | 15   | 57344   | IEEE: inf `S.11111.00`, NaN `S.11111.{01,10,11}` |
/// | `e4m3fnuz` | 4 | 3 | 8    | 240     | single NaN `0x80`, no inf, no −0 (Graphcore E4) |
/// | `e5m2fnuz` | 5 | 2 | 16   | 57344   | single NaN `0x80`, no inf, no −0 (Graphcore E5) |
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
  public static let f16 = FloatFormat(
    name: "f16", aliases: ["float16", "half"], exponentBits: 5, mantissaBits: 10, bias: 15,
    specials: .ieee)
  public static let bf16 = FloatFormat(
    name: "bf16", aliases: ["bfloat16"], exponentBits: 8, mantissaBits: 7, bias: 127,
    specials: .ieee)
  public static let f32 = FloatFormat(
    name: "f32", aliases: ["float32", "float"], exponentBits: 8, mantissaBits: 23, bias: 127,
    specials: .ieee)

  /// Every built-in format, 8-bit formats first.
  public static let all: [FloatFormat] = [e4m3fn, e5m2, e4m3fnuz, e5m2fnuz, f16, bf16, f32]

  /// Looks a format up by its name or an alias (case-sensitive, as ml_dtypes).
  public static func named(_ name: String) -> FloatFormat? {
    all.first { $0.name == name || $0.aliases.contains(name) }
  }

  /// Every accepted spelling, names first, for messages and help.
  public static var allSpellings: [String] { all.map(\.name) + all.flatMap(\.aliases) }

  /// True for the four 8-bit formats.
  public var isFP8: Bool { totalBits == 8 }
}
