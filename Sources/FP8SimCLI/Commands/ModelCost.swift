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
    for option in ["--text", "--sweep", "--timing-only", "--calibrate"] where arguments.has(option) {
      throw UsageError("\(option) is for model run; model cost runs timing-only")
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
      do throws(ModelError) {
        switch name {
        case "gpt2": shape = try .gpt2(batch: batch, phase: phase)
        case "llama-2-7b": shape = try .llama2_7b(batch: batch, phase: phase)
        default: throw ModelError("--model is gpt2 or llama-2-7b, not '\(name)'")
        }
      } catch {
        throw UsageError(error.description)
      }
      label = name
    case (nil, let path?):
      do {
        let config = try ModelConfig(contentsOf: URL(fileURLWithPath: path))
        shape = try DecoderShape(config: config, batch: batch, phase: phase)
      } catch let error as DataFileError {
        throw CommandFailure("fp8sim model: error: \(error.description)", status: .dataError)
      } catch let error as ModelError {
        if error.usage { throw UsageError(error.description) }
        throw CommandFailure("fp8sim model: error: \(path): \(error.description)", status: .dataError)
      }
      label = path
    default: throw UsageError("give one of --model NAME or --config FILE")
    }
    let format = try arguments.choice("--format", default: Format.text)
    let device = try DeviceLoading.load(arguments.value("--device") ?? "h100", relativeTo: nil)
    // The methods side by side: --scaling A,B,... (default amax, cscale, delayed).
    let names = (arguments.value("--scaling") ?? "amax,cscale,delayed").split(separator: ",").map(String.init)
    guard !names.isEmpty, names.count <= 8, !names.contains(""), Set(names).count == names.count else {
      throw UsageError("--scaling lists 1 to 8 different methods, separated by commas")
    }
    let methods = try names.map { name throws(UsageError) in try scaling(arguments, name) }
    let outcomes = ParallelSlots<Result<DecoderLayer.Result, any Error>>(count: methods.count)
    DispatchQueue.concurrentPerform(iterations: methods.count) { i in
      outcomes.set(
        i,
        Result {
          do throws(ModelError) {
            return try DecoderLayer(shape: shape, scaling: methods[i]).run(
              device: device, input: nil, timingOnly: true)
          } catch {
            throw CommandFailure(
              "fp8sim model: error: \(names[i]): \(error.description)", status: .runtimeFault)
          }
        })
    }
    let results = try outcomes.values.map { try $0!.get() }
    context.stdout.write(
      format == .json
        ? costJSON(results, methods: methods, shape: shape, label: label, device: device)
        : costText(results, methods: methods, shape: shape, label: label, device: device))
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

  static func costText(
    _ r: [DecoderLayer.Result], methods: [Scaling], shape: DecoderShape, label: String, device: DeviceConfig
  ) -> String {
    let totals = r.map(Totals.init)
    let names = methods.map { m -> String in
      switch m {
      case .amax: return "AMAX"
      case .cscale: return "CSCALE"
      case .delayed: return "delayed"
      case .block(let b): return b.name
      }
    }
    var out = "fp8sim model cost: \(layerDescription(shape, label)), on \(device.name), timing-only\n\n"
    func g(_ x: Int64) -> String { TextReport.grouped(x) }
    func g(_ x: Int) -> String { TextReport.grouped(Int64(x)) }
    var rows: [[String]] = []
    for i in r[0].kernels.indices {
      let k = r.map { $0.kernels[i] }
      rows.append(
        [k[0].name, k[0].kind.rawValue] + k.map { g($0.cycles) } + k.map { g(onChip($0.traffic)) }
          + [k.map { "\($0.synchronisations)" }.joined(separator: "/")])
    }
    rows.append(
      ["total", ""] + totals.map { g($0.cycles) } + totals.map { g($0.onChip) }
        + [totals.map { "\($0.syncs)" }.joined(separator: "/")])
    out += TextTable(
      header: ["kernel", "kind"] + names.map { "\($0) cycles" } + names.map { "\($0) L2↔SRAM B" } + ["syncs"],
      rows: rows, rightAligned: Set(2...(2 * names.count + 2)), underline: true
    ).render()
    func us(_ cycles: Int64) -> String { TextReport.fixed(Double(cycles) / (device.clockGHz * 1e3), 1) }
    func ratio(_ x: Int64, _ y: Int64) -> String { TextReport.fixed(Double(x) / Double(max(1, y)), 3) }
    out += "\n"
    for (name, t) in zip(names, totals) {
      out += "\(name): \(us(t.cycles)) us, DRAM \(g(t.dram)) B, \(t.syncs) synchronisations"
      if let c = names.firstIndex(of: "CSCALE"), name != "CSCALE" {
        out += "; \(ratio(t.cycles, totals[c].cycles))× CSCALE's time"
        out += " (linear layers \(ratio(t.linearCycles, totals[c].linearCycles))×)"
      }
      out += "\n"
    }
    if let a = names.firstIndex(of: "AMAX"), let c = names.firstIndex(of: "CSCALE") {
      let (x, y) = (totals[a], totals[c])
      out +=
        "AMAX's extra over CSCALE: \(g(x.onChip - y.onChip)) L2↔SRAM bytes, \(g(x.dram - y.dram)) DRAM bytes"
      out += " and \(x.syncs - y.syncs) all-reduces, all in the linear layers' amax pass (each weight and"
      out += " activation read once more, before its cast).\n"
    }
    return out
  }

  static func costJSON(
    _ r: [DecoderLayer.Result], methods: [Scaling], shape s: DecoderShape, label: String, device: DeviceConfig
  ) -> String {
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
      ] + phase + [("device", .string(device.name))]
        + zip(methods, r).map { m, x in
          let key: String
          switch m {
          case .amax: key = "amax"
          case .cscale: key = "cscale"
          case .delayed: key = "delayed"
          case .block(let b): key = b.name
          }
          return (key, method(x))
        })
    return o.rendered() + "\n"
  }
}
