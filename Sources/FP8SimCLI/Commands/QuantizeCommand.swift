import FP8Formats

/// `fp8sim quantize`: casts numbers to a format, printing `0xHH <dequantised value>` per value.
enum QuantizeCommand: Command {
  static let name = "quantize"
  static let summary = "Quantise numbers to a format with a scaling bias; print code and value."
  static let synopsis =
    "--format F [--scale-bias B] [--rounding R] [--seed S] [--overflow O] [VALUES...]"
  static let options: [OptionSpec] = [
    OptionSpec(
      "--format", value: "F",
      help: "Target format: " + FloatFormat.all.map(\.name).joined(separator: ", ")
        + " (or an ml_dtypes alias)."),
    OptionSpec(
      "--scale-bias", value: "B",
      help: "Scaling bias: code = cast(x * 2^B), value = decode(code) * 2^-B (default 0)."),
    OptionSpec(
      "--rounding", value: "R", help: "nearest-even (default), toward-zero or stochastic."),
    OptionSpec("--seed", value: "S", help: "Seed for stochastic rounding (default 0)."),
    OptionSpec("--overflow", value: "O", help: "nonfinite (default) or saturate."),
  ]

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    guard let formatName = arguments.value("--format") else {
      throw UsageError("missing required option '--format F'")
    }
    guard let format = FloatFormat.named(formatName) else {
      throw UsageError(
        "unknown format '\(formatName)'; expected one of "
          + FloatFormat.all.map(\.name).joined(separator: ", "))
    }
    let bias = try arguments.integer("--scale-bias", default: 0, range: ScalingBias.validRange)
    let rounding = try arguments.choice("--rounding", default: RoundingMode.nearestEven)
    let overflow = try arguments.choice("--overflow", default: OverflowMode.nonfinite)
    let seed: UInt64
    if let text = arguments.value("--seed") {
      guard let s = UInt64(text) else {
        throw UsageError("option '--seed' needs a non-negative integer, got '\(text)'")
      }
      seed = s
    } else {
      seed = 0
    }

    let tokens: [String]
    if arguments.positionals.isEmpty {
      tokens = context.readStandardInput().split(whereSeparator: \.isWhitespace).map(String.init)
    } else {
      tokens = arguments.positionals
    }
    // Parse everything first: a bad token prints nothing but the error.
    var values: [Double] = []
    values.reserveCapacity(tokens.count)
    for token in tokens {
      guard let v = ValueText.parse(token) else {
        throw UsageError("invalid number '\(token)'")
      }
      values.append(v)
    }
    let digits = format.byteWidth * 2
    var out = ""
    for (i, x) in values.enumerated() {
      let (encoded, value) = format.quantize(
        x, bias: bias, rounding: rounding, overflow: overflow,
        randomBits: RandomBits.at(seed: seed, index: UInt64(i)))
      // A NaN code with the sign bit set prints as `-nan` (it parses back to the same code)
      // where the format has signed NaNs; fnuz formats have the one NaN 0x80, printed `nan`.
      let negativeNaN = value.isNaN && format.hasSignedNaN && encoded.code & format.signMask != 0
      out += hex(encoded.code, digits: digits) + " " + (negativeNaN ? "-nan" : ValueText.exact(value)) + "\n"
    }
    context.stdout.write(out)
    return .success
  }

  static func hex(_ code: UInt32, digits: Int) -> String {
    let h = String(code, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: max(0, digits - h.count)) + h
  }
}
