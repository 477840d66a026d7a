import FP8Sim

/// `fp8sim bench`: how fast the simulator runs on this machine (see docs/performance.md).
enum BenchCommand: Command {
  static let name = "bench"
  static let summary =
    "Measure the simulator: mma emulation MAC/s per accumulator, instructions/s, timing-only GEMM."
  static let synopsis = "[--quick]"
  static let options: [CommandOption] = [
    CommandOption("--quick", help: "Small sizes (seconds); the figures are then not representative.")
  ]

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    try arguments.expectNoPositionals()
    #if DEBUG
      context.stderr.line(
        "fp8sim bench: warning: this is a debug build; measure with `swift run -c release fp8sim bench`")
    #endif
    let rows = try Bench.run(quick: arguments.has("--quick"))
    let table = rows.map { r in
      [
        r.name, TextReport.fixed(r.value, 3) + " " + r.unit,
        r.target.map { $0.text + ($0.met(r.value) ? " met" : " MISSED") } ?? "",
        r.detail,
      ]
    }
    context.stdout.write(
      TextTable(
        header: ["benchmark", "result", "target", "detail"], rows: table, rightAligned: [1], underline: true
      )
      .render())
    return .success
  }
}
