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
    ids: [[Int]], rows: Int, shape s: EncoderShape, weights: WeightFile, positions: Int
  )
    -> ProgramBuilder
  {
    var e = Emitter(
      path: "embedding.isa",
      header: [
        "Embeddings and their layer norm: \(s.batch) texts of \(s.sequence) tokens.",
        "WE: the \(rows) rows of the word-embedding table these texts use, handed in by the host.",
      ])
    let h = s.hidden
    let word = e.tensor("WE", .format(.f32), [rows, h], .dram)
    let pos = e.tensor(
      "PE", .format(.f32), [positions, h], .dram, weights.initializer("embeddings.position_embeddings.weight")
    )
    let type = e.tensor(
      "TE", .format(.f32), [2, h], .dram, weights.initializer("embeddings.token_type_embeddings.weight"))
    let gamma = e.tensor("G", .format(.f32), [h], .dram, weights.initializer("embeddings.LayerNorm.weight"))
    let beta = e.tensor("B", .format(.f32), [h], .dram, weights.initializer("embeddings.LayerNorm.bias"))
    let y = e.tensor("Y", .format(.f16), [s.rows, h], .dram)
    let x = e.tensor("x", .format(.f32), [s.sequence, h], .sram)
    let p = e.tensor("p", .format(.f32), [s.sequence, h], .sram)
    let t = e.tensor("t", .format(.f32), [1, h], .sram)
    let g = e.tensor("g", .format(.f32), [h], .sram)
    let bb = e.tensor("b", .format(.f32), [h], .sram)
    let out = e.tensor("y", .format(.f16), [s.sequence, h], .sram)
    e.output(y)
    let idle = e.label("idle")
    e.branch(.greaterOrEqual, .special(.tid), .constant(Int64(ids.count)), idle)
    e.load(g.all, gamma.all)
    e.load(bb.all, beta.all)
    e.load(p.all, pos[.range(0, s.sequence), .all])
    e.load(t.all, type[.range(0, 1), .all])
    for (i, text) in ids.enumerated() {
      // Text i on tile i mod ntiles: the others skip its block.
      let skip = e.label("text")
      e.int(.rem, 1, .constant(Int64(i)), .special(.ntiles))
      e.branch(.notEqual, .special(.tid), .register(1), skip)
      for (j, id) in text.enumerated() {
        e.load(
          x[.range(SliceStart(integerLiteral: Int64(j)), 1), .all],
          word[.range(SliceStart(integerLiteral: Int64(id)), 1), .all])
      }
      e.wait()
      e.binary(.add, x.all, x.all, .view(p.all))
      e.binary(.add, x.all, x.all, .view(t.all))
      e.vector(.layernorm(x.all, gamma: g.all, beta: bb.all, eps: s.epsilon), out.all)
      e.store(y[.range(SliceStart(integerLiteral: Int64(i * s.sequence)), s.sequence), .all], out.all)
      e.place(skip)
    }
    e.place(idle)
    e.wait()
    e.halt()
    return e.b
  }

  /// Self-attention of every text and head: `O = softmax(Q·Kᵀ/√d + mask)·V` with Q, K, V the
  /// head's columns of `Q`, `K`, `V` (f16), scores and P·V accumulated in f32, P in f16; `M`
  /// holds each text's mask row (0 for its tokens, −inf for padding). One (text, head) per
  /// work item.
  static func attention(shape s: EncoderShape) -> ProgramBuilder {
    var e = Emitter(
      path: "attention.isa",
      header: ["Self-attention: \(s.batch) texts × \(s.heads) heads of \(s.headSize), in f16/f32."])
    let (sq, d, h) = (s.sequence, s.headSize, s.hidden)
    let q = e.tensor("Q", .format(.f16), [s.rows, h], .dram)
    let k = e.tensor("K", .format(.f16), [s.rows, h], .dram)
    let v = e.tensor("V", .format(.f16), [s.rows, h], .dram)
    let m = e.tensor("M", .format(.f32), [s.batch, sq], .dram)
    let o = e.tensor("O", .format(.f16), [s.rows, h], .dram)
    let qs = e.tensor("q", .format(.f16), [sq, d], .sram)
    let ks = e.tensor("k", .format(.f16), [sq, d], .sram)
    let vs = e.tensor("v", .format(.f16), [sq, d], .sram)
    let ms = e.tensor("m", .format(.f32), [1, sq], .sram)
    let scores = e.tensor("s", .format(.f32), [sq, sq], .sram)
    let p = e.tensor("p", .format(.f16), [sq, sq], .sram)
    let acc = e.tensor("o", .format(.f32), [sq, d], .sram)
    let out = e.tensor("oh", .format(.f16), [sq, d], .sram)
    e.output(o)
    e.forEachItem(s.batch * s.heads, register: 1, "item") { e in
      e.int(.div, 2, .register(1), .constant(Int64(s.heads)))
      e.int(.rem, 3, .register(1), .constant(Int64(s.heads)))
      e.int(.mul, 4, .register(2), .constant(Int64(sq)))
      e.int(.mul, 5, .register(3), .constant(Int64(d)))
      e.load(qs.all, q[.range(.register(4), sq), .range(.register(5), d)])
      e.load(ks.all, k[.range(.register(4), sq), .range(.register(5), d)])
      e.load(vs.all, v[.range(.register(4), sq), .range(.register(5), d)])
      e.load(ms.all, m[.range(.register(2), 1), .all])
      e.wait()
      e.mma(scores.all, qs.all, ks.all, transposeB: true)
      e.binary(.mul, scores.all, scores.all, .value(.constant(1 / Double(d).squareRoot())))
      e.binary(.add, scores.all, scores.all, .view(ms.all))
      e.vector(.softmax(scores.all), p.all)
      e.mma(acc.all, p.all, vs.all)
      e.cast(out.all, acc.all)
      e.store(o[.range(.register(4), sq), .range(.register(5), d)], out.all)
    }
    e.wait()
    e.halt()
    return e.b
  }

  /// `Y = layernorm(A + R)·γ + β` (BERT's residual and post-norm), one text per work item.
  static func addNorm(shape s: EncoderShape, gamma: String, beta: String, weights: WeightSource)
    -> ProgramBuilder
  {
    var e = Emitter(
      path: "add_norm.isa", header: ["Residual add and layer norm: \(s.rows) rows of \(s.hidden)."])
    let (sq, h) = (s.sequence, s.hidden)
    let a = e.tensor("A", .format(.f16), [s.rows, h], .dram)
    let r = e.tensor("R", .format(.f16), [s.rows, h], .dram)
    let gm = e.tensor("G", .format(.f32), [h], .dram, weights.initializer(gamma, .gain))
    let bt = e.tensor("B", .format(.f32), [h], .dram, weights.initializer(beta, .shift))
    let y = e.tensor("Y", .format(.f16), [s.rows, h], .dram)
    let as_ = e.tensor("a", .format(.f16), [sq, h], .sram)
    let rs = e.tensor("r", .format(.f16), [sq, h], .sram)
    let sum = e.tensor("t", .format(.f32), [sq, h], .sram)
    let g = e.tensor("g", .format(.f32), [h], .sram)
    let b = e.tensor("b", .format(.f32), [h], .sram)
    let out = e.tensor("y", .format(.f16), [sq, h], .sram)
    e.output(y)
    e.forEachItem(s.batch, register: 1, "text") { e in
      e.load(g.all, gm.all)
      e.load(b.all, bt.all)
    } _: { e in
      e.int(.mul, 2, .register(1), .constant(Int64(sq)))
      e.load(as_.all, a[.range(.register(2), sq), .all])
      e.load(rs.all, r[.range(.register(2), sq), .all])
      e.wait()
      e.binary(.add, sum.all, as_.all, .view(rs.all))
      e.vector(.layernorm(sum.all, gamma: g.all, beta: b.all, eps: s.epsilon), out.all)
      e.store(y[.range(.register(2), sq), .all], out.all)
    }
    e.wait()
    e.halt()
    return e.b
  }

  /// Sentence embeddings as sentence-transformers makes them: the mean of each text's token
  /// rows (`W` holds 1 for its tokens, 0 for padding; the sum by an f32-accumulated matmul),
  /// then divided by its L2 norm (at least 10^-12, as `F.normalize`): `E [batch, hidden]`, f32.
  static func pool(shape s: EncoderShape) -> ProgramBuilder {
    var e = Emitter(path: "pool.isa", header: ["Mean pooling and L2 normalisation of \(s.batch) texts."])
    let (sq, h) = (s.sequence, s.hidden)
    let x = e.tensor("X", .format(.f16), [s.rows, h], .dram)
    let w = e.tensor("W", .format(.f16), [s.batch, sq], .dram)
    let emb = e.tensor("E", .format(.f32), [s.batch, h], .dram)
    let xs = e.tensor("x", .format(.f16), [sq, h], .sram)
    let ws = e.tensor("w", .format(.f16), [1, sq], .sram)
    let pooled = e.tensor("p", .format(.f32), [1, h], .sram)
    let squares = e.tensor("q", .format(.f32), [1, h], .sram)
    e.output(emb)
    e.forEachItem(s.batch, register: 1, "text") { e in
      e.int(.mul, 2, .register(1), .constant(Int64(sq)))
      e.load(xs.all, x[.range(.register(2), sq), .all])
      e.load(ws.all, w[.range(.register(1), 1), .all])
      e.wait()
      e.mma(pooled.all, ws.all, xs.all)
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
      lk.history = histories[kernel] ?? LinearKernel.History()
      return try lk.builder(device: device)
    }
    func norm(_ prefix: String) -> ProgramBuilder {
      EncoderKernels.addNorm(
        shape: shape, gamma: prefix + ".weight", beta: prefix + ".bias", weights: weights)
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
        name: "\(name).attention", kind: .attention, builder: EncoderKernels.attention(shape: shape),
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
