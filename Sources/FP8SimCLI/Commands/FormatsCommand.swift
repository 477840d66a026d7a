import FP8Formats
import FP8Sim

/// `fp8sim formats`: a table of every format's parameters and special encodings.
enum FormatsCommand: Command {
  static let name = "formats"
  static let summary = "Print the number formats: widths, bias, range and special encodings."
  static let synopsis = ""
  static let options: [CommandOption] = []

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    try arguments.expectNoPositionals()
    context.stdout.write(table())
    return .success
  }

  static func table() -> String {
    let header = [
      "format", "aliases", "bits", "E", "M", "bias", "max", "min normal", "min subnormal",
      "NaN codes", "inf codes", "-0",
    ]
    var rows: [[String]] = []
    for f in FloatFormat.all {
      let digits = f.byteWidth * 2
      let hex = { (c: UInt32) in QuantizeCommand.hex(c, digits: digits) }
      let infText = f.infinityCode().map { "\(hex($0)) \(hex(f.infinityCode(negative: true)!))" } ?? "none"
      rows.append([
        f.name, f.aliases.joined(separator: ","), String(f.totalBits), String(f.exponentBits),
        String(f.mantissaBits), String(f.bias), ValueText.exact(f.maxFinite),
        ValueText.exact(f.minNormal), ValueText.exact(f.minSubnormal),
        f.hasNaN ? codeRanges(f.nanCodeRanges, hex: hex) : "none", infText,
        f.hasNegativeZero ? hex(f.zeroCode(negative: true)) : "none",
      ])
    }
    return TextTable(header: header, rows: rows, rightAligned: [2, 3, 4, 5], underline: true).render()
  }

  /// `0x7D-0x7F 0xFD-0xFF`: runs of codes.
  static func codeRanges(_ ranges: [ClosedRange<UInt32>], hex: (UInt32) -> String) -> String {
    ranges.map { $0.count == 1 ? hex($0.lowerBound) : "\(hex($0.lowerBound))-\(hex($0.upperBound))" }
      .joined(separator: " ")
  }
}
