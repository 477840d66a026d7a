import FP8Data
import FP8Formats
import FP8Models
import FP8Sim
import Foundation

/// `fp8sim model cost`: one decoder layer (GPT-2 or Llama style, weights generated) timing-only
/// with FP8-AMAX and with FP8-CSCALE, kernel by kernel side by side: cycles, bytes per level,
/// device-wide synchronisations, and where AMAX's extra cost goes.
extension ModelCommand {
  static func cost(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    guard arguments.positionals.count == 1 else { throw UsageError("model cost takes options only") }
    for option in ["--text", "--sweep", "--timing-only", "--scaling"] where arguments.has(option) {
      throw UsageError("\(option) is for model run; model cost runs AMAX and CSCALE timing-only")
    }
    let batch = try arguments.integer("--batch", default: 1, range: 1...65536)
    let phase: DecoderShape.Phase
    switch (arguments.value("--prefill"), arguments.value("--decode")) {
    case (.some, nil):
      phase = .prefill(tokens: try arguments.integer("--prefill", default: 1, range: 1...1 << 20))
    case (nil, .some):
      phase = .decode(context: try arguments.integer("--decode", default: 0, range: 0...1 << 20))
    default: throw UsageError("give one of --prefill T or --decode C")
    }
    let shape: DecoderShape
    let label: String
    switch (arguments.value("--model"), arguments.value("--config")) {
    case (let name?, nil):
      switch name {
      case "gpt2": shape = .gpt2(batch: batch, phase: phase)
      case "llama-2-7b": shape = .llama2_7b(batch: batch, phase: phase)
      default: throw UsageError("--model is gpt2 or llama-2-7b, not '\(name)'")
      }
      label = name
    case (nil, let path?):
      do {
        let config = try ModelConfig(contentsOf: URL(fileURLWithPath: path))
        shape = try DecoderShape(config: config, batch: batch, phase: phase)
      } catch let error as DataFileError {
        throw CommandFailure("fp8sim model: error: \(error.description)", status: .dataError)
      } catch let error as ModelError {
        throw CommandFailure("fp8sim model: error: \(path): \(error.description)", status: .dataError)
      }
      label = path
    default: throw UsageError("give one of --model NAME or --config FILE")
    }
    let format = try arguments.choice("--format", default: Format.text)
    let device = try DeviceLoading.load(arguments.value("--device") ?? "h100", relativeTo: nil)
    let bias = try arguments.integer("--bias", default: 0, range: -31...31)
    let methods: [Scaling] = [.amax(margin: 0), .cscale(bias: bias), .delayed(margin: 0)]
    let outcomes = ParallelSlots<Result<DecoderLayer.Result, any Error>>(count: methods.count)
    DispatchQueue.concurrentPerform(iterations: methods.count) { i in
      outcomes.set(
        i,
        Result {
          do throws(ModelError) {
            return try DecoderLayer(shape: shape, scaling: methods[i]).run(
              device: device, input: nil, timingOnly: true)
          } catch {
            throw CommandFailure("fp8sim model: error: \(error.description)", status: .runtimeFault)
          }
        })
    }
    let results = try outcomes.values.map { try $0!.get() }
    context.stdout.write(
      format == .json
        ? costJSON(results, shape: shape, label: label, device: device)
        : costText(results, shape: shape, label: label, device: device))
    return .success
  }

  static func layerDescription(_ s: DecoderShape, _ label: String) -> String {
    let kv = s.keyValueHeads == s.heads ? "" : " (\(s.keyValueHeads) key-value)"
    return "\(label): one \(s.style == .gpt2 ? "GPT-2" : "Llama")-style decoder layer (hidden \(s.hidden),"
      + " \(s.heads) heads\(kv) of \(s.headSize), inner \(s.intermediate)), \(s.phase), batch \(s.batch)"
  }

  static func dram(_ t: TrafficStats) -> Int { t.dramToL2 + t.l2ToDram }
  static func onChip(_ t: TrafficStats) -> Int { t.l2ToSram + t.sramToL2 }

  /// Totals of one method's run.
  struct Totals {
    var cycles: Int64
    var linearCycles: Int64
    var dram: Int
    var onChip: Int
    var syncs: Int
    init(_ r: DecoderLayer.Result) {
      cycles = r.cycles
      linearCycles = r.kernels.filter { $0.kind == .linear }.reduce(0) { $0 + $1.cycles }
      dram = r.kernels.reduce(0) { $0 + ModelCommand.dram($1.traffic) }
      onChip = r.kernels.reduce(0) { $0 + ModelCommand.onChip($1.traffic) }
      syncs = r.kernels.reduce(0) { $0 + $1.synchronisations }
    }
  }

  static func costText(_ r: [DecoderLayer.Result], shape: DecoderShape, label: String, device: DeviceConfig)
    -> String
  {
    let totals = r.map(Totals.init)
    let (a, c, d) = (totals[0], totals[1], totals[2])
    var out = "fp8sim model cost: \(layerDescription(shape, label)), on \(device.name), timing-only\n\n"
    func g(_ x: Int64) -> String { TextReport.grouped(x) }
    func g(_ x: Int) -> String { TextReport.grouped(Int64(x)) }
    var rows: [[String]] = []
    for i in r[0].kernels.indices {
      let k = r.map { $0.kernels[i] }
      var cells = [k[0].name, k[0].kind.rawValue]
      cells += k.map { g($0.cycles) }
      cells += k.map { g(onChip($0.traffic)) }
      cells.append(k.map { "\($0.synchronisations)" }.joined(separator: "/"))
      rows.append(cells)
    }
    var last = ["total", ""]
    last += totals.map { g($0.cycles) }
    last += totals.map { g($0.onChip) }
    last.append(totals.map { "\($0.syncs)" }.joined(separator: "/"))
    rows.append(last)
    out += TextTable(
      header: [
        "kernel", "kind", "AMAX cycles", "CSCALE cycles", "delayed cycles", "AMAX L2↔SRAM B",
        "CSCALE L2↔SRAM B",
        "delayed L2↔SRAM B", "syncs A/C/D",
      ], rows: rows, rightAligned: Set(2...8), underline: true
    ).render()
    func us(_ cycles: Int64) -> String { TextReport.fixed(Double(cycles) / (device.clockGHz * 1e3), 1) }
    func ratio(_ x: Int64, _ y: Int64) -> String { TextReport.fixed(Double(x) / Double(max(1, y)), 3) }
    out += "\nDRAM bytes: AMAX \(g(a.dram)), CSCALE \(g(c.dram)), delayed \(g(d.dram)).\n"
    out += "AMAX \(us(a.cycles)) us, CSCALE \(us(c.cycles)) us, delayed \(us(d.cycles)) us:"
    out += " AMAX takes \(ratio(a.cycles, c.cycles))× as long as CSCALE"
    out +=
      " (linear layers \(ratio(a.linearCycles, c.linearCycles))×), delayed \(ratio(d.cycles, c.cycles))×.\n"
    out +=
      "AMAX's extra over CSCALE: \(g(a.onChip - c.onChip)) L2↔SRAM bytes, \(g(a.dram - c.dram)) DRAM bytes and"
    out += " \(a.syncs - c.syncs) all-reduces, all in the linear layers' amax pass (each weight and"
    out += " activation read once more, before its cast). Delayed scaling casts in one pass, taking the"
    out +=
      " amax on the way, and reduces it for the next step while the GEMM runs (\(d.syncs - c.syncs) all-reduces).\n"
    return out
  }

  static func costJSON(_ r: [DecoderLayer.Result], shape s: DecoderShape, label: String, device: DeviceConfig)
    -> String
  {
    func method(_ x: DecoderLayer.Result) -> JSONValue {
      .object([
        ("cycles", .int(Int(x.cycles))),
        (
          "kernels",
          .array(
            x.kernels.map { k in
              .object([
                ("name", .string(k.name)), ("kind", .string(k.kind.rawValue)),
                ("cycles", .int(Int(k.cycles))),
                ("synchronisations", .int(k.synchronisations)), ("traffic", trafficJSON(k.traffic)),
              ])
            })
        ),
      ])
    }
    var phase: [(String, JSONValue)] = []
    switch s.phase {
    case .prefill(let t): phase = [("phase", .string("prefill")), ("tokens", .int(t))]
    case .decode(let c): phase = [("phase", .string("decode")), ("context", .int(c))]
    }
    let o: JSONValue = .object(
      [
        ("layer", .string(label)), ("style", .string(s.style.rawValue)), ("hidden", .int(s.hidden)),
        ("heads", .int(s.heads)), ("key_value_heads", .int(s.keyValueHeads)),
        ("intermediate", .int(s.intermediate)),
        ("batch", .int(s.batch)),
      ] + phase + [
        ("device", .string(device.name)), ("amax", method(r[0])), ("cscale", method(r[1])),
        ("delayed", method(r[2])),
      ])
    return o.rendered() + "\n"
  }
}
