import FP8Data
import FP8Formats
import FP8ISA
import FP8Sim
import Foundation

/// The sizes of a decoder layer (GPT-2 or Llama style) and of the work it runs on.
public struct DecoderShape: Sendable, Hashable {
  public enum Style: String, Sendable, CaseIterable {
    /// Pre-norm LayerNorm, fused QKV with biases, GELU (tanh form) MLP.
    case gpt2
    /// Pre-norm RMSNorm, no biases, rotary embeddings, SwiGLU MLP, grouped-query attention.
    case llama
  }
  /// Prefill: `batch` sequences of `tokens` tokens, causal attention among them. Decode: one
  /// new token per sequence, attending to `context` cached tokens and itself.
  public enum Phase: Sendable, Hashable, CustomStringConvertible {
    case prefill(tokens: Int)
    case decode(context: Int)
    public var description: String {
      switch self {
      case .prefill(let t): return "prefill of \(t) tokens"
      case .decode(let c): return "decode after \(c) tokens"
      }
    }
  }

  public var style: Style
  public var hidden: Int
  public var heads: Int
  public var keyValueHeads: Int
  public var intermediate: Int
  public var epsilon: Double
  public var ropeBase: Double
  public var batch: Int
  public var phase: Phase

  public var headSize: Int { hidden / heads }
  /// Q, K and V side by side: `hidden + 2 · keyValueHeads · headSize` columns.
  public var qkvWidth: Int { hidden + 2 * keyValueHeads * headSize }
  /// Query tokens per sequence.
  public var queries: Int {
    if case .prefill(let t) = phase { return t }
    return 1
  }
  /// Rows of every activation: one per query token.
  public var rows: Int { batch * queries }

  /// The layer of a GPT-2 or Llama `config.json` (BERT is an encoder: `SentenceEncoder`).
  public init(config c: ModelConfig, batch: Int, phase: Phase) throws(ModelError) {
    switch c.family {
    case .gpt2: style = .gpt2
    case .llama: style = .llama
    case .bert: throw ModelError("a BERT config describes an encoder layer, not a decoder layer")
    }
    hidden = c.hiddenSize
    heads = c.heads
    keyValueHeads = c.keyValueHeads
    intermediate = c.intermediateSize
    epsilon = c.normEpsilon
    ropeBase = c.ropeTheta ?? VectorOperation.defaultRopeBase
    self.batch = batch
    self.phase = phase
    try check()
  }

  public init(
    style: Style, hidden: Int, heads: Int, keyValueHeads: Int? = nil, intermediate: Int,
    epsilon: Double = 1e-5,
    ropeBase: Double = VectorOperation.defaultRopeBase, batch: Int, phase: Phase
  ) throws(ModelError) {
    self.style = style
    self.hidden = hidden
    self.heads = heads
    self.keyValueHeads = keyValueHeads ?? heads
    self.intermediate = intermediate
    self.epsilon = epsilon
    self.ropeBase = ropeBase
    self.batch = batch
    self.phase = phase
    try check()
  }

  func check() throws(ModelError) {
    let limit = 1 << 24
    for (name, v) in [("hidden", hidden), ("heads", heads), ("intermediate", intermediate), ("batch", batch)]
    where !(1...limit).contains(v) {
      throw ModelError("\(name) must be 1...\(limit); got \(v)")
    }
    guard hidden % heads == 0, heads % max(1, keyValueHeads) == 0, keyValueHeads >= 1 else {
      throw ModelError("\(hidden) does not split into \(heads) heads of \(keyValueHeads) key-value groups")
    }
    guard style == .gpt2 || headSize % 2 == 0 else {
      throw ModelError("rotary embeddings rotate pairs: the head size \(headSize) is odd")
    }
    switch phase {
    case .prefill(let t) where !(1...limit).contains(t):
      throw ModelError("tokens must be 1...\(limit); got \(t)")
    case .decode(let c) where !(0...limit).contains(c):
      throw ModelError("context must be 0...\(limit); got \(c)")
    default: break
    }
    guard batch * queries <= limit else { throw ModelError("batch × tokens must be at most \(limit)") }
  }

  /// GPT-2 small (124M parameters): 12 layers of this.
  public static func gpt2(batch: Int, phase: Phase) -> DecoderShape {
    try! DecoderShape(style: .gpt2, hidden: 768, heads: 12, intermediate: 3072, batch: batch, phase: phase)
  }
  /// Llama-2-7B: 32 layers of this (RMSNorm epsilon 1e-5, rope base 10,000).
  public static func llama2_7b(batch: Int, phase: Phase) -> DecoderShape {
    try! DecoderShape(
      style: .llama, hidden: 4096, heads: 32, intermediate: 11008, batch: batch, phase: phase)
  }
}

/// The kernels of a decoder layer besides the linear layers (`LinearKernel`): norms, rotary
/// embeddings and attention, in f16/f32 as the paper keeps them (App. E).
enum DecoderKernels {
  /// The largest divisor of `x` that is at most `cap`.
  static func block(_ x: Int, _ cap: Int) -> Int { LinearKernel.divisors(of: x, upTo: cap).first ?? 1 }

  /// `Y = norm(X)·γ (+ β)`: LayerNorm (GPT-2) or RMSNorm (Llama), blocks of rows per work item.
  static func norm(
    _ name: String, shape s: DecoderShape, gamma: String, beta: String?, weights: WeightSource, sramBytes: Int
  ) -> ProgramBuilder {
    let (t, h) = (s.rows, s.hidden)
    // x (f16), the f32 result and y (f16) per row: 8 bytes per element, the parameters aside.
    let rb = block(t, max(1, (sramBytes - 8 * h - 1024) / (8 * h)))
    var e = Emitter(
      path: "\(name).isa",
      header: ["\(name): \(s.style == .llama ? "RMS" : "layer") norm of \(t) rows of \(h)."])
    let x = e.tensor("X", .format(.f16), [t, h], .dram)
    let gm = e.tensor("G", .format(.f32), [h], .dram, weights.initializer(gamma, .gain))
    let bt = beta.map { e.tensor("B", .format(.f32), [h], .dram, weights.initializer($0, .shift)) }
    let y = e.tensor("Y", .format(.f16), [t, h], .dram)
    let xs = e.tensor("x", .format(.f16), [rb, h], .sram)
    let g = e.tensor("g", .format(.f32), [h], .sram)
    let b = bt.map { _ in e.tensor("b", .format(.f32), [h], .sram) }
    let out = e.tensor("y", .format(.f16), [rb, h], .sram)
    e.output(y)
    e.forEachItem(t / rb, register: 1, "rows") { e in
      e.load(g.all, gm.all)
      if let bt, let b { e.load(b.all, bt.all) }
    } _: { e in
      e.int(.mul, 2, .register(1), .constant(Int64(rb)))
      e.load(xs.all, x[.range(.register(2), rb), .all])
      e.wait()
      e.vector(
        .layernorm(xs.all, gamma: g.all, beta: b?.all, eps: s.epsilon, rms: s.style == .llama), out.all)
      e.store(y[.range(.register(2), rb), .all], out.all)
    }
    e.wait()
    e.halt()
    return e.b
  }

  /// Llama's rotary embeddings, in place on the query and key columns of `QKV`: work items
  /// are (block of rows within a sequence, head); a row's position is its index in its
  /// sequence (prefill) or the cached context (decode).
  static func rope(shape s: DecoderShape, sramBytes: Int) -> ProgramBuilder {
    let (t, d, q) = (s.rows, s.headSize, s.queries)
    let rotated = s.heads + s.keyValueHeads
    let rb = block(q, max(1, min(128, (sramBytes - 128) / (4 * d))))
    var e = Emitter(
      path: "rope.isa",
      header: ["Rotary embeddings of \(s.heads) query and \(s.keyValueHeads) key heads of \(d), \(t) rows."])
    let qkv = e.tensor("QKV", .format(.f16), [t, s.qkvWidth], .dram)
    let a = e.tensor("a", .format(.f16), [rb, d], .sram)
    let r = e.tensor("r", .format(.f16), [rb, d], .sram)
    e.output(qkv)
    var base = 0
    if case .decode(let c) = s.phase { base = c }
    // Item r1: rows r4 (row block r2 of t / rb), head r3, columns r5; position r6.
    e.forEachItem(t / rb * rotated, register: 1, "item") { e in
      e.int(.div, 2, .register(1), .constant(Int64(rotated)))
      e.int(.rem, 3, .register(1), .constant(Int64(rotated)))
      e.int(.mul, 4, .register(2), .constant(Int64(rb)))
      e.int(.mul, 5, .register(3), .constant(Int64(d)))
      e.int(.rem, 6, .register(4), .constant(Int64(q)))
      e.int(.add, 6, .register(6), .constant(Int64(base)))
      e.load(a.all, qkv[.range(.register(4), rb), .range(.register(5), d)])
      e.wait()
      e.vector(.rope(a.all, position: .register(6), base: s.ropeBase), r.all)
      e.store(qkv[.range(.register(4), rb), .range(.register(5), d)], r.all)
    }
    e.wait()
    e.halt()
    return e.b
  }

  /// Causal self-attention, flash-attention style (Dao et al. 2022): work items are (sequence,
  /// head, block of `bq` queries); each streams the key and value blocks up to its diagonal
  /// through SRAM with a running row maximum `m` and sum `l` (`rowmax`, `rowsum`, column
  /// operands), so scores never leave the tile: `O = softmax(Q·Kᵀ/√d + causal)·V`, scores,
  /// exponentials, `l` and `O` in f32, P in f16. Prefill only: queries and keys are the same
  /// tokens. A running maximum starts at −10^30, not −inf, so e^(m_old − m_new) is 0, not NaN.
  static func attentionPrefill(shape s: DecoderShape, sramBytes: Int) -> ProgramBuilder {
    let (t, d, q) = (s.rows, s.headSize, s.queries)
    let group = s.heads / s.keyValueHeads
    // Per query row: q (2d), s and the mask (8bk), p (2bk), o (4d), out (2d), 4 columns (16);
    // two slots of k and v (8d per key row).
    func fits(_ b: Int) -> Bool { b * (8 * d + 10 * b + 16) + 8 * b * d + 1024 <= sramBytes }
    let bq = LinearKernel.divisors(of: q, upTo: 128).first(where: fits) ?? 1
    let blocks = q / bq
    var e = Emitter(
      path: "attention.isa",
      header: [
        "Causal attention: \(s.batch) sequences of \(q) tokens × \(s.heads) heads of \(d)"
          + (group > 1 ? " (\(s.keyValueHeads) key-value heads)" : "") + ", blocks of \(bq) queries and keys."
      ])
    let qkv = e.tensor("QKV", .format(.f16), [t, s.qkvWidth], .dram)
    let o = e.tensor("O", .format(.f16), [t, s.hidden], .dram)
    let qs = e.tensor("q", .format(.f16), [bq, d], .sram)
    // Rings of two key and value blocks: block j + 1 loads while block j is used.
    let ks = e.tensor("k", .format(.f16), [2, bq, d], .sram)
    let vs = e.tensor("v", .format(.f16), [2, bq, d], .sram)
    let scores = e.tensor("s", .format(.f32), [bq, bq], .sram)
    let mask = e.tensor("mask", .format(.f32), [bq, bq], .sram)
    let p = e.tensor("p", .format(.f16), [bq, bq], .sram)
    let acc = e.tensor("o", .format(.f32), [bq, d], .sram)
    let out = e.tensor("oh", .format(.f16), [bq, d], .sram)
    let m = e.tensor("m", .format(.f32), [bq, 1], .sram)
    let l = e.tensor("l", .format(.f32), [bq, 1], .sram)
    let bm = e.tensor("bm", .format(.f32), [bq, 1], .sram)
    let tc = e.tensor("tc", .format(.f32), [bq, 1], .sram)
    e.output(o)
    let perSequence = s.heads * blocks
    e.forEachItem(s.batch * perSequence, register: 1, "item") { e in
      // The diagonal block's mask: −10^30 above the diagonal.
      e.vector(.fill(.constant(0)), mask.all)
      for i in 0..<(bq - 1) {
        e.vector(
          .fill(.constant(-1e30)),
          mask[
            .range(SliceStart(integerLiteral: Int64(i)), 1),
            .range(SliceStart(integerLiteral: Int64(i + 1)), bq - 1 - i)])
      }
    } _: { e in
      // r2 sequence, r7 head, r8 query block; r4 first query row; r5, r9, r15 the columns of
      // the head's Q, K and V; r16 first key row of block r6.
      e.int(.div, 2, .register(1), .constant(Int64(perSequence)))
      e.int(.rem, 3, .register(1), .constant(Int64(perSequence)))
      e.int(.div, 7, .register(3), .constant(Int64(blocks)))
      e.int(.rem, 8, .register(3), .constant(Int64(blocks)))
      e.int(.mul, 4, .register(2), .constant(Int64(q)))
      e.int(.mul, 16, .register(8), .constant(Int64(bq)))
      e.int(.add, 4, .register(4), .register(16))
      e.int(.mul, 5, .register(7), .constant(Int64(d)))
      e.int(.div, 9, .register(7), .constant(Int64(group)))
      e.int(.mul, 9, .register(9), .constant(Int64(d)))
      e.int(.add, 15, .register(9), .constant(Int64(s.hidden + s.keyValueHeads * d)))
      e.int(.add, 9, .register(9), .constant(Int64(s.hidden)))
      e.load(qs.all, qkv[.range(.register(4), bq), .range(.register(5), d)])
      e.vector(.fill(.constant(-1e30)), m.all)
      e.vector(.fill(.constant(0)), l.all)
      e.vector(.fill(.constant(0)), acc.all)
      // r6 key block, r16 its first row, r17 its slot; r20, r19, r18 the next block's.
      func loadBlock(_ e: inout Emitter, row: Int, slot: Int) {
        e.load(
          ks[.index(.register(slot)), .all, .all], qkv[.range(.register(row), bq), .range(.register(9), d)])
        e.load(
          vs[.index(.register(slot)), .all, .all], qkv[.range(.register(row), bq), .range(.register(15), d)])
      }
      e.mov(6, .constant(0))
      e.mov(17, .constant(0))
      e.int(.mul, 16, .register(2), .constant(Int64(q)))
      loadBlock(&e, row: 16, slot: 17)
      let top = e.label("keys")
      let last = e.label("last")
      let compute = e.label("compute")
      e.place(top)
      e.int(.add, 20, .register(6), .constant(1))
      e.int(.add, 19, .register(16), .constant(Int64(bq)))
      e.int(.sub, 18, .constant(1), .register(17))
      e.branch(.less, .register(8), .register(20), last)
      loadBlock(&e, row: 19, slot: 18)
      e.wait(keep: 2)
      e.jump(compute)
      e.place(last)
      e.wait()
      e.place(compute)
      let k = ks[.index(.register(17)), .all, .all]
      let v = vs[.index(.register(17)), .all, .all]
      e.mma(scores.all, qs.all, k, transposeB: true)
      e.binary(.mul, scores.all, scores.all, .value(.constant(1 / Double(d).squareRoot())))
      let unmasked = e.label("unmasked")
      e.branch(.notEqual, .register(6), .register(8), unmasked)
      e.binary(.add, scores.all, scores.all, .view(mask.all))
      e.place(unmasked)
      onlineSoftmaxStep(
        &e, scores: scores.all, p: p.all, v: v, acc: acc.all, m: m.all, l: l.all, bm: bm.all, tc: tc.all)
      e.mov(6, .register(20))
      e.mov(16, .register(19))
      e.mov(17, .register(18))
      e.branch(.greaterOrEqual, .register(8), .register(6), top)
      e.binary(.div, acc.all, acc.all, .view(l.all))
      e.cast(out.all, acc.all)
      e.store(o[.range(.register(4), bq), .range(.register(5), d)], out.all)
    }
    e.wait()
    e.halt()
    return e.b
  }

  /// One key block of the online softmax: `m' = max(m, rowmax(S))`, `α = e^(m − m')`,
  /// `P = e^(S − m')`, `l = α·l + rowsum(P)`, `O = α·O + P·V`, `m = m'`.
  static func onlineSoftmaxStep(
    _ e: inout Emitter, scores: TensorView, p: TensorView, v: TensorView, acc: TensorView, m: TensorView,
    l: TensorView, bm: TensorView, tc: TensorView
  ) {
    e.vector(.rowReduce(.max, scores), bm)
    e.binary(.max, bm, bm, .view(m))
    e.binary(.sub, tc, m, .view(bm))
    e.vector(.unary(.exp, a: tc), tc)
    e.binary(.mul, l, l, .view(tc))
    e.binary(.mul, acc, acc, .view(tc))
    e.cast(m, bm)
    e.binary(.sub, scores, scores, .view(bm))
    e.vector(.unary(.exp, a: scores), scores)
    e.vector(.rowReduce(.sum, scores), tc)
    e.binary(.add, l, l, .view(tc))
    e.cast(p, scores)
    e.mma(acc, p, v, clear: false)
  }

  /// Single-token decode attention with a KV cache: work items are (sequence, head). Each
  /// streams its sequence's `context` cached keys and values (`KC`, `VC`: `[batch · (context +
  /// 1), keyValueHeads · headSize]`, generated) in blocks through the online softmax of
  /// `attentionPrefill` (one query row, no mask: every cached token is in the past), then its
  /// own token's key and value; the first head of each key-value group appends them to the
  /// cache at row `context` (no item reads that row, so tiles never race).
  static func attentionDecode(shape s: DecoderShape, sramBytes: Int, weights: WeightSource) -> ProgramBuilder
  {
    guard case .decode(let context) = s.phase else { preconditionFailure("a decode shape") }
    let (d, rows) = (s.headSize, context + 1)
    let group = s.heads / s.keyValueHeads
    let kvWidth = s.keyValueHeads * d
    // k and v blocks (4d per key), s and p (6 per key).
    let bk = max(1, min(context, max(16, min(512, (sramBytes - 64 * d - 1024) / (4 * d + 6)) / 16 * 16)))
    let (full, tail) = (context / bk, context % bk)
    var e = Emitter(
      path: "attention.isa",
      header: [
        "Decode attention: \(s.batch) sequences × \(s.heads) heads of \(d), each after \(context) cached tokens;"
          + " blocks of \(bk) keys."
      ])
    let qkv = e.tensor("QKV", .format(.f16), [s.rows, s.qkvWidth], .dram)
    let kc = e.tensor(
      "KC", .format(.f16), [s.batch * rows, kvWidth], .dram, weights.initializer("cache.k", .matrix))
    let vc = e.tensor(
      "VC", .format(.f16), [s.batch * rows, kvWidth], .dram, weights.initializer("cache.v", .matrix))
    let o = e.tensor("O", .format(.f16), [s.rows, s.hidden], .dram)
    let qs = e.tensor("q", .format(.f16), [1, d], .sram)
    let kn = e.tensor("kn", .format(.f16), [1, d], .sram)
    let vn = e.tensor("vn", .format(.f16), [1, d], .sram)
    let ks = e.tensor("k", .format(.f16), [bk, d], .sram)
    let vs = e.tensor("v", .format(.f16), [bk, d], .sram)
    let scores = e.tensor("s", .format(.f32), [1, bk], .sram)
    let p = e.tensor("p", .format(.f16), [1, bk], .sram)
    let acc = e.tensor("o", .format(.f32), [1, d], .sram)
    let out = e.tensor("oh", .format(.f16), [1, d], .sram)
    let m = e.tensor("m", .format(.f32), [1, 1], .sram)
    let l = e.tensor("l", .format(.f32), [1, 1], .sram)
    let bm = e.tensor("bm", .format(.f32), [1, 1], .sram)
    let tc = e.tensor("tc", .format(.f32), [1, 1], .sram)
    e.output(o)
    e.output(kc)
    e.output(vc)
    let scale = 1 / Double(d).squareRoot()
    /// Scores of the query against keys `k` (n of them), then the online-softmax step.
    func attend(_ e: inout Emitter, _ k: TensorView, _ v: TensorView, _ n: Int) {
      let sv = scores[.all, .range(0, n)]
      e.mma(sv, qs.all, k, transposeB: true)
      e.binary(.mul, sv, sv, .value(.constant(scale)))
      onlineSoftmaxStep(
        &e, scores: sv, p: p[.all, .range(0, n)], v: v, acc: acc.all, m: m.all, l: l.all, bm: bm.all,
        tc: tc.all)
    }
    /// n cached keys and values from row r16 on.
    func cached(_ e: inout Emitter, _ n: Int) {
      e.load(ks[.range(0, n), .all], kc[.range(.register(16), n), .range(.register(9), d)])
      e.load(vs[.range(0, n), .all], vc[.range(.register(16), n), .range(.register(9), d)])
      e.wait()
      attend(&e, ks[.range(0, n), .all], vs[.range(0, n), .all], n)
      e.int(.add, 16, .register(16), .constant(Int64(n)))
    }
    e.forEachItem(s.batch * s.heads, register: 1, "item") { e in
      // r2 sequence, r3 head, r5 its Q columns, r9 its key-value columns (r10, r11 in QKV);
      // r4 the sequence's first cache row, r16 a key block's first row.
      e.int(.div, 2, .register(1), .constant(Int64(s.heads)))
      e.int(.rem, 3, .register(1), .constant(Int64(s.heads)))
      e.int(.mul, 5, .register(3), .constant(Int64(d)))
      e.int(.div, 9, .register(3), .constant(Int64(group)))
      e.int(.mul, 9, .register(9), .constant(Int64(d)))
      e.int(.add, 10, .register(9), .constant(Int64(s.hidden)))
      e.int(.add, 11, .register(10), .constant(Int64(kvWidth)))
      e.int(.mul, 4, .register(2), .constant(Int64(rows)))
      e.load(qs.all, qkv[.range(.register(2), 1), .range(.register(5), d)])
      e.load(kn.all, qkv[.range(.register(2), 1), .range(.register(10), d)])
      e.load(vn.all, qkv[.range(.register(2), 1), .range(.register(11), d)])
      e.vector(.fill(.constant(-1e30)), m.all)
      e.vector(.fill(.constant(0)), l.all)
      e.vector(.fill(.constant(0)), acc.all)
      e.mov(16, .register(4))
      if full > 0 {
        e.mov(6, .constant(0))
        let top = e.label("keys")
        e.place(top)
        cached(&e, bk)
        e.int(.add, 6, .register(6), .constant(1))
        e.branch(.less, .register(6), .constant(Int64(full)), top)
      }
      if tail > 0 { cached(&e, tail) }
      e.wait()
      attend(&e, kn.all, vn.all, 1)
      e.binary(.div, acc.all, acc.all, .view(l.all))
      e.cast(out.all, acc.all)
      e.store(o[.range(.register(2), 1), .range(.register(5), d)], out.all)
      let appended = e.label("appended")
      e.int(.rem, 12, .register(3), .constant(Int64(group)))
      e.branch(.notEqual, .register(12), .constant(0), appended)
      e.int(.add, 13, .register(4), .constant(Int64(context)))
      e.store(kc[.range(.register(13), 1), .range(.register(9), d)], kn.all)
      e.store(vc[.range(.register(13), 1), .range(.register(9), d)], vn.all)
      e.place(appended)
    }
    e.wait()
    e.halt()
    return e.b
  }
}
