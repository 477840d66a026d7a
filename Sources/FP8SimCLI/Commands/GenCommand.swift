import FP8ISA
import FP8Sim
import Foundation

/// `fp8sim gen gemm`: prints a complete GEMM program for a shape and a device, built with the
/// program builder (`GEMMKernel`), configured by rule or tuned with timing-only runs
/// (`GEMMPlanner`).
enum GenCommand: Command {
  static let name = "gen"
  static let summary =
    "Generate programs: a GEMM for any shape, configured (or tuned) for a device; FP8 transformer layers."
  static let synopsis =
    "gemm --shape MxNxK [--device D] [--a-type T] [--b-type T] [--out-type bf16|f16|f32] [--tune] [--candidates N] [-o FILE]\n"
    + "       fp8sim gen linear --rows T --inputs K --outputs N [--activation A] [--with-bias] [--residual] [--scaling amax|cscale|delayed|BLOCK-TYPE] [--bias B] [--margin M] [--history A] [--device D] [-o FILE]\n"
    + "       fp8sim gen ffn|attention|decoder-layer|encoder-layer (--model gpt2|llama-2-7b|minilm | --config FILE) (--prefill T | --decode C) [--batch B] [--scaling amax|cscale|delayed|BLOCK-TYPE] [--bias B] [--margin M] [--history A] [--device D] [-o FILE|DIR]"
  static let options: [CommandOption] = [
    DeviceLoading.deviceOption,
    CommandOption("--shape", value: "MxNxK", help: "The GEMM: C[M,N] = A[M,K]·B[K,N], e.g. 4096x4096x4096."),
    CommandOption("--a-type", value: "T", help: "A's element type (default fp8e4)."),
    CommandOption("--b-type", value: "T", help: "B's element type (default fp8e4)."),
    CommandOption("--out-type", value: "T", help: "C's type: bf16 (default), f16 or f32."),
    CommandOption(
      "--tune",
      help:
        "Run the \(GEMMPlanner.tunedCandidates) best-estimated configurations timing-only (on all cores) and keep the fastest."
    ),
    CommandOption(
      "--candidates", value: "N",
      help:
        "Instead of a program, list the N best-estimated configurations (with --tune: and their simulated cycles)."
    ),
    CommandOption("--block", value: "TMxTN", help: "Fix the output block (default: the planner chooses)."),
    CommandOption("--k-slice", value: "TK", help: "Fix the K slice."),
    CommandOption("--stages", value: "S", help: "Fix the DMA ring's depth (2...64)."),
    CommandOption("--raster", value: "R", help: "Fix the block order: rows or columns."),
    CommandOption("--cluster", value: "C", help: "Fix the multicast cluster (1: none)."),
    CommandOption("--split-k", value: "S", help: "Fix the ways K is split (1: none)."),
    CommandOption(
      "--output", value: "FILE",
      help: "Write the program to FILE (also -o FILE); a layer of several kernels: into the folder DIR."),
    CommandOption("--model", value: "NAME", help: "Layers: the sizes of gpt2 (124M), llama-2-7b or minilm."),
    CommandOption("--config", value: "FILE", help: "Layers: the sizes of a Hugging Face config.json."),
    CommandOption(
      "--prefill", value: "T", help: "Layers: T tokens per sequence (an encoder's sequence length)."),
    CommandOption("--decode", value: "C", help: "Decoder layers: one new token after C cached tokens."),
    CommandOption("--batch", value: "B", help: "Layers: sequences at once (default 1)."),
    CommandOption(
      "--style", value: "S",
      help: "Layers without --model or --config: gpt2, llama or bert, with the sizes below."),
    CommandOption("--hidden", value: "H", help: "Layers: the hidden size."),
    CommandOption("--heads", value: "N", help: "Layers: attention heads."),
    CommandOption("--kv-heads", value: "K", help: "Llama layers: key-value heads (default: --heads)."),
    CommandOption("--intermediate", value: "F", help: "Layers: the MLP's inner size (default 4 × hidden)."),
    CommandOption(
      "--scaling", value: "S",
      help: "Layers: FP8 biases by amax (default), cscale or delayed (from an amax history, here 1)."),
    CommandOption("--bias", value: "B", help: "Layers: CSCALE's constant bias (default 0)."),
    CommandOption("--margin", value: "M", help: "Layers: AMAX's margin (default 0)."),
    CommandOption(
      "--history", value: "A",
      help: "Layers, --scaling delayed: the amax history every tensor is scaled by (default 1)."),
    CommandOption("--rows", value: "T", help: "linear: rows of X and Y."),
    CommandOption("--inputs", value: "K", help: "linear: X's columns (W's inputs)."),
    CommandOption("--outputs", value: "N", help: "linear: Y's columns (W's outputs)."),
    CommandOption("--activation", value: "A", help: "linear: none (default), gelu, gelu.tanh or swiglu."),
    CommandOption("--with-bias", help: "linear: add a bias vector."),
    CommandOption("--residual", help: "linear: add a residual R [rows, outputs]."),
  ]

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    var positionals = arguments.positionals
    var outputPath = arguments.value("--output")
    if let i = positionals.firstIndex(of: "-o") {
      guard i + 1 < positionals.count else { throw UsageError("-o needs a FILE") }
      outputPath = positionals[i + 1]
      positionals.removeSubrange(i...(i + 1))
    }
    if positionals.count == 1, layerKinds.contains(positionals[0]) {
      return try layer(positionals[0], arguments, context, output: outputPath)
    }
    for option in GenCommand.linearOptions + GenCommand.layerOptions + GenCommand.scalingOptions
    where positionals == ["gemm"] && arguments.has(option) {
      throw UsageError("\(option) does not apply to gen gemm")
    }
    guard positionals == ["gemm"] else {
      throw UsageError(
        positionals.isEmpty
          ? "missing what to generate: gemm, \(layerKinds.joined(separator: ", "))"
          : "can generate gemm, \(layerKinds.joined(separator: ", ")); not '\(positionals.joined(separator: " "))'"
      )
    }
    guard let shapeText = arguments.value("--shape") else { throw UsageError("missing --shape MxNxK") }
    let dims = shapeText.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
    guard dims.count == 3, let m = dims[0], let n = dims[1], let k = dims[2],
      [m, n, k].allSatisfy({ (1...ProgramLimits.maxDimension).contains($0) })
    else {
      throw UsageError(
        "--shape must be MxNxK with each size 1...2^32, e.g. 1024x1024x1024; got '\(Printable.quoted(shapeText))'"
      )
    }
    func type(_ option: String, _ fallback: DType) throws(UsageError) -> DType {
      guard let text = arguments.value(option) else { return fallback }
      guard let t = DType.named(text) else {
        throw UsageError("option '\(option)': unknown element type '\(Printable.quoted(text))'")
      }
      return t
    }
    var problem = GEMMPlanner.Problem(m: m, n: n, k: k)
    problem.aType = try type("--a-type", .fp8e4)
    problem.bType = try type("--b-type", .fp8e4)
    problem.outType = try type("--out-type", .format(.bf16))
    if let text = arguments.value("--block") {
      let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
      guard parts.count == 2, let bm = parts[0], let bn = parts[1], bm >= 1, bn >= 1, bm <= 65536, bn <= 65536
      else {
        throw UsageError(
          "--block must be TMxTN with each size 1...65536, e.g. 128x256; got '\(Printable.quoted(text))'")
      }
      problem.block = .init(bm, bn)
    }
    if arguments.has("--k-slice") {
      problem.slice = try arguments.integer("--k-slice", default: 128, range: 1...65536)
    }
    if arguments.has("--stages") {
      problem.stages = try arguments.integer("--stages", default: 2, range: 2...64)
    }
    if arguments.has("--raster") {
      problem.raster = try arguments.choice("--raster", default: GEMMKernel.Raster.rows)
    }
    if arguments.has("--cluster") {
      problem.cluster = try arguments.integer("--cluster", default: 1, range: 1...Int(Transfer.maxMulticast))
    }
    if arguments.has("--split-k") {
      problem.splitK = try arguments.integer("--split-k", default: 1, range: 1...65536)
    }
    let deviceName = arguments.value("--device") ?? "teach"
    let device = try DeviceLoading.load(deviceName, relativeTo: nil)
    var files = OutputFiles(command: name)
    if let path = arguments.value("--device") { files.addInput(path) }
    if let outputPath { try files.plan(outputPath, as: "-o") }

    let listed = try arguments.value("--candidates").map { _ in
      try arguments.integer("--candidates", default: 1, range: 1...100_000)
    }
    var how: String
    var kernel: GEMMKernel
    var builder: ProgramBuilder
    do {
      if let listed {
        let ranked = GEMMPlanner.ranked(problem, device: device)
        let shown = Array(ranked.prefix(listed))
        var simulated: [Int64?] = shown.map { _ in nil }
        if arguments.has("--tune") {
          let tuned = try GEMMPlanner.tune(problem, device: device, limit: listed)
          simulated = tuned.runs.map(\.cycles)
        }
        context.stdout.write(
          candidateTable(shown, simulated: simulated, tuned: arguments.has("--tune"), device: device))
        return .success
      }
      if arguments.has("--tune") {
        let tuned = try GEMMPlanner.tune(problem, device: device)
        kernel = tuned.kernel
        how =
          "tuned: the \(tuned.tried) best-estimated candidates run timing-only on \(device.name); the fastest takes \(tuned.cycles) cycles"
      } else {
        kernel = try GEMMPlanner.plan(problem, device: device)
        how =
          "chosen by the planner's estimate (\(cyclesText(GEMMPlanner.estimate(kernel, device: device))) cycles on \(device.name)); --tune runs the best candidates"
      }
      kernel.device = DeviceConfig.preset(named: deviceName) != nil ? deviceName : nil
      builder = try kernel.builder()
    } catch let error as GEMMKernel.ConfigError {
      throw UsageError(error.description)
    }
    builder.header = [
      "Generated by `fp8sim gen gemm --device \(deviceName) --shape \(m)x\(n)x\(k)\(fixedFlags(arguments))`.",
      kernel.summary + ".",
      how + ".",
    ]
    // Every check of the assembler, before anything is written; the text is the one it read.
    let text = try builder.build().source.text
    if let outputPath {
      try files.write(outputPath, what: "the program") { try $0.append(text) }
    } else {
      context.stdout.write(text)
    }
    return .success
  }

  /// The options that shaped the program beyond the device and shape, as written, for the
  /// header's command line.
  static func fixedFlags(
    _ arguments: ParsedArguments, excluding: [String] = ["--device", "--shape", "--candidates", "--output"]
  ) -> String {
    var out = ""
    // Every option of the table except those that do not change the program (for a GEMM, the
    // device and shape are written already).
    for option in options where !excluding.contains(option.name) {
      if option.valueName == nil {
        if arguments.has(option.name) { out += " \(option.name)" }
      } else if let v = arguments.value(option.name) {
        out += " \(option.name) \(v)"
      }
    }
    return out
  }

  /// An estimated cycle count: grouped digits, or 3 significant digits past 10^15 (a shape of
  /// 2^32 on every side is estimated at about 10^25 cycles).
  static func cyclesText(_ x: Double) -> String {
    x < 1e15 ? TextReport.grouped(Int64(x.rounded())) : TextReport.scientific(x)
  }

  /// The ranked candidates: configuration, estimated cycles and (when run) simulated cycles.
  static func candidateTable(_ kernels: [GEMMKernel], simulated: [Int64?], tuned: Bool, device: DeviceConfig)
    -> String
  {
    let rows = kernels.enumerated().map { i, g in
      [
        "\(i + 1)", "\(min(g.tm, g.m))×\(min(g.tn, g.n))", "\(min(g.tk, g.k))", "\(g.stages)",
        g.raster.rawValue,
        "\(g.cluster)", "\(g.splitK)", g.accumulatorSpace.rawValue,
        cyclesText(GEMMPlanner.estimate(g, device: device)),
      ] + (tuned ? [simulated[i].map { TextReport.grouped($0) } ?? "fault"] : [])
    }
    return TextTable(
      header: ["rank", "block", "K slice", "stages", "raster", "cluster", "split K", "acc", "estimate"]
        + (tuned ? ["simulated"] : []),
      rows: rows, rightAligned: tuned ? [0, 2, 3, 5, 6, 8, 9] : [0, 2, 3, 5, 6, 8], underline: true
    ).render()
  }
}
