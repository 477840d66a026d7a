import FP8Data
import FP8Formats
import FP8ISA
import FP8Models
import FP8Sim
import Foundation

/// `fp8sim model run DIR --text ...`: a BERT-family sentence encoder (Hugging Face layout) end to
/// end on the simulated device, FP8 matmuls with AMAX or CSCALE scaling, against the FP32 shadow.
enum ModelCommand: Command {
  static let name = "model"
  static let summary =
    "Run a real model (a BERT-family sentence encoder) end to end, or cost a decoder layer, on the simulated device."
  static let synopsis =
    "run DIR --text \"...\" [--text \"...\"]... [--scaling amax|cscale|delayed] [--calibrate \"...\"]... [--bias B] [--margin M] [--overflow nonfinite|saturate] [--sweep bias=A..B] [--device D] [--format text|json] [--timing-only]\n"
    + "       fp8sim model cost (--model gpt2|llama-2-7b | --config FILE) (--prefill T | --decode C) [--batch B] [--scaling amax,cscale,delayed,mxfp8_e4m3,...] [--bias B] [--device D] [--format text|json]"
  static let options: [CommandOption] = [
    CommandOption("--text", value: "TEXT", repeatable: true, help: "A text to encode (repeat for a batch)."),
    CommandOption(
      "--scaling", value: "S",
      help:
        "How FP8 matmuls get their biases: amax (default), cscale, or delayed (each layer's amax from an AMAX run of the --calibrate texts)."
    ),
    CommandOption(
      "--calibrate", value: "TEXT", repeatable: true,
      help:
        "Delayed scaling: a text of the earlier step whose amax sets the biases (default: the texts themselves)."
    ),
    CommandOption(
      "--bias", value: "B", help: "CSCALE's constant bias, weights and activations alike (default 0)."),
    CommandOption("--margin", value: "M", help: "AMAX's margin, subtracted from each bias (default 0)."),
    CommandOption(
      "--overflow", value: "O",
      help: "An FP8 cast of a value past the format's range: nonfinite (default, inf/NaN) or saturate."),
    CommandOption(
      "--sweep", value: "bias=A..B",
      help: "CSCALE at every bias from A to B: the cosine per bias next to AMAX's (Fig. 5 of the paper)."),
    DeviceLoading.deviceOption,
    CommandOption("--format", value: "F", help: "text (default) or json."),
    CommandOption("--timing-only", help: "Only cycles and traffic: no values, biases or embeddings."),
    CommandOption(
      "--model", value: "NAME", help: "cost: a decoder layer of gpt2 (124M) or llama-2-7b, sizes built in."),
    CommandOption(
      "--config", value: "FILE", help: "cost: a GPT-2 or Llama config.json for the layer's sizes."),
    CommandOption(
      "--prefill", value: "T", help: "cost: a prefill of T tokens per sequence (causal attention)."),
    CommandOption("--decode", value: "C", help: "cost: one new token per sequence after C cached tokens."),
    CommandOption("--batch", value: "B", help: "cost: sequences at once (default 1)."),
  ]

  enum Format: String, CaseIterable { case text, json }
  /// `--scaling NAME` (with `--bias` and `--margin`): amax, cscale, delayed or a block type.
  static func scaling(_ arguments: ParsedArguments, _ name: String? = nil) throws(UsageError) -> Scaling {
    let text = name ?? arguments.value("--scaling") ?? "amax"
    let bias = try arguments.integer("--bias", default: 0, range: -31...31)
    let margin = try arguments.integer("--margin", default: 0, range: -31...31)
    guard let s = Scaling.named(text, bias: bias, margin: margin) else {
      throw UsageError(
        "--scaling is amax, cscale, delayed or a block-scaled type along rows (mxfp8_e4m3, mxfp8_e5m2, mxfp6_e2m3, mxfp6_e3m2, mxfp4, e4m3fn_f32_1x128, ...); not '\(Printable.quoted(text))'"
      )
    }
    return s
  }

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    let positionals = arguments.positionals
    if positionals.first == "cost" { return try cost(arguments, context) }
    guard positionals.first == "run" else {
      throw UsageError(
        positionals.isEmpty
          ? "missing the subcommand: model run DIR or model cost"
          : "unknown subcommand '\(positionals[0])' (expected run or cost)")
    }
    guard positionals.count == 2 else {
      throw UsageError(
        positionals.count < 2 ? "missing the model folder: model run DIR" : "expected one model folder")
    }
    let texts = arguments.all("--text")
    guard !texts.isEmpty else { throw UsageError("give at least one --text") }
    let format = try arguments.choice("--format", default: Format.text)
    var options = SentenceEncoder.Options()
    options.device = try DeviceLoading.load(arguments.value("--device") ?? "h100", relativeTo: nil)
    options.timingOnly = arguments.has("--timing-only")
    options.overflow = try arguments.choice("--overflow", default: OverflowMode.nonfinite)
    let margin = try arguments.integer("--margin", default: 0, range: -31...31)
    options.scaling = try scaling(arguments)
    if arguments.has("--calibrate") {
      guard case .delayed = options.scaling else { throw UsageError("--calibrate is for --scaling delayed") }
      options.calibration = arguments.all("--calibrate")
    }
    let sweep = try arguments.value("--sweep").map(parseSweep)
    if sweep != nil && options.timingOnly {
      throw UsageError("--sweep compares cosines: it needs values (drop --timing-only)")
    }
    let directory = URL(fileURLWithPath: positionals[1])
    let encoder: SentenceEncoder
    do {
      encoder = try SentenceEncoder(directory: directory)
    } catch {
      throw CommandFailure("fp8sim model: error: \(error.description)", status: .dataError)
    }
    @Sendable func encode(_ o: SentenceEncoder.Options) throws -> EncoderResult {
      do {
        return try encoder.run(texts, options: o)
      } catch {
        throw CommandFailure("fp8sim model: error: \(error.description)", status: .runtimeFault)
      }
    }
    if let sweep {
      // AMAX, then CSCALE at each bias: independent runs, on every core (as compare's sweeps).
      let runs = [Scaling.amax(margin: margin)] + sweep.map { Scaling.cscale(bias: $0) }
      let outcomes = ParallelSlots<Result<EncoderResult, any Error>>(count: runs.count)
      let base = options
      DispatchQueue.concurrentPerform(iterations: runs.count) { i in
        var o = base
        o.scaling = runs[i]
        outcomes.set(i, Result { try encode(o) })
      }
      let results = try outcomes.values.map { try $0!.get() }
      let reference = results[0]
      let rows = Array(zip(sweep, results.dropFirst())).map { (bias: $0, result: $1) }
      context.stdout.write(
        format == .json
          ? sweepJSON(reference, rows, margin: margin)
          : sweepText(reference, rows, texts: texts, margin: margin))
      return .success
    }
    let result = try encode(options)
    context.stdout.write(
      format == .json
        ? json(result, options: options)
        : text(result, texts: texts, options: options, model: encoder.config, folder: positionals[1]))
    return .success
  }

  /// `bias=A..B` → A...B.
  static func parseSweep(_ s: String) throws(UsageError) -> [Int] {
    let parts = s.split(separator: "=", maxSplits: 1).map(String.init)
    let range = parts.count == 2 ? parts[1].components(separatedBy: "..") : []
    guard parts.count == 2, parts[0] == "bias", range.count == 2, let a = Int(range[0]),
      let b = Int(range[1]),
      a <= b, a >= -31, b <= 31
    else {
      throw UsageError("--sweep takes bias=A..B with -31 <= A <= B <= 31, e.g. bias=-4..8")
    }
    return Array(a...b)
  }

  static func bias(_ b: Int?) -> String { b.map(String.init) ?? "-" }

  static func text(
    _ r: EncoderResult, texts: [String], options: SentenceEncoder.Options, model: ModelConfig, folder: String
  ) -> String {
    var out =
      "fp8sim model run: \(folder) (\(model.layers) layers, hidden \(model.hiddenSize), \(model.heads) heads) on \(options.device.name), FP8 \(options.scaling)\(options.timingOnly ? ", timing-only" : "")\n"
    out += "\(texts.count) text\(texts.count == 1 ? "" : "s"), padded to \(r.sequence) tokens\n\n"
    let rows = r.kernels.map { k -> [String] in
      [
        k.name, k.kind.rawValue, bias(k.weightBias), bias(k.activationBias),
        k.weightCasts.map { "\($0.overflow)/\($0.underflow)" } ?? "-",
        k.activationCasts.map { "\($0.overflow)/\($0.underflow)" } ?? "-",
        TextReport.grouped(k.cycles), TextReport.grouped(k.traffic.dramToL2 + k.traffic.l2ToDram),
        TextReport.grouped(k.traffic.l2ToSram + k.traffic.sramToL2),
        k.outputSNR.map { TextReport.fixed($0, 2) } ?? "-",
      ]
    }
    let t = r.traffic
    out += TextTable(
      header: [
        "kernel", "kind", "w bias", "x bias", "w ovf/unf", "x ovf/unf", "cycles", "DRAM B", "L2↔SRAM B",
        "out SNR dB",
      ],
      rows: rows + [
        [
          "total", "", "", "", "", "", TextReport.grouped(r.cycles),
          TextReport.grouped(t.dramToL2 + t.l2ToDram),
          TextReport.grouped(t.l2ToSram + t.sramToL2), "",
        ]
      ], rightAligned: [2, 3, 4, 5, 6, 7, 8, 9], underline: true
    ).render()
    let seconds = Double(r.cycles) / (options.device.clockGHz * 1e9)
    out +=
      "\ntime  \(TextReport.grouped(r.cycles)) cycles = \(TextReport.fixed(seconds * 1e6, 3)) us (kernels back to back)\n"
    if !options.timingOnly {
      out += "\ncosine of each embedding against its FP32 shadow:\n"
      for (i, text) in texts.enumerated() {
        out +=
          "  \(TextReport.fixed(r.cosines[i], 6))  \(r.tokens[i].count) tokens  \(Printable.quoted(text))\n"
      }
    }
    return out
  }

  static func sweepText(
    _ amax: EncoderResult, _ rows: [(bias: Int, result: EncoderResult)], texts: [String], margin: Int
  )
    -> String
  {
    var out =
      "fp8sim model run --sweep: cosine of each embedding against its FP32 shadow (min over texts)\n\n"
    func minimum(_ r: EncoderResult) -> String {
      let m = r.cosines.min() ?? .nan
      return m.isNaN ? "nan" : TextReport.fixed(m, 6)
    }
    func overflows(_ r: EncoderResult) -> String {
      String(
        r.kernels.reduce(0) { $0 + ($1.weightCasts?.overflow ?? 0) + ($1.activationCasts?.overflow ?? 0) })
    }
    var table = rows.map { row in [String(row.bias), minimum(row.result), overflows(row.result)] }
    table.append(["amax\(margin == 0 ? "" : " (margin \(margin))")", minimum(amax), overflows(amax)])
    out += TextTable(
      header: ["cscale bias", "cosine (min)", "FP8 overflows"], rows: table, rightAligned: [1, 2],
      underline: true
    )
    .render()
    return out
  }

  static func json(_ r: EncoderResult, options: SentenceEncoder.Options) -> String {
    let floats = { (v: [[Float]]) -> JSONValue in .array(v.map { .array($0.map { .number(Double($0)) }) }) }
    let o: JSONValue = .object([
      ("device", .string(options.device.name)),
      ("scaling", .string(options.scaling.description)),
      ("timing_only", .bool(options.timingOnly)),
      ("tokens", .array(r.tokens.map { .array($0.map { .string($0) }) })),
      ("embeddings", floats(r.embeddings)),
      ("fp32_embeddings", floats(r.fp32Embeddings)),
      ("cosine_vs_fp32", .array(r.cosines.map { .number($0) })),
      ("layers", .array(r.kernels.map(layerJSON))),
      ("cycles", .int(Int(r.cycles))),
      ("traffic", trafficJSON(r.traffic)),
    ])
    return o.rendered() + "\n"
  }

  static func layerJSON(_ k: KernelRecord) -> JSONValue {
    func int(_ x: Int?) -> JSONValue { x.map { .int($0) } ?? .null }
    return .object([
      ("name", .string(k.name)),
      ("kind", .string(k.kind.rawValue)),
      ("weight_bias", int(k.weightBias)),
      ("activation_bias", int(k.activationBias)),
      ("weight_overflow", int(k.weightCasts?.overflow)),
      ("weight_underflow", int(k.weightCasts?.underflow)),
      ("activation_overflow", int(k.activationCasts?.overflow)),
      ("activation_underflow", int(k.activationCasts?.underflow)),
      ("cycles", .int(Int(k.cycles))),
      ("bytes", trafficJSON(k.traffic)),
      ("output_snr_db", k.outputSNR.map { .number($0) } ?? .null),
    ])
  }

  static func trafficJSON(_ t: TrafficStats) -> JSONValue {
    .object([
      ("dram_to_l2", .int(t.dramToL2)), ("l2_to_dram", .int(t.l2ToDram)), ("l2_to_sram", .int(t.l2ToSram)),
      ("sram_to_l2", .int(t.sramToL2)),
    ])
  }

  static func sweepJSON(_ amax: EncoderResult, _ rows: [(bias: Int, result: EncoderResult)], margin: Int)
    -> String
  {
    let o: JSONValue = .object([
      (
        "amax",
        .object([("margin", .int(margin)), ("cosine_vs_fp32", .array(amax.cosines.map { .number($0) }))])
      ),
      (
        "cscale",
        .array(
          rows.map { row in
            .object([
              ("bias", .int(row.bias)), ("cosine_vs_fp32", .array(row.result.cosines.map { .number($0) })),
            ])
          })
      ),
    ])
    return o.rendered() + "\n"
  }
}
