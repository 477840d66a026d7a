import FP8Formats
import FP8ISA

/// `fp8sim quantize`: casts numbers to a format, printing `0xHH <dequantised value>` per value.
enum QuantizeCommand: Command {
  static let name = "quantize"
  static let summary = "Quantise numbers to a format with a scaling bias; print code and value."
  static let synopsis =
    "--format F [--scale-bias B] [--rounding R] [--seed S] [--overflow O] [VALUES...]"
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
      var values: [Double] = []
      for token in arguments.positionals {
        guard let v = ValueText.parse(token) else {
          throw UsageError("invalid number '\(Printable.quoted(token))'")
        }
        values.append(v)
      }
      var out = ""
      for v in values { out += quantized(v) }
      context.stdout.write(out)
      return .success
    }

    // Standard input is streamed: each chunk's values are printed before the next is read, so
    // memory stays bounded and the first line comes out at once. A bad token stops the stream
    // (the lines before it have been printed) with its line and column.
    var reader = TokenReader()
    while let chunk = context.readStandardInput() {
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
