import FP8Sim

/// `fp8sim devices`: the presets, or one device as a commented JSON5 file.
enum DevicesCommand: Command {
  static let name = "devices"
  static let summary = "List the device presets, or print one as a device file (--dump NAME)."
  static let synopsis = "[--dump NAME|FILE] [--fields]"
  static let options: [CommandOption] = [
    CommandOption(
      "--dump", value: "NAME", help: "Print a preset (or a device file, resolved) as commented JSON5."),
    CommandOption("--fields", help: "Print the field reference (Markdown) of device files."),
  ]

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    try arguments.expectNoPositionals()
    if arguments.has("--fields") {
      context.stdout.write(DeviceConfig.fieldReferenceMarkdown())
      return .success
    }
    if let name = arguments.value("--dump") {
      context.stdout.write(try DeviceLoading.load(name, relativeTo: nil).json5())
      return .success
    }
    let rows = DeviceConfig.presets.map { d in
      [
        d.name, String(d.tiles), TextReport.fixed(d.clockGHz, 2), kib(d.sramBytesPerTile),
        d.l2Bytes == 0 ? "none" : kib(d.l2Bytes), TextReport.fixed(d.dramGBps, 1),
        TextReport.fixed(d.peakFP8TFLOPS, 1), "\(d.formatE4)/\(d.formatE5)",
      ]
    }
    context.stdout.write(
      TextTable(
        header: ["device", "tiles", "GHz", "SRAM/tile", "L2", "DRAM GB/s", "FP8 TFLOP/s", "fp8e4/fp8e5"],
        rows: rows,
        rightAligned: [1, 2, 3, 4, 5, 6], underline: true
      ).render())
    context.stdout.write(
      "\n" + DeviceConfig.presets.map { "\($0.name): \($0.summary)" }.joined(separator: "\n") + "\n")
    return .success
  }

  /// Whole MiB as such, other sizes from 1 MiB up with one decimal (126.5 MiB), below in KiB.
  static func kib(_ bytes: Int) -> String {
    if bytes >= 1 << 20 {
      return bytes % (1 << 20) == 0
        ? "\(bytes >> 20) MiB" : "\(TextReport.fixed(Double(bytes) / Double(1 << 20), 1)) MiB"
    }
    return "\(TextReport.fixed(Double(bytes) / 1024, 0)) KiB"
  }
}
