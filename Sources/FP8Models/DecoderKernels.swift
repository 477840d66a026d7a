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
    for (name, v) in [("hidden", hidden), ("heads", heads), ("intermediate", intermediate)]
    where !(1...limit).contains(v) {
      throw ModelError("\(name) must be 1...\(limit); got \(v)")
    }
    guard (1...65536).contains(batch) else {
      throw ModelError("batch must be 1...65536; got \(batch)", usage: true)
    }
    guard hidden % heads == 0, keyValueHeads >= 1, heads % keyValueHeads == 0 else {
      throw ModelError("\(hidden) does not split into \(heads) heads of \(keyValueHeads) key-value groups")
    }
    guard style == .gpt2 || headSize % 2 == 0 else {
      throw ModelError("rotary embeddings rotate pairs: the head size \(headSize) is odd")
    }
    guard ropeBase.isFinite && ropeBase > 0 else {
      throw ModelError("the rope base must be positive; got \(ropeBase)")
    }
    switch phase {
    case .prefill(let t) where !(1...limit).contains(t):
      throw ModelError("tokens must be 1...\(limit); got \(t)", usage: true)
    case .decode(let c) where !(0...limit).contains(c):
      throw ModelError("context must be 0...\(limit); got \(c)", usage: true)
    default: break
    }
    guard batch * queries <= limit else {
      throw ModelError("batch × tokens must be at most \(limit); got \(batch * queries)", usage: true)
    }
    // Every tensor of the layer within the simulator's limits: the largest are the FFN weights,
    // the KV cache and the activations (elements, and each dimension at most 2^32).
    var context = 0
    if case .decode(let c) = phase { context = c }
    let largest =
      [
        intermediate * hidden, batch * (context + 1) * keyValueHeads * headSize,
        rows * max(intermediate, qkvWidth),
      ].max() ?? 0
    guard largest <= 1 << 36 else {
      throw ModelError(
        "a tensor of this layer would have \(largest) elements; the simulator holds at most 2^36", usage: true
      )
    }
  }

  /// GPT-2 small (124M parameters): 12 layers of this.
  public static func gpt2(batch: Int, phase: Phase) throws(ModelError) -> DecoderShape {
    try DecoderShape(style: .gpt2, hidden: 768, heads: 12, intermediate: 3072, batch: batch, phase: phase)
  }
  /// Llama-2-7B: 32 layers of this (RMSNorm epsilon 1e-5, rope base 10,000).
  public static func llama2_7b(batch: Int, phase: Phase) throws(ModelError) -> DecoderShape {
    try DecoderShape(
      style: .llama, hidden: 4096, heads: 32, intermediate: 11008, batch: batch, phase: phase)
  }
}

/// The kernels of a decoder layer besides the linear layers (`LinearKernel`): norms, rotary
/// embeddings and attention, in f16/f32 as the paper keeps them (App. E).
enum DecoderKernels {
  /// The largest divisor of `x` that is at most `cap`.
  /// Rows per block of a `size`-row pass holding at most `cap` rows: the largest divisor when it
  /// is the whole, a multiple of 16 or the size is below 16; else the largest power of two (the
  /// last block shorter: 2,039 rows in blocks of 32).
  static func block(_ size: Int, _ cap: Int) -> Int {
    let d = LinearKernel.divisors(of: size, upTo: cap).first ?? 1
    if d == size || d % 16 == 0 || size < 16 { return d }
    return [128, 64, 32, 16, 8, 4, 2, 1].first { $0 <= min(cap, size) } ?? 1
  }

  /// `Y = norm(X)·γ (+ β)`: LayerNorm (GPT-2) or RMSNorm (Llama), blocks of rows per work item.
  static func norm(
    _ name: String, shape s: DecoderShape, gamma: String, beta: String?, weights: WeightSource, sramBytes: Int
  ) -> ProgramBuilder {
    let (t, h) = (s.rows, s.hidden)
    // x (f16), the f32 result and y (f16) per row: 8 bytes per element, the parameters aside.
    let rb = block(t, max(1, (sramBytes - 8 * h - 1024) / (8 * h)))
    let rows = Axis(size: t, block: rb, length: 20)
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
    e.forEachItem(rows.blocks, register: 1, "rows") { e in
      e.load(g.all, gm.all)
      if let bt, let b { e.load(b.all, bt.all) }
    } _: { e in
      e.int(.mul, 2, .register(1), .constant(Int64(rb)))
      rows.setLength(&e, start: 2)
      e.load(xs[rows.local, .all], x[rows.at(2), .all])
      e.wait()
      e.vector(
        .layernorm(xs[rows.local, .all], gamma: g.all, beta: b?.all, eps: s.epsilon, rms: s.style == .llama),
        out[rows.local, .all])
      e.store(y[rows.at(2), .all], out[rows.local, .all])
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
    // Blocks within each sequence, the last one of each shorter when rb does not divide q.
    let rows = Axis(size: q, block: rb, length: 20)
    var e = Emitter(
      path: "rope.isa",
      header: ["Rotary embeddings of \(s.heads) query and \(s.keyValueHeads) key heads of \(d), \(t) rows."])
    let qkv = e.tensor("QKV", .format(.f16), [t, s.qkvWidth], .dram)
    let a = e.tensor("a", .format(.f16), [rb, d], .sram)
    let r = e.tensor("r", .format(.f16), [rb, d], .sram)
    e.output(qkv)
    var base = 0
    if case .decode(let c) = s.phase { base = c }
    let blocks = s.batch * rows.blocks
    // Item r1: rows r4 (row block r2), head r3, columns r5; position r6.
    e.forEachItem(blocks * rotated, register: 1, "item") { e in
      e.int(.div, 2, .register(1), .constant(Int64(rotated)))
      e.int(.rem, 3, .register(1), .constant(Int64(rotated)))
      if rows.ragged {
        // Block r2 is block r7 of sequence r8: position r6 in it, row r4 = r8 · q + r6.
        e.int(.div, 8, .register(2), .constant(Int64(rows.blocks)))
        e.int(.rem, 7, .register(2), .constant(Int64(rows.blocks)))
        e.int(.mul, 6, .register(7), .constant(Int64(rb)))
        rows.setLength(&e, start: 6)
        e.int(.mul, 4, .register(8), .constant(Int64(q)))
        e.int(.add, 4, .register(4), .register(6))
      } else {
        e.int(.mul, 4, .register(2), .constant(Int64(rb)))
        e.int(.rem, 6, .register(4), .constant(Int64(q)))
      }
      e.int(.mul, 5, .register(3), .constant(Int64(d)))
      e.int(.add, 6, .register(6), .constant(Int64(base)))
      let view = qkv[rows.at(4), .range(.register(5), d)]
      e.load(a[rows.local, .all], view)
      e.wait()
      e.vector(.rope(a[rows.local, .all], position: .register(6), base: s.ropeBase), r[rows.local, .all])
      e.store(view, r[rows.local, .all])
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
    flashAttention(
      Attention(
        batch: s.batch, sequence: s.queries, heads: s.heads, keyValueHeads: s.keyValueHeads,
        headSize: s.headSize,
        causal: true, fused: true, paddingMask: false), sramBytes: sramBytes)
  }

  /// What a flash-attention kernel computes: `batch` sequences of `sequence` tokens.
  struct Attention {
    var batch: Int
    var sequence: Int
    var heads: Int
    var keyValueHeads: Int
    var headSize: Int
    /// Each query sees the keys up to its own (decoders); else every key (encoders).
    var causal: Bool
    /// Q, K and V side by side in one `QKV` tensor (decoders: `hidden + 2·kv·d` columns);
    /// else three tensors `Q`, `K`, `V` of `hidden` columns (BERT's separate projections).
    var fused: Bool
    /// `M [batch, sequence]` (f32: 0 for a text's tokens, −inf for padding) added to the scores.
    var paddingMask: Bool
    var hidden: Int { heads * headSize }
  }

  /// Self-attention, flash-attention style (Dao et al. 2022): work items are (sequence, head,
  /// block of `bq` queries); each streams its key and value blocks (up to its diagonal when
  /// causal) through SRAM with a running row maximum `m` and sum `l` (`rowmax`, `rowsum`, column
  /// operands), so scores never leave the tile: `O = softmax(Q·Kᵀ/√d + mask)·V`, scores,
  /// exponentials, `l` and `O` in f32, P in f16. A running maximum starts at −10^30, not −inf,
  /// so e^(m_old − m_new) is 0, not NaN.
  static func flashAttention(_ s: Attention, sramBytes: Int) -> ProgramBuilder {
    let (d, q) = (s.headSize, s.sequence)
    let t = s.batch * q
    let group = s.heads / s.keyValueHeads
    // Per query row: q (2d), s and the mask (8bk), p (2bk), o (4d), out (2d), 4 columns (16);
    // two slots of k and v (8d per key row) and of the padding mask (8 per key).
    func fits(_ b: Int) -> Bool { b * (8 * d + 10 * b + 16) + 8 * b * d + 8 * b + 1024 <= sramBytes }
    // A divisor of the tokens that is a multiple of 16 (or all of them) when one fits; else a
    // power of two with a shorter last block (127 tokens: 64 and 63).
    let divisor = LinearKernel.divisors(of: q, upTo: 128).first(where: fits)
    let bq =
      divisor.flatMap { $0 == q || $0 % 16 == 0 ? $0 : nil }
      ?? [128, 64, 32, 16, 8, 4, 2, 1].first { $0 <= q && fits($0) } ?? 1
    let ragged = q % bq != 0
    let blocks = (q + bq - 1) / bq
    var e = Emitter(
      path: "attention.isa",
      header: [
        "\(s.causal ? "Causal attention" : "Self-attention"): \(s.batch) \(s.causal ? "sequences" : "texts") of \(q) tokens × \(s.heads) heads of \(d)"
          + (group > 1 ? " (\(s.keyValueHeads) key-value heads)" : "") + ", blocks of \(bq) queries and keys"
          + (ragged ? " (the last \(q % bq))." : ".")
      ])
    // Where a head's Q, K and V columns are: tensor and first column (K and V: of its group).
    let kvWidth = s.keyValueHeads * d
    let qkv = s.fused ? e.tensor("QKV", .format(.f16), [t, s.hidden + 2 * kvWidth], .dram) : nil
    let qt = qkv ?? e.tensor("Q", .format(.f16), [t, s.hidden], .dram)
    let kt = qkv ?? e.tensor("K", .format(.f16), [t, kvWidth], .dram)
    let vt = qkv ?? e.tensor("V", .format(.f16), [t, kvWidth], .dram)
    let (kBase, vBase) = s.fused ? (s.hidden, s.hidden + kvWidth) : (0, 0)
    let mt = s.paddingMask ? e.tensor("M", .format(.f32), [s.batch, q], .dram) : nil
    let o = e.tensor("O", .format(.f16), [t, s.hidden], .dram)
    let qs = e.tensor("q", .format(.f16), [bq, d], .sram)
    // Rings of two key and value blocks: block j + 1 loads while block j is used.
    let ks = e.tensor("k", .format(.f16), [2, bq, d], .sram)
    let vs = e.tensor("v", .format(.f16), [2, bq, d], .sram)
    let ms = mt.map { _ in e.tensor("mk", .format(.f32), [2, 1, bq], .sram) }
    let scores = e.tensor("s", .format(.f32), [bq, bq], .sram)
    let mask = s.causal ? e.tensor("mask", .format(.f32), [bq, bq], .sram) : nil
    let p = e.tensor("p", .format(.f16), [bq, bq], .sram)
    let acc = e.tensor("o", .format(.f32), [bq, d], .sram)
    let out = e.tensor("oh", .format(.f16), [bq, d], .sram)
    let m = e.tensor("m", .format(.f32), [bq, 1], .sram)
    let l = e.tensor("l", .format(.f32), [bq, 1], .sram)
    let bm = e.tensor("bm", .format(.f32), [bq, 1], .sram)
    let tc = e.tensor("tc", .format(.f32), [bq, 1], .sram)
    e.output(o)
    // Ragged: r21 rows in this query block; r24 keys in this key block, r25 in the next.
    let rowsQ: ViewIndex = ragged ? .range(0, register: 21) : .all
    func keys(_ register: Int) -> ViewIndex { ragged ? .range(0, register: register) : .all }
    func dram(_ start: Int, _ register: Int) -> ViewIndex {
      ragged ? .range(.register(start), register: register) : .range(.register(start), bq)
    }
    /// r`register` = the keys of block r`block`: bq, or the short last block's (causal: the
    /// diagonal, r21 rows; otherwise block `blocks − 1`).
    func keyCount(_ e: inout Emitter, into register: Int, block: Int) {
      guard ragged else { return }
      let full = e.label("full")
      e.mov(register, .constant(Int64(bq)))
      if s.causal {
        e.branch(.notEqual, .register(block), .register(8), full)
        e.mov(register, .register(21))
      } else {
        e.branch(.notEqual, .register(block), .constant(Int64(blocks - 1)), full)
        e.mov(register, .constant(Int64(q - (blocks - 1) * bq)))
      }
      e.place(full)
    }
    let perSequence = s.heads * blocks
    e.forEachItem(s.batch * perSequence, register: 1, "item") { e in
      guard let mask else { return }
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
      // the head's Q, K and V; r16 first key row of block r6; r26 the sequence's first row.
      e.int(.div, 2, .register(1), .constant(Int64(perSequence)))
      e.int(.rem, 3, .register(1), .constant(Int64(perSequence)))
      e.int(.div, 7, .register(3), .constant(Int64(blocks)))
      e.int(.rem, 8, .register(3), .constant(Int64(blocks)))
      e.int(.mul, 4, .register(2), .constant(Int64(q)))
      e.int(.mul, 16, .register(8), .constant(Int64(bq)))
      if ragged {
        e.int(.sub, 21, .constant(Int64(q)), .register(16))
        e.int(.min, 21, .register(21), .constant(Int64(bq)))
      }
      e.int(.add, 4, .register(4), .register(16))
      e.int(.mul, 5, .register(7), .constant(Int64(d)))
      e.int(.div, 9, .register(7), .constant(Int64(group)))
      e.int(.mul, 9, .register(9), .constant(Int64(d)))
      e.int(.add, 15, .register(9), .constant(Int64(vBase)))
      e.int(.add, 9, .register(9), .constant(Int64(kBase)))
      e.load(qs[rowsQ, .all], qt[dram(4, 21), .range(.register(5), d)])
      e.vector(.fill(.constant(-1e30)), m.all)
      e.vector(.fill(.constant(0)), l.all)
      e.vector(.fill(.constant(0)), acc.all)
      // r6 key block, r16 its first row, r17 its slot; r20, r19, r18 the next block's.
      func loadBlock(_ e: inout Emitter, row: Int, slot: Int, count: Int) {
        e.load(ks[.index(.register(slot)), keys(count), .all], kt[dram(row, count), .range(.register(9), d)])
        e.load(vs[.index(.register(slot)), keys(count), .all], vt[dram(row, count), .range(.register(15), d)])
        if let mt, let ms {
          // The text's mask entries for these keys: columns row − r26 of its row r2.
          e.int(.sub, 27, .register(row), .register(26))
          let columns: ViewIndex = ragged ? .range(.register(27), register: count) : .range(.register(27), bq)
          e.load(ms[.index(.register(slot)), .all, keys(count)], mt[.range(.register(2), 1), columns])
        }
      }
      e.mov(6, .constant(0))
      e.mov(17, .constant(0))
      e.int(.mul, 16, .register(2), .constant(Int64(q)))
      if s.paddingMask { e.mov(26, .register(16)) }
      keyCount(&e, into: 24, block: 6)
      loadBlock(&e, row: 16, slot: 17, count: 24)
      let top = e.label("keys")
      let last = e.label("last")
      let compute = e.label("compute")
      let transfers = s.paddingMask ? 3 : 2
      e.place(top)
      e.int(.add, 20, .register(6), .constant(1))
      e.int(.add, 19, .register(16), .constant(Int64(bq)))
      e.int(.sub, 18, .constant(1), .register(17))
      if s.causal {
        e.branch(.less, .register(8), .register(20), last)
      } else {
        e.branch(.greaterOrEqual, .register(20), .constant(Int64(blocks)), last)
      }
      keyCount(&e, into: 25, block: 20)
      loadBlock(&e, row: 19, slot: 18, count: 25)
      e.wait(keep: transfers)
      e.jump(compute)
      e.place(last)
      e.wait()
      e.place(compute)
      let k = ks[.index(.register(17)), keys(24), .all]
      let v = vs[.index(.register(17)), keys(24), .all]
      let sv = scores[rowsQ, keys(24)]
      e.mma(sv, qs[rowsQ, .all], k, transposeB: true)
      e.binary(.mul, sv, sv, .value(.constant(1 / Double(d).squareRoot())))
      if let ms { e.binary(.add, sv, sv, .view(ms[.index(.register(17)), .all, keys(24)])) }
      if let mask {
        let unmasked = e.label("unmasked")
        e.branch(.notEqual, .register(6), .register(8), unmasked)
        e.binary(.add, sv, sv, .view(mask[rowsQ, keys(24)]))
        e.place(unmasked)
      }
      onlineSoftmaxStep(
        &e, scores: sv, p: p[rowsQ, keys(24)], v: v, acc: acc[rowsQ, .all], m: m[rowsQ, .all],
        l: l[rowsQ, .all], bm: bm[rowsQ, .all], tc: tc[rowsQ, .all])
      e.mov(6, .register(20))
      e.mov(16, .register(19))
      e.mov(17, .register(18))
      if ragged { e.mov(24, .register(25)) }
      if s.causal {
        e.branch(.greaterOrEqual, .register(8), .register(6), top)
      } else {
        e.branch(.less, .register(6), .constant(Int64(blocks)), top)
      }
      e.binary(.div, acc[rowsQ, .all], acc[rowsQ, .all], .view(l[rowsQ, .all]))
      e.cast(out[rowsQ, .all], acc[rowsQ, .all])
      e.store(o[dram(4, 21), .range(.register(5), d)], out[rowsQ, .all])
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
