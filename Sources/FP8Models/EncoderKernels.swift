import FP8Formats
import FP8ISA
import FP8Sim

/// How the FP8 matmuls of a model get their scaling biases (Perez et al. 2023, §2.3).
public enum Scaling: Sendable, Hashable, CustomStringConvertible {
  /// FP8-AMAX: each tensor's bias from its own amax, just in time (`bias` with this margin).
  case amax(margin: Int)
  /// FP8-CSCALE: one constant bias for weights and activations alike.
  case cscale(bias: Int)
  /// Delayed scaling (Transformer Engine): each tensor's bias from the amax of an earlier step
  /// (`LinearKernel.history`), the current amax taken during the cast for the next step.
  case delayed(margin: Int)
  /// Block scaling (OCP MX, 1×128): X and W cast to a block-scaled type, one scale per block
  /// along K chosen from the block's own amax; no per-tensor bias, no amax pass.
  case block(BlockScaling)

  /// The scaling a command line names: `amax`, `cscale` (with `bias`), `delayed`, or a
  /// block-scaled type along rows (`mxfp8_e4m3`, `mxfp4`, `e4m3fn_f32_1x128`, ...; not NVFP4,
  /// whose tensor scale the linear kernel does not carry). Nil for anything else.
  public static func named(_ name: String, bias: Int, margin: Int) -> Scaling? {
    switch name {
    case "amax": return .amax(margin: margin)
    case "cscale": return .cscale(bias: bias)
    case "delayed": return .delayed(margin: margin)
    default:
      guard case .blocked(let b)? = DType.named(name), b.blockRows == 1, b.rule != .nvfp4 else { return nil }
      return .block(b)
    }
  }

  public var description: String {
    switch self {
    case .block(let b): return b.name
    case .amax(let m): return m == 0 ? "amax" : "amax (margin \(m))"
    case .cscale(let b): return "cscale (bias \(b))"
    case .delayed(let m): return m == 0 ? "delayed" : "delayed (margin \(m))"
    }
  }
}

/// The sizes of one run of an encoder: `batch` texts padded to `sequence` tokens.
public struct EncoderShape: Sendable, Hashable {
  public init(batch: Int, sequence: Int, hidden: Int, heads: Int, intermediate: Int, epsilon: Double) {
    (self.batch, self.sequence, self.hidden, self.heads) = (batch, sequence, hidden, heads)
    (self.intermediate, self.epsilon) = (intermediate, epsilon)
  }
  public var batch: Int
  public var sequence: Int
  public var hidden: Int
  public var heads: Int
  public var intermediate: Int
  public var epsilon: Double
  public var rows: Int { batch * sequence }
  public var headSize: Int { hidden / heads }
}

/// Where a kernel reads a weight: a tensor of a `.safetensors` file.
public struct WeightFile: Sendable, Hashable {
  public var path: String
  /// The file's name for each tensor the model needs, by its `ModelWeights` name.
  public var names: [String: String]
  public init(path: String, names: [String: String] = [:]) {
    self.path = path
    self.names = names
  }
  func initializer(_ name: String) -> Initializer { .safetensors(path: path, name: names[name] ?? name) }
}

/// The kernels of a BERT encoder, each one program (a kernel launch): activations live in DRAM
/// between kernels as f16 tensors, named by the kernel (`X`, `Y`, ...), so a chain of runs hands
/// each kernel's outputs to the next (`RunOptions.inputs`). FP8 is used where the paper uses it
/// (App. E): the matmuls of the linear layers. Attention scores, softmax, P·V, layer norms and
/// pooling stay in higher precision.
enum EncoderKernels {
  /// Word, position and token-type embeddings of each text, then the embeddings' layer norm:
  /// `Y [rows, hidden]`. The token ids are known when the kernel is built: one row transfer per
  /// token (an embedding look-up is a gather of rows). `WE` holds the rows of the word-embedding
  /// table the texts use (`rows` of them, handed in by the caller; `ids` index them): the
  /// look-up moves the same bytes as from the whole table, which is not loaded for nothing.
  static func embedding(
    ids: [[Int]], rows: Int, shape s: EncoderShape, weights: WeightFile, positions: Int, sramBytes: Int
  )
    -> ProgramBuilder
  {
    let h = s.hidden
    // x and p (f32) and y (f16) per row: 10 bytes per element; the parameters and a type row.
    let rb = min(s.sequence, max(1, (sramBytes - 12 * h - 1024) / (10 * h + 256)))
    var e = Emitter(
      path: "embedding.isa",
      header: [
        "Embeddings and their layer norm: \(s.batch) texts of \(s.sequence) tokens, blocks of \(rb) rows.",
        "WE: the \(rows) rows of the word-embedding table these texts use, handed in by the host.",
      ])
    let word = e.tensor("WE", .format(.f32), [rows, h], .dram)
    let pos = e.tensor(
      "PE", .format(.f32), [positions, h], .dram, weights.initializer("embeddings.position_embeddings.weight")
    )
    let type = e.tensor(
      "TE", .format(.f32), [2, h], .dram, weights.initializer("embeddings.token_type_embeddings.weight"))
    let gamma = e.tensor("G", .format(.f32), [h], .dram, weights.initializer("embeddings.LayerNorm.weight"))
    let beta = e.tensor("B", .format(.f32), [h], .dram, weights.initializer("embeddings.LayerNorm.bias"))
    let y = e.tensor("Y", .format(.f16), [s.rows, h], .dram)
    let x = e.tensor("x", .format(.f32), [rb, h], .sram)
    let p = e.tensor("p", .format(.f32), [rb, h], .sram)
    let t = e.tensor("t", .format(.f32), [1, h], .sram)
    let g = e.tensor("g", .format(.f32), [h], .sram)
    let bb = e.tensor("b", .format(.f32), [h], .sram)
    let out = e.tensor("y", .format(.f16), [rb, h], .sram)
    e.output(y)
    // Work items: (text, block of rb rows), item k on tile k mod ntiles; the token ids are
    // known, so each block is its own code (one row transfer per token).
    let blocks = ids.enumerated().flatMap { i, text in
      stride(from: 0, to: text.count, by: rb).map { (text: i, first: $0, count: min(rb, text.count - $0)) }
    }
    let idle = e.label("idle")
    e.branch(.greaterOrEqual, .special(.tid), .constant(Int64(blocks.count)), idle)
    e.load(g.all, gamma.all)
    e.load(bb.all, beta.all)
    e.load(t.all, type[.range(0, 1), .all])
    func at(_ n: Int) -> SliceStart { SliceStart(integerLiteral: Int64(n)) }
    for (k, block) in blocks.enumerated() {
      let skip = e.label("block")
      e.int(.rem, 1, .constant(Int64(k)), .special(.ntiles))
      e.branch(.notEqual, .special(.tid), .register(1), skip)
      let n = block.count
      for j in 0..<n {
        e.load(x[.range(at(j), 1), .all], word[.range(at(ids[block.text][block.first + j]), 1), .all])
      }
      e.load(p[.range(0, n), .all], pos[.range(at(block.first), n), .all])
      e.wait()
      let (xv, pv, ov) = (x[.range(0, n), .all], p[.range(0, n), .all], out[.range(0, n), .all])
      e.binary(.add, xv, xv, .view(pv))
      e.binary(.add, xv, xv, .view(t.all))
      e.vector(.layernorm(xv, gamma: g.all, beta: bb.all, eps: s.epsilon), ov)
      e.store(y[.range(at(block.text * s.sequence + block.first), n), .all], ov)
      e.place(skip)
    }
    e.place(idle)
    e.wait()
    e.halt()
    return e.b
  }

  /// `Y = layernorm(A + R)·γ + β` (BERT's residual and post-norm), blocks of rows per work item
  /// (the last one shorter when the block does not divide the rows).
  static func addNorm(
    shape s: EncoderShape, gamma: String, beta: String, weights: WeightSource, sramBytes: Int
  )
    -> ProgramBuilder
  {
    var e = Emitter(
      path: "add_norm.isa", header: ["Residual add and layer norm: \(s.rows) rows of \(s.hidden)."])
    let h = s.hidden
    // a, r (f16), the f32 sum and y (f16): 10 bytes per element; the parameters 8 per column.
    let rb = DecoderKernels.block(s.rows, max(1, (sramBytes - 8 * h - 1024) / (10 * h + 256)))
    let rows = Axis(size: s.rows, block: rb, length: 20)
    let a = e.tensor("A", .format(.f16), [s.rows, h], .dram)
    let r = e.tensor("R", .format(.f16), [s.rows, h], .dram)
    let gm = e.tensor("G", .format(.f32), [h], .dram, weights.initializer(gamma, .gain))
    let bt = e.tensor("B", .format(.f32), [h], .dram, weights.initializer(beta, .shift))
    let y = e.tensor("Y", .format(.f16), [s.rows, h], .dram)
    let as_ = e.tensor("a", .format(.f16), [rb, h], .sram)
    let rs = e.tensor("r", .format(.f16), [rb, h], .sram)
    let sum = e.tensor("t", .format(.f32), [rb, h], .sram)
    let g = e.tensor("g", .format(.f32), [h], .sram)
    let b = e.tensor("b", .format(.f32), [h], .sram)
    let out = e.tensor("y", .format(.f16), [rb, h], .sram)
    e.output(y)
    e.forEachItem(rows.blocks, register: 1, "rows") { e in
      e.load(g.all, gm.all)
      e.load(b.all, bt.all)
    } _: { e in
      e.int(.mul, 2, .register(1), .constant(Int64(rb)))
      rows.setLength(&e, start: 2)
      e.load(as_[rows.local, .all], a[rows.at(2), .all])
      e.load(rs[rows.local, .all], r[rows.at(2), .all])
      e.wait()
      e.binary(.add, sum[rows.local, .all], as_[rows.local, .all], .view(rs[rows.local, .all]))
      e.vector(
        .layernorm(sum[rows.local, .all], gamma: g.all, beta: b.all, eps: s.epsilon), out[rows.local, .all])
      e.store(y[rows.at(2), .all], out[rows.local, .all])
    }
    e.wait()
    e.halt()
    return e.b
  }

  /// Sentence embeddings as sentence-transformers makes them: the mean of each text's token
  /// rows (`W` holds 1 for its tokens, 0 for padding; the sum by f32-accumulated matmuls over
  /// blocks of rows), then divided by its L2 norm (at least 10^-12, as `F.normalize`):
  /// `E [batch, hidden]`, f32. One text per work item.
  static func pool(shape s: EncoderShape, sramBytes: Int) -> ProgramBuilder {
    var e = Emitter(path: "pool.isa", header: ["Mean pooling and L2 normalisation of \(s.batch) texts."])
    let (sq, h) = (s.sequence, s.hidden)
    let rb = DecoderKernels.block(sq, max(1, (sramBytes - 8 * h - 1024) / (2 * h + 4)))
    let rows = Axis(size: sq, block: rb, length: 20)
    let x = e.tensor("X", .format(.f16), [s.rows, h], .dram)
    let w = e.tensor("W", .format(.f16), [s.batch, sq], .dram)
    let emb = e.tensor("E", .format(.f32), [s.batch, h], .dram)
    let xs = e.tensor("x", .format(.f16), [rb, h], .sram)
    let ws = e.tensor("w", .format(.f16), [1, sq], .sram)
    let pooled = e.tensor("p", .format(.f32), [1, h], .sram)
    let squares = e.tensor("q", .format(.f32), [1, h], .sram)
    e.output(emb)
    e.forEachItem(s.batch, register: 1, "text") { e in
      e.int(.mul, 2, .register(1), .constant(Int64(sq)))
      e.load(ws.all, w[.range(.register(1), 1), .all])
      e.vector(.fill(.constant(0)), pooled.all)
      // Blocks of the text's rows: r3 the block's first row in the text, r2 + r3 in X.
      e.mov(3, .constant(0))
      let top = e.label("block")
      e.place(top)
      rows.setLength(&e, start: 3)
      e.int(.add, 4, .register(2), .register(3))
      e.load(xs[rows.local, .all], x[rows.at(4), .all])
      e.wait()
      let weights: ViewIndex = rows.ragged ? .range(.register(3), register: 20) : .range(.register(3), rb)
      e.mma(pooled.all, ws[.all, weights], xs[rows.local, .all], clear: false)
      e.int(.add, 3, .register(3), .constant(Int64(rb)))
      e.branch(.less, .register(3), .constant(Int64(sq)), top)
      e.sum(1, ws.all)
      e.float(.div, 2, .constant(1), .register(1))
      e.binary(.mul, pooled.all, pooled.all, .value(.register(2)))
      e.binary(.mul, squares.all, pooled.all, .view(pooled.all))
      e.sum(3, squares.all)
      e.float(.sqrt, 4, .register(3), .constant(0))
      e.float(.max, 4, .register(4), .constant(1e-12))
      e.float(.div, 5, .constant(1), .register(4))
      e.binary(.mul, pooled.all, pooled.all, .value(.register(5)))
      e.store(emb[.range(.register(1), 1), .all], pooled.all)
    }
    e.wait()
    e.halt()
    return e.b
  }
}

/// One BERT encoder layer (post-norm) as kernel launches, its weights named as in a Hugging Face
/// BERT checkpoint (`encoder.layer.L.…`): Q, K and V linears, attention (`M`: the score mask,
/// the chain's `mask`), the output linear, residual and norm, the FFN (GELU) and its residual and
/// norm. Activations: `hidden` in, `hidden` out.
public struct EncoderLayer: Sendable {
  public var shape: EncoderShape
  public var scaling: Scaling
  public var overflow: OverflowMode = .nonfinite
  public var weights: WeightSource
  /// Delayed scaling: each linear kernel's amax history, by kernel name.
  public var histories: [String: LinearKernel.History] = [:]
  /// Delayed scaling: the history of a kernel `histories` does not name.
  public var defaultHistory = LinearKernel.History()

  public init(shape: EncoderShape, scaling: Scaling, weights: WeightSource) {
    self.shape = shape
    self.scaling = scaling
    self.weights = weights
  }

  public func kernels(layer l: Int, device: DeviceConfig) throws(ModelError) -> [KernelLaunch] {
    let (h, f) = (shape.hidden, shape.intermediate)
    let p = "encoder.layer.\(l)"
    let name = "layer\(l)"
    func linear(_ kernel: String, _ prefix: String, k: Int, n: Int, gelu: Bool = false) throws(ModelError)
      -> ProgramBuilder
    {
      var lk = LinearKernel(
        kernel, rows: shape.rows, inputs: k, outputs: n, weight: prefix + ".weight", bias: prefix + ".bias",
        scaling: scaling, weights: weights)
      lk.activation = gelu ? .gelu : .none
      lk.overflow = overflow
      lk.history = histories[kernel] ?? defaultHistory
      return try lk.builder(device: device)
    }
    func norm(_ prefix: String) -> ProgramBuilder {
      EncoderKernels.addNorm(
        shape: shape, gamma: prefix + ".weight", beta: prefix + ".bias", weights: weights,
        sramBytes: device.sramBytesPerTile)
    }
    var k: [KernelLaunch] = []
    for part in ["query", "key", "value"] {
      k.append(
        KernelLaunch(
          name: "\(name).\(part)", kind: .linear,
          builder: try linear("\(name).\(part)", "\(p).attention.self.\(part)", k: h, n: h),
          inputs: ["X": "hidden"], output: part))
    }
    k.append(
      KernelLaunch(
        name: "\(name).attention", kind: .attention,
        builder: DecoderKernels.flashAttention(
          DecoderKernels.Attention(
            batch: shape.batch, sequence: shape.sequence, heads: shape.heads, keyValueHeads: shape.heads,
            headSize: shape.headSize, causal: false, fused: false, paddingMask: true),
          sramBytes: device.sramBytesPerTile),
        inputs: ["Q": "query", "K": "key", "V": "value", "M": "mask"], output: "context"))
    k.append(
      KernelLaunch(
        name: "\(name).attention.output", kind: .linear,
        builder: try linear("\(name).attention.output", "\(p).attention.output.dense", k: h, n: h),
        inputs: ["X": "context"], output: "attended"))
    k.append(
      KernelLaunch(
        name: "\(name).attention.norm", kind: .norm, builder: norm("\(p).attention.output.LayerNorm"),
        inputs: ["A": "attended", "R": "hidden"], output: "normed"))
    k.append(
      KernelLaunch(
        name: "\(name).ffn.in", kind: .linear,
        builder: try linear("\(name).ffn.in", "\(p).intermediate.dense", k: h, n: f, gelu: true),
        inputs: ["X": "normed"], output: "inner"))
    k.append(
      KernelLaunch(
        name: "\(name).ffn.out", kind: .linear,
        builder: try linear("\(name).ffn.out", "\(p).output.dense", k: f, n: h), inputs: ["X": "inner"],
        output: "ffn"))
    k.append(
      KernelLaunch(
        name: "\(name).ffn.norm", kind: .norm, builder: norm("\(p).output.LayerNorm"),
        inputs: ["A": "ffn", "R": "normed"], output: "hidden"))
    return k
  }
}
