import FP8Data
import FP8Formats
import FP8ISA
import FP8Sim
import Foundation

/// Why a model could not be loaded or run: a file problem, a fault of one of its kernels.
public struct ModelError: Error, Sendable, CustomStringConvertible {
  public var message: String
  /// The problem is in the sizes asked for (batch, tokens), not in the model's description.
  public var usage: Bool
  public init(_ message: String, usage: Bool = false) {
    self.message = message
    self.usage = usage
  }
  public var description: String { message }
}

/// A BERT-family sentence encoder (all-MiniLM-L6-v2 and its kin) in the Hugging Face layout:
/// `config.json`, `vocab.txt` and `model.safetensors` in one folder. `run` tokenises texts,
/// runs the whole model on a simulated device as a chain of kernels, and pools the last hidden
/// states into sentence embeddings as sentence-transformers does (mean over tokens, L2 norm).
public struct SentenceEncoder: Sendable {
  public let config: ModelConfig
  public let tokenizer: WordPieceTokenizer
  let weights: WeightFile

  public init(directory: URL) throws(ModelError) {
    do throws(DataFileError) {
      config = try ModelConfig(contentsOf: directory.appendingPathComponent("config.json"))
      guard config.family == .bert else {
        throw DataFileError(
          directory.appendingPathComponent("config.json").path,
          "model run reads BERT-family encoders; this is a \(config.family.rawValue) model")
      }
      tokenizer = try WordPieceTokenizer(contentsOf: directory.appendingPathComponent("vocab.txt"))
      let file = directory.appendingPathComponent("model.safetensors")
      let names = try ModelWeights.match(
        ModelWeights.bert(config), in: Safetensors.listing(of: file), path: file.path)
      weights = WeightFile(path: file.path, names: names)
    } catch {
      throw ModelError(error.description)
    }
    guard config.tokenTypes >= 1 else { throw ModelError("config.json: type_vocab_size must be at least 1") }
  }

  /// How a run goes.
  public struct Options: Sendable {
    public var scaling: Scaling = .amax(margin: 0)
    /// What an FP8 cast does with a value beyond the format's range.
    public var overflow: OverflowMode = .nonfinite
    public var device: DeviceConfig = .h100
    /// Only cycles and traffic: no values, no biases, no embeddings.
    public var timingOnly = false
    /// Delayed scaling: the texts of the earlier step whose amax each linear layer scales by
    /// (an AMAX run of them first); nil: the texts themselves.
    public var calibration: [String]?
    public init() {}
  }

  /// The ids of each text (`[CLS]`, its WordPiece ids, `[SEP]`), cut at the model's positions.
  public func tokenIDs(_ texts: [String]) throws(ModelError) -> [[Int]] {
    try texts.map { text throws(ModelError) in
      guard let ids = tokenizer.encode(text) else {
        throw ModelError("vocab.txt lacks [CLS], [SEP] or [UNK]")
      }
      guard ids.count <= config.maxPositions else {
        throw ModelError(
          "a text has \(ids.count) tokens; the model takes at most \(config.maxPositions) (max_position_embeddings)"
        )
      }
      return ids
    }
  }

  /// Runs the model on `texts` (at least one).
  public func run(_ texts: [String], options: Options) throws(ModelError) -> EncoderResult {
    guard !texts.isEmpty else { throw ModelError("no text to encode") }
    let ids = try tokenIDs(texts)
    let sequence = ids.map(\.count).max() ?? 1
    let shape = EncoderShape(
      batch: texts.count, sequence: sequence, hidden: config.hiddenSize, heads: config.heads,
      intermediate: config.intermediateSize, epsilon: config.normEpsilon)
    let padded = ids.map { $0 + [Int](repeating: 0, count: sequence - $0.count) }
    var chain = KernelChain(options: options)

    // The word-embedding rows the texts use, first use first, and the texts' ids into them.
    var used: [Int] = []
    var local: [Int: Int] = [:]
    let localIDs = padded.map { text in
      text.map { id in
        if let i = local[id] { return i }
        local[id] = used.count
        used.append(id)
        return used.count - 1
      }
    }
    if !options.timingOnly {
      let url = URL(fileURLWithPath: weights.path)
      do throws(DataFileError) {
        let name = weights.names["embeddings.word_embeddings.weight"] ?? "embeddings.word_embeddings.weight"
        // Its shape, [vocab_size, hidden_size], was checked with every weight's (`init`).
        let header = try ArrayFile.header(of: url, tensor: name)
        let rows = try ArrayFile.readRows(url, header: header, rows: used, rawFormat: .f32).map { Float($0) }
        chain.values["wordrows"] = HostTensor(values: rows, reference: rows)
      } catch {
        throw ModelError(error.description)
      }
    }
    try chain.run(
      "embeddings", .embedding,
      EncoderKernels.embedding(
        ids: localIDs, rows: used.count, shape: shape, weights: weights, positions: config.maxPositions,
        sramBytes: options.device.sramBytesPerTile),
      inputs: ["WE": "wordrows"], output: "hidden")
    // Masks: 0 for a text's tokens and −inf for its padding (scores), 1 and 0 (pooling).
    var scoreMask: [Float] = []
    var poolMask: [Float] = []
    for text in ids {
      for j in 0..<sequence {
        scoreMask.append(j < text.count ? 0 : -.infinity)
        poolMask.append(j < text.count ? 1 : 0)
      }
    }
    chain.values["mask"] = HostTensor(values: scoreMask, reference: scoreMask)
    chain.values["poolmask"] = HostTensor(values: poolMask, reference: poolMask)
    let h = config.hiddenSize
    // Delayed scaling: each linear layer's amax from an AMAX run of the calibration texts.
    var histories: [String: LinearKernel.History] = [:]
    if case .delayed = options.scaling, !options.timingOnly {
      var first = options
      first.scaling = .amax(margin: 0)
      first.calibration = nil
      for k in try run(options.calibration ?? texts, options: first).kernels {
        if let a = k.amax { histories[k.name] = a }
      }
    }
    for l in 0..<config.layers {
      var layer = EncoderLayer(shape: shape, scaling: options.scaling, weights: .file(weights))
      layer.overflow = options.overflow
      layer.histories = histories
      for k in try layer.kernels(layer: l, device: options.device) {
        try chain.run(k.name, k.kind, k.builder, inputs: k.inputs, output: k.output)
      }
    }
    try chain.run(
      "pooling", .pooling, EncoderKernels.pool(shape: shape, sramBytes: options.device.sramBytesPerTile),
      inputs: ["X": "hidden", "W": "poolmask"],
      output: "embeddings")

    var result = EncoderResult(
      tokens: ids.map { $0.map { tokenizer.tokens[$0] } }, sequence: sequence, kernels: chain.records)
    if let e = chain.values["embeddings"], !options.timingOnly {
      for i in 0..<texts.count {
        let device = Array(e.values[(i * h)..<((i + 1) * h)])
        let shadow = Array(e.reference[(i * h)..<((i + 1) * h)])
        result.embeddings.append(device)
        result.fp32Embeddings.append(shadow)
        result.cosines.append(cosine(device, shadow))
      }
    }
    return result
  }
}

/// cos(a, b) in f64 (NaN when either is zero or not finite).
public func cosine(_ a: [Float], _ b: [Float]) -> Double {
  var (dot, na, nb) = (0.0, 0.0, 0.0)
  for i in a.indices {
    dot += Double(a[i]) * Double(b[i])
    na += Double(a[i]) * Double(a[i])
    nb += Double(b[i]) * Double(b[i])
  }
  return dot / (na.squareRoot() * nb.squareRoot())
}

/// One kernel of a model run and what it measured.
public struct KernelRecord: Sendable {
  public enum Kind: String, Sendable { case embedding, linear, attention, norm, rope, pooling }
  public var name: String
  public var kind: Kind
  /// Linear layers of numeric runs: the scaling biases the kernel chose (tile 0's r10, r11).
  public var weightBias: Int?
  public var activationBias: Int?
  /// Linear layers of numeric runs: the FP8 casts of the weight and of the activation.
  public var weightCasts: CastCounts?
  public var activationCasts: CastCounts?
  /// Linear layers of numeric AMAX and delayed runs: the whole weight's and activation's amax
  /// this run measured (tile 0's f2, f6, f8), the history a delayed step scales by.
  public var amax: LinearKernel.History?
  public var cycles: Int64
  public var instructions: Int
  public var traffic: TrafficStats
  /// Device-wide synchronisations (`barrier`, `allreduce`) the kernel ran.
  public var synchronisations = 0
  /// The kernel's output against its FP32 shadow (numeric runs).
  public var outputSNR: Double?
}

/// What a model run measured: the tokens, the embeddings of the device and of the FP32 shadow
/// with their cosine (numeric runs), and every kernel's record.
public struct EncoderResult: Sendable {
  public var tokens: [[String]]
  /// The padded length of every text.
  public var sequence: Int
  public var kernels: [KernelRecord]
  public var embeddings: [[Float]] = []
  public var fp32Embeddings: [[Float]] = []
  public var cosines: [Double] = []

  /// Kernels run one after another: the model's time is their sum.
  public var cycles: Int64 { kernels.reduce(0) { $0 + $1.cycles } }
  /// Bytes per boundary, summed over kernels.
  public var traffic: TrafficStats {
    var t = TrafficStats()
    for k in kernels {
      t.dramToL2 += k.traffic.dramToL2
      t.l2ToSram += k.traffic.l2ToSram
      t.sramToL2 += k.traffic.sramToL2
      t.l2ToDram += k.traffic.l2ToDram
      t.multicast += k.traffic.multicast
      t.exchange += k.traffic.exchange
      t.finalWriteback += k.traffic.finalWriteback
      t.l2Hits += k.traffic.l2Hits
      t.l2Misses += k.traffic.l2Misses
      t.l2Writebacks += k.traffic.l2Writebacks
    }
    return t
  }
}

/// Runs kernels one after another, each a fresh `Machine` (a kernel launch: cold L2, every tile
/// starting after `kernel.launchCycles`), handing activations from one to the next by name:
/// device values and FP32 shadow together, so the shadow is a whole FP32 run of the model.
struct KernelChain {
  let device: DeviceConfig
  let timingOnly: Bool
  var values: [String: HostTensor] = [:]
  var records: [KernelRecord] = []

  init(options: SentenceEncoder.Options) { self.init(device: options.device, timingOnly: options.timingOnly) }
  init(device: DeviceConfig, timingOnly: Bool) {
    self.device = device
    self.timingOnly = timingOnly
  }

  /// Runs `builder`'s program with `inputs` (kernel tensor name → chain value name) and keeps its
  /// first output as `output`; returns every output, values and shadow, in `.output` order
  /// (none in timing-only runs).
  @discardableResult
  mutating func run(
    _ name: String, _ kind: KernelRecord.Kind, _ builder: ProgramBuilder, inputs: [String: String],
    output: String
  ) throws(ModelError) -> [HostTensor] {
    let program: Program
    do {
      program = try builder.build()
    } catch {
      throw ModelError("internal error: kernel '\(name)' does not assemble: \(error.description)")
    }
    var run = RunOptions()
    run.timingOnly = timingOnly
    if !timingOnly {
      for (tensor, value) in inputs {
        guard let v = values[value] else { throw ModelError("internal error: '\(value)' was not computed") }
        run.inputs[tensor] = v
      }
    }
    let result: RunResult
    do {
      result = try Machine(program: program, device: device, options: run).run()
    } catch {
      throw ModelError("kernel '\(name)': \(error.description)")
    }
    var record = KernelRecord(
      name: name, kind: kind, cycles: result.cycles, instructions: result.instructions,
      traffic: result.traffic)
    // Every synchronisation of these kernels is outside their loops: run once by every tile.
    record.synchronisations = program.instructions.filter { $0.opcode.spec.unit == .sync }.count
    if let out = result.outputs.first, !timingOnly {
      values[output] = HostTensor(values: out.values, reference: out.reference)
      record.outputSNR = out.metrics.snrDB
    }
    if kind == .linear && !timingOnly {
      record.weightBias = Int(result.registers.ints[10])
      record.activationBias = Int(result.registers.ints[11])
      let f = result.registers.floats
      if f.count > 8 { record.amax = LinearKernel.History(weight: f[2], activation: f[6], gate: f[8]) }
      record.weightCasts = result.casts.first { $0.name == "w8" }?.counts
      record.activationCasts = result.casts.first { $0.name == "x8" }?.counts
    }
    records.append(record)
    return timingOnly ? [] : result.outputs.map { HostTensor(values: $0.values, reference: $0.reference) }
  }
}
