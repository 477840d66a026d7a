import FP8Formats
import FP8ISA

/// `fp8sim quantize`: casts numbers to a format, printing `0xHH <dequantised value>` per value.
enum QuantizeCommand: Command {
  static let name = "quantize"
  static let summary = "Quantise numbers to a format with a scaling bias; print code and value."
  static let synopsis =
    "--format F [--scale-bias B] [--rounding R] [--seed S] [--overflow O] [VALUES...] | --block SCHEME [VALUES...]"
  static let options: [CommandOption] = [
    CommandOption(
      "--format", value: "F",
      help: "Target format: " + FloatFormat.all.map(\.name).joined(separator: ", ")
        + " (or an ml_dtypes alias)."),
    CommandOption(
      "--scale-bias", value: "B",
      help: "Scaling bias: code = cast(x * 2^B), value = decode(code) * 2^-B (default 0)."),
    CommandOption(
      "--rounding", value: "R", help: "nearest-even (default), toward-zero or stochastic."),
    CommandOption("--seed", value: "S", help: "Seed for stochastic rounding (default 0)."),
    CommandOption("--overflow", value: "O", help: "nonfinite (default) or saturate."),
    CommandOption(
      "--block", value: "SCHEME",
      help: "Block-scale the values as one row instead: "
        + BlockScaling.named.map(\.name).joined(separator: ", ")
        + ", or ELEMENT_SCALE_1xN (e.g. e4m3fn_f32_1x128); prints each block's scale, then code and value per element."
    ),
  ]

  /// The most values `--block` reads (they are held at once: NVFP4 needs the whole row's amax).
  static let maxBlockValues = 1 << 22

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    if let scheme = arguments.value("--block") {
      return try runBlock(scheme, arguments, context)
    }
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

    let digits = format.byteWidth * 2
    var index: UInt64 = 0
    func quantized(_ x: Double) -> String {
      let (encoded, value) = format.quantize(
        x, bias: bias, rounding: rounding, overflow: overflow,
        randomBits: RandomBits.at(seed: seed, index: index))
      index += 1
      // A NaN code with the sign bit set prints as `-nan` (it parses back to the same code)
      // where the format has signed NaNs; fnuz formats have the one NaN 0x80, printed `nan`.
      let negativeNaN = value.isNaN && format.hasSignedNaN && encoded.code & format.signMask != 0
      // FP6 and FP4 have no NaN: the zero a NaN became is marked, never passed off as a value.
      let note = encoded.event == .nan && !format.hasNaN ? "  # NaN: \(format.name) has no NaN" : ""
      return hex(encoded.code, digits: digits) + " " + (negativeNaN ? "-nan" : ValueText.exact(value)) + note
        + "\n"
    }

    if !arguments.positionals.isEmpty {
      // Arguments are parsed first: a bad one prints nothing but the error.
      var out = ""
      for v in try argumentValues(arguments) { out += quantized(v) }
      context.stdout.write(out)
      return .success
    }

    // Standard input is streamed: each chunk's values are printed before the next is read, so
    // memory stays bounded and the first line comes out at once. A bad token stops the stream
    // (the lines before it have been printed) with its line and column.
    var reader = TokenReader()
    while let chunk = try context.readStandardInput() {
      var out = ""
      do {
        for token in reader.feed(chunk) { out += quantized(try number(token)) }
        if let failure = reader.failure { throw failure }
      } catch {
        context.stdout.write(out)  // the values before the bad token
        throw error
      }
      context.stdout.write(out)
      context.stdout.flush()
      // A closed pipe or a full disk: stop reading (main reports the failure, status 74).
      if context.stdout.failure != nil { return .ioError }
    }
    if let token = reader.finish() { context.stdout.write(quantized(try number(token))) }
    return .success
  }

  /// `--block`: the values as one row of a block-scaled tensor.
  static func runBlock(_ name: String, _ arguments: ParsedArguments, _ context: CommandContext) throws
    -> ExitCode
  {
    for option in ["--format", "--scale-bias", "--rounding", "--seed", "--overflow"]
    where arguments.value(option) != nil {
      throw UsageError(
        "option '\(option)' does not apply to '--block' (the scheme fixes the formats and the rounding)")
    }
    guard let scheme = BlockScaling.named(name) else {
      throw UsageError(
        "unknown block scheme '\(Printable.quoted(name))'; expected one of "
          + BlockScaling.named.map(\.name).joined(separator: ", ")
          + ", or ELEMENT_SCALE_1xN with canonical format names (e.g. e4m3fn_f32_1x128): ELEMENT a signed format"
          + " with a zero, SCALE a signed format of whole bytes with a zero (f32, bf16, f16 or an FP8 format),"
          + " N from 1 to 1048576")
    }
    guard scheme.blockRows == 1 else {
      throw UsageError("'--block \(name)': the values are one row, so blocks must be 1×N")
    }
    var values: [Double] = []
    func append(_ v: Double) throws {
      guard values.count < maxBlockValues else {
        throw CommandFailure(
          "fp8sim quantize: error: '--block' reads at most \(maxBlockValues) values", status: .dataError)
      }
      values.append(v)
    }
    if !arguments.positionals.isEmpty {
      for v in try argumentValues(arguments) { try append(v) }
    } else {
      var reader = TokenReader()
      while let chunk = try context.readStandardInput() {
        for token in reader.feed(chunk) { try append(try number(token)) }
        if let failure = reader.failure { throw failure }
      }
      if let token = reader.finish() { try append(try number(token)) }
    }
    let q = scheme.quantize(values, rows: 1, cols: values.count)
    let digits = { (f: FloatFormat) in f.byteWidth * 2 }
    func plural(_ n: Int, _ word: String) -> String { n == 1 ? "1 \(word)" : "\(n) \(word)s" }
    var out =
      "# \(scheme.name): \(scheme.element.name) elements, one \(scheme.scale.name) scale per "
      + plural(scheme.blockCols, "value") + "\n"
    if let t = q.tensorScale { out += "# tensor scale \(ValueText.exact(Double(t))) (f32)\n" }
    let tensorNaN = q.tensorScale?.isNaN ?? false
    let dequantized = q.values()
    for (b, code) in q.scales.enumerated() {
      let block = (b * scheme.blockCols)..<min(values.count, (b + 1) * scheme.blockCols)
      let scaleValue = scheme.scale.decode(code)
      out += "# block \(b): scale \(hex(code, digits: digits(scheme.scale))) = \(ValueText.exact(scaleValue))"
      if tensorNaN {
        out += " (the tensor scale is NaN: the row holds a NaN or an infinity; every value is NaN)\n"
      } else if scaleValue.isNaN {
        out += " (the block holds a NaN or an infinity: every value is NaN)\n"
      } else if scaleValue == 0 && values[block].contains(where: { $0 != 0 }) {
        out += " (the scale underflowed: every value of the block is zero)\n"
      } else {
        out += "\n"
      }
      for i in block {
        out += hex(q.codes[i], digits: digits(scheme.element)) + " " + ValueText.exact(dequantized[i]) + "\n"
        // Bounded memory for long rows: write as it goes.
        if out.utf8.count >= 1 << 20 {
          context.stdout.write(out)
          out = ""
        }
      }
    }
    let c = q.casts
    out += "# \(plural(values.count, "value")) in \(plural(q.scales.count, "block"))"
    if let bytes = scheme.bytes(rows: 1, cols: values.count), !values.isEmpty {
      let total = bytes.elements + bytes.scales + bytes.tensorScale
      out +=
        ": \(bytes.elements) bytes of elements, \(bytes.scales + bytes.tensorScale) of scales, "
        + "\(ValueText.fixed(Double(8 * total) / Double(values.count), digits: 2)) bits per value"
    }
    out +=
      "\n# casts: \(c.rounded) rounded, \(c.underflow) underflowed to zero, \(c.overflow) saturated, \(c.nan) NaN\n"
    context.stdout.write(out)
    return .success
  }

  /// The values given as arguments, every one parsed before any is used.
  static func argumentValues(_ arguments: ParsedArguments) throws -> [Double] {
    try arguments.positionals.map { token in
      guard let v = ValueText.parse(token) else {
        throw UsageError("invalid number '\(Printable.quoted(token))'")
      }
      return v
    }
  }

  static func number(_ token: TokenReader.Token) throws -> Double {
    guard let v = ValueText.parse(token.text) else {
      throw CommandFailure(
        "<stdin>:\(token.line):\(token.column): error: invalid number '\(Printable.quoted(token.text))'",
        status: .dataError)
    }
    return v
  }

  static func hex(_ code: UInt32, digits: Int) -> String {
    let h = String(code, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: max(0, digits - h.count)) + h
  }
}

/// Splits a byte stream into whitespace-separated tokens across chunk boundaries, with the
/// line and column where each starts; a token may be at most `maxLength` bytes.
struct TokenReader {
  struct Token {
    var text: String
    var line: Int
    var column: Int
  }
  static let maxLength = 1024

  private var partial: [UInt8] = []
  private var start = (line: 1, column: 1)
  private var line = 1
  private var column = 1

  /// The tokens completed by `bytes`; a token longer than `maxLength` ends the stream: the
  /// tokens before it are returned and `failure` says what went wrong.
  mutating func feed(_ bytes: [UInt8]) -> [Token] {
    var tokens: [Token] = []
    guard failure == nil else { return [] }
    for b in bytes {
      if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C {
        if let t = take() { tokens.append(t) }
      } else {
        if partial.isEmpty { start = (line, column) }
        guard partial.count < Self.maxLength else {
          failure = CommandFailure(
            "<stdin>:\(start.line):\(start.column): error: a token longer than \(Self.maxLength) bytes",
            status: .dataError)
          return tokens
        }
        partial.append(b)
      }
      if b == 0x0A {
        line += 1
        column = 1
      } else {
        column += 1
      }
    }
    return tokens
  }

  /// Set when a token was too long.
  private(set) var failure: CommandFailure?

  mutating func finish() -> Token? { failure == nil ? take() : nil }

  private mutating func take() -> Token? {
    guard !partial.isEmpty else { return nil }
    defer { partial.removeAll(keepingCapacity: true) }
    return Token(text: String(decoding: partial, as: UTF8.self), line: start.line, column: start.column)
  }
}
