import FP8Formats
import FP8ISA
import FP8Sim

/// Where a model's kernels read their weights: tensors of a `.safetensors` file, or values the
/// program generates (seeded, for cost studies of models nobody needs to download).
public enum WeightSource: Sendable, Hashable {
  case file(WeightFile)
  /// Matrices and biases `randn(0, std)` (GPT-2's initialisation: 0.02), norm gains 1 and
  /// shifts 0; each tensor's seed derived from `seed` and its name.
  case random(seed: UInt64, std: Double)

  /// What a weight is: the generated values depend on it.
  public enum Role: Sendable { case matrix, bias, gain, shift }

  func initializer(_ name: String, _ role: Role) -> Initializer {
    switch self {
    case .file(let f): return f.initializer(name)
    case .random(let seed, let std):
      switch role {
      case .matrix, .bias:
        // FNV-1a of the name: stable across runs and platforms.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return .randn(seed: (seed ^ h) & 0x7FFF_FFFF_FFFF, mean: 0, std: std)
      case .gain: return .constant(1)
      case .shift: return .zeros
      }
    }
  }
}

/// A linear layer `Y = act(X·Wᵀ + b) (+ R)` with W as PyTorch stores it (`[out, in]`): X and W
/// cast to FP8 (E4M3) with their scaling biases, f32 accumulation over K slices, unscaled,
/// the bias added in f32, then the activation, the residual `R` and the f16 store.
///
/// Three passes over all tiles, as Transformer Engine runs an FP8 linear layer (cast kernels,
/// then an FP8 GEMM):
/// 1. FP8-AMAX only: every slice of W (and G) and X read once for its amax; `allreduce.max`
///    gives the whole tensors' amax and `bias` the scaling biases — the paper's extra round
///    trip of the f16 tensors (§3). CSCALE sets one constant instead.
/// 2. Each tensor cast to FP8 once with its bias, slice by slice, stored to DRAM (`W8`, `X8`).
/// 3. The GEMM: output blocks of `rows × columns` (`plan`) as work items, each a loop over K
///    slices (`slice` wide) of the FP8 tensors into an f32 accumulator, then the epilogue.
///
/// Registers on every tile: r10 the weight's bias, r11 the activation's, r13 the gate's.
public struct LinearKernel: Sendable {
  public enum Activation: String, Sendable, CaseIterable {
    case none, gelu
    case geluTanh = "gelu.tanh"
    /// Llama's MLP input: `silu(X·Gᵀ) · (X·Wᵀ)` with G the gate weight.
    case swiglu
  }

  public var name: String
  /// X is `[rows, inputs]`, Y `[rows, outputs]`.
  public var rows: Int
  public var inputs: Int
  public var outputs: Int
  /// Weight names (as `WeightSource` knows them); `bias` nil: no bias; `gate` for SwiGLU.
  public var weight: String
  public var gate: String?
  public var bias: String?
  public var activation: Activation = .none
  /// Add `R [rows, outputs]` (a residual) before the store.
  public var residual = false
  public var scaling: Scaling
  public var overflow: OverflowMode = .nonfinite
  public var weights: WeightSource
  /// Delayed scaling: the amax of W, X and G an earlier step measured (1 where unknown).
  public struct History: Sendable, Hashable {
    public var weight = 1.0
    public var activation = 1.0
    public var gate = 1.0
    public init(weight: Double = 1, activation: Double = 1, gate: Double = 1) {
      (self.weight, self.activation, self.gate) = (weight, activation, gate)
    }
  }
  public var history = History()
  /// X's and W's (and G's) FP8 types under per-tensor scaling: E4M3, or E5M2 for gradients.
  public var xType: DType = .fp8e4
  public var wType: DType = .fp8e4
  /// X stored K-first (`[inputs, rows]`: the GEMM multiplies its transpose) and W (and G)
  /// stored K-first (`[inputs, outputs]`) instead of PyTorch's `[outputs, inputs]`: the
  /// operands of the backward GEMMs, dX = dY·W and dW = dYᵀ·X.
  public var xKFirst = false
  public var wKFirst = false
  /// X's (and R's) initial values: zeros where a chain hands them in, random for a program
  /// that runs on its own (`fp8sim gen linear`).
  public var inputValues: Initializer = .zeros
  /// R's initial values, when not `inputValues`'s.
  public var residualValues: Initializer?

  public init(
    _ name: String, rows: Int, inputs: Int, outputs: Int, weight: String, bias: String?,
    scaling: Scaling, weights: WeightSource
  ) {
    self.name = name
    self.rows = rows
    self.inputs = inputs
    self.outputs = outputs
    self.weight = weight
    self.bias = bias
    self.scaling = scaling
    self.weights = weights
  }

  /// The FP8 element type of weights and activations (per-tensor scaling: its biases).
  static let fp8 = DType.fp8e4
  /// The types X and W (and G) are cast to: their per-tensor FP8 types, or the block-scaled
  /// type of `.block`.
  var xCast: DType {
    if case .block(let b) = scaling { return .blocked(b) }
    return xType
  }
  var wCast: DType {
    if case .block(let b) = scaling { return .blocked(b) }
    return wType
  }
  /// K slices are whole blocks of the block-scaled type.
  var sliceUnit: Int {
    if case .block(let b) = scaling { return b.blockCols }
    return 1
  }

  /// A block of the output and the K slice.
  public struct Plan: Sendable, Hashable {
    public var rows: Int
    public var columns: Int
    public var slice: Int
  }

  /// SRAM bytes a tile needs for `p` (each tensor rounded up to 64 bytes).
  func sramBytes(_ p: Plan) -> Int {
    func bytes(_ count: Int) -> Int { (count + 63) / 64 * 64 }
    func cast(_ type: DType, _ shape: [Int]) -> Int { bytes(type.bytes(shape: shape) ?? Int.max / 64) }
    let (r, c, t) = (p.rows, p.columns, p.slice)
    // As `builder` declares them: x, x8, w, w8 (the casts' staging), the rings xr, wr (gr), the
    // accumulators acc (accg), the bias row, the residual block and y.
    var total = bytes(2 * r * t) + cast(xCast, [r, t]) + bytes(2 * c * t) + cast(wCast, [c, t])
    total += cast(xCast, [2, r, t]) + cast(wCast, [2, c, t]) + bytes(4 * r * c) + bytes(2 * r * c)
    if gate != nil { total += cast(wCast, [2, c, t]) + bytes(4 * r * c) }
    if bias != nil { total += bytes(2 * c) }
    if residual { total += bytes(2 * r * c) }
    return total
  }

  /// Divisors of `x` from `cap` down (at most `cap`), largest first; `x` itself first when it
  /// is at most `cap`.
  static func divisors(of x: Int, upTo cap: Int) -> [Int] {
    stride(from: min(x, cap), through: 1, by: -1).filter { x % $0 == 0 }
  }

  /// The block and slice with the least estimated time on `device`: rounds of work items per
  /// tile × each item's time, the larger of its tensor-unit time and its loads at the tile's
  /// share of L2 bandwidth. Blocks are divisors of the sizes (up to 128 rows, 256 columns,
  /// slices of 256), preferring multiples of 16; nil when not even one row and column fit.
  public func plan(device: DeviceConfig) -> Plan? {
    // Exact divisors first: the multiples of 16 and the two largest others, a few of each;
    // every divisor only when none of those fits (a small SRAM). The estimate has no per-item
    // cost, so it would otherwise pick blocks too small to pay for their instructions.
    func prefer16(_ ds: [Int]) -> [Int] {
      let aligned = ds.filter { $0 % 16 == 0 }
      return aligned.isEmpty ? ds : aligned + ds.filter { $0 % 16 != 0 }.prefix(2)
    }
    let rowDivisors = Self.divisors(of: rows, upTo: 128)
    let columnDivisors = Self.divisors(of: outputs, upTo: 256)
    let sliceDivisors = Self.divisors(of: inputs, upTo: max(256, sliceUnit)).filter { $0 % sliceUnit == 0 }
    let exact =
      best(
        rows: prefer16(rowDivisors).prefix(6), columns: prefer16(columnDivisors).prefix(6),
        slices: prefer16(sliceDivisors).prefix(4), device: device)
      ?? best(rows: rowDivisors, columns: columnDivisors, slices: sliceDivisors, device: device)
    // Sizes without a good divisor (127 tokens, a 1031-wide layer): blocks of powers of two
    // that need not divide, the last block shorter.
    // (At least 16 rows and columns and 64-wide slices: the estimate has no per-slice cost.)
    func powers(_ size: Int, _ cap: Int, least: Int, unit: Int = 1) -> [Int] {
      [256, 128, 64, 32, 16, 8, 4, 2, 1].filter {
        $0 <= cap && $0 <= size && $0 >= min(least, size) && $0 % unit == 0
      }
        + (size <= cap && size % unit == 0 ? [size] : [])
    }
    let ragged = best(
      rows: powers(rows, 128, least: 16), columns: powers(outputs, 256, least: 16),
      slices: powers(inputs, max(256, sliceUnit), least: 64, unit: sliceUnit), device: device)
    // Only where the divisors are poor: a dimension of 16 or more cut into blocks that are not
    // multiples of 16 (2,047 rows in blocks of 89), which tensor units run at a fraction of
    // their rate; there the powers of two win, their last block shorter.
    guard let e = exact else { return ragged?.0 }
    func poor(_ block: Int, _ size: Int) -> Bool { size >= 16 && block < size && block % 16 != 0 }
    guard poor(e.0.rows, rows) || poor(e.0.columns, outputs) || poor(e.0.slice, inputs), let r = ragged else {
      return e.0
    }
    return r.0
  }

  /// The candidate with the least estimated time that fits, and that time, if any fits.
  func best<R: Collection<Int>, C: Collection<Int>, S: Collection<Int>>(
    rows rowChoices: R, columns columnChoices: C, slices sliceChoices: S, device: DeviceConfig
  ) -> (Plan, Double)? {
    let tiles = Double(device.tiles)
    var best: (Plan, Double)?
    for rb in rowChoices {
      for nb in columnChoices {
        for tk in sliceChoices {
          let p = Plan(rows: rb, columns: nb, slice: tk)
          guard sramBytes(p) <= device.sramBytesPerTile else { continue }
          let items = Double(((rows + rb - 1) / rb) * ((outputs + nb - 1) / nb))
          let busy = min(items, tiles)
          let weightsPerItem = Double(gate == nil ? 1 : 2)
          let macs = Double(rb * nb * inputs) * weightsPerItem
          let bytes = Double(inputs) * (Double(rb) + weightsPerItem * Double(nb))
          let bandwidth = min(device.dmaBytesPerCycle, device.l2BytesPerCycle / busy)
          let time =
            (items / tiles).rounded(.up) * max(macs / device.tensorMacsPerCycleFP8, bytes / bandwidth)
          if best == nil || time < best!.1 { best = (p, time) }
        }
      }
    }
    return best
  }

  public func builder(device: DeviceConfig) throws(ModelError) -> ProgramBuilder {
    guard inputs % sliceUnit == 0 else {
      throw ModelError(
        "\(name): \(xCast.name) scales blocks of \(sliceUnit) along K; \(inputs) is not a multiple")
    }
    if case .block = scaling, xKFirst || wKFirst {
      throw ModelError("\(name): block scaling of K-first operands is not built (its blocks run along rows)")
    }
    guard let p = plan(device: device) else {
      throw ModelError(
        "\(name): one row and one column of a \(inputs)-wide layer do not fit in a tile's SRAM")
    }
    let (t, k, n) = (rows, inputs, outputs)
    let (rb, nb, tk) = (p.rows, p.columns, p.slice)
    // Rows of X and Y (length r20), columns of Y and rows of W (r21), K (r22; the next slice r23).
    let rowAxis = Axis(size: t, block: rb, length: 20)
    let columnAxis = Axis(size: n, block: nb, length: 21)
    let kAxis = Axis(size: k, block: tk, length: 22)
    let nextK = Axis(size: k, block: tk, length: 23)
    let act = activation == .none ? "" : " \(activation.rawValue)"
    var e = Emitter(
      path: "\(name).isa",
      header: [
        "\(name): Y[\(t), \(n)] =\(act) X·Wᵀ\(bias == nil ? "" : " + b")\(residual ? " + R" : ""), FP8 \(scaling);"
          + " blocks of \(rb)×\(nb), K slices of \(tk)"
          + (rowAxis.ragged || columnAxis.ragged || kAxis.ragged ? " (the last ones shorter)." : ".")
      ])
    // A [size, k] matrix's shape as stored: K last, or K first.
    func stored(_ size: Int, _ kFirst: Bool) -> [Int] { kFirst ? [k, size] : [size, k] }
    let x = e.tensor("X", .format(.f16), stored(t, xKFirst), .dram, inputValues)
    let w = e.tensor("W", .format(.f16), stored(n, wKFirst), .dram, weights.initializer(weight, .matrix))
    let g = gate.map {
      e.tensor("G", .format(.f16), stored(n, wKFirst), .dram, weights.initializer($0, .matrix))
    }
    let bv = bias.map { e.tensor("Bias", .format(.f16), [n], .dram, weights.initializer($0, .bias)) }
    let r = residual ? e.tensor("R", .format(.f16), [t, n], .dram, residualValues ?? inputValues) : nil
    let y = e.tensor("Y", .format(.f16), [t, n], .dram)
    let x8d = e.tensor("X8", xCast, stored(t, xKFirst), .dram)
    let w8d = e.tensor("W8", wCast, stored(n, wKFirst), .dram)
    let g8d = g.map { _ in e.tensor("G8", wCast, stored(n, wKFirst), .dram) }
    func slot(_ size: Int, _ kFirst: Bool) -> [Int] { kFirst ? [tk, size] : [size, tk] }
    let xs = e.tensor("x", .format(.f16), slot(rb, xKFirst), .sram)
    let x8 = e.tensor("x8", xCast, slot(rb, xKFirst), .sram)
    let ws = e.tensor("w", .format(.f16), slot(nb, wKFirst), .sram)
    let w8 = e.tensor("w8", wCast, slot(nb, wKFirst), .sram)
    // Pass 3's ring of two slots per operand: slice j + 1 loads while slice j multiplies.
    let xr = e.tensor("xr", xCast, [2] + slot(rb, xKFirst), .sram)
    let wr = e.tensor("wr", wCast, [2] + slot(nb, wKFirst), .sram)
    let gr = g.map { _ in e.tensor("gr", wCast, [2] + slot(nb, wKFirst), .sram) }
    let acc = e.tensor("acc", .format(.f32), [rb, nb], .sram)
    let accg = g.map { _ in e.tensor("accg", .format(.f32), [rb, nb], .sram) }
    let brow = bv.map { _ in e.tensor("b", .format(.f16), [nb], .sram) }
    let rs = r.map { _ in e.tensor("r", .format(.f16), [rb, nb], .sram) }
    let ys = e.tensor("y", .format(.f16), [rb, nb], .sram)
    e.output(y)

    // The slices of a [size, k] tensor in blocks of `axis` rows, as work items: item r1 is the
    // slice at rows r4, columns r5 (lengths in the axes' registers when ragged).
    func slicesOf(_ axis: Axis, _ name: String, _ body: (inout Emitter) -> Void) {
      e.forEachItem(axis.blocks * kAxis.blocks, register: 1, name) { e in
        e.int(.div, 2, .register(1), .constant(Int64(kAxis.blocks)))
        e.int(.rem, 3, .register(1), .constant(Int64(kAxis.blocks)))
        e.int(.mul, 4, .register(2), .constant(Int64(axis.block)))
        e.int(.mul, 5, .register(3), .constant(Int64(tk)))
        axis.setLength(&e, start: 4)
        kAxis.setLength(&e, start: 5)
        body(&e)
      }
    }
    /// A slice of a stored [size, k] matrix and its staging buffer's matching part.
    func slice(_ m: TensorHandle, _ axis: Axis) -> TensorView {
      let kFirst = axis.length == rowAxis.length ? xKFirst : wKFirst
      return kFirst ? m[kAxis.at(5), axis.at(4)] : m[axis.at(4), kAxis.at(5)]
    }
    func staged(_ buffer: TensorHandle, _ axis: Axis) -> TensorView {
      let kFirst = axis.length == rowAxis.length ? xKFirst : wKFirst
      return kFirst ? buffer[kAxis.local, axis.local] : buffer[axis.local, kAxis.local]
    }
    /// The weights: W with its bias register, and G with its own.
    let matrices = [(w, w8d, 10)] + (g.map { [($0, g8d!, 13)] } ?? [])
    switch scaling {
    case .amax(let margin):
      // Pass 1: every slice of W (and G) and of X read once for its amax, over all tiles.
      for f in [1, 5, 7] { e.fmov(f, .constant(0)) }
      for (m, (source, _, _)) in matrices.enumerated() {
        slicesOf(columnAxis, "amax_w") { e in
          e.load(staged(ws, columnAxis), slice(source, columnAxis))
          e.wait()
          e.amax(3, staged(ws, columnAxis))
          e.float(.max, m == 0 ? 1 : 7, .register(m == 0 ? 1 : 7), .register(3))
        }
      }
      slicesOf(rowAxis, "amax_x") { e in
        e.load(staged(xs, rowAxis), slice(x, rowAxis))
        e.wait()
        e.amax(3, staged(xs, rowAxis))
        e.float(.max, 5, .register(5), .register(3))
      }
      e.allReduceMax(2, 1)
      e.allReduceMax(6, 5)
      e.bias(10, amax: 2, wType, margin: margin)
      e.bias(11, amax: 6, xType, margin: margin)
      if g != nil {
        e.allReduceMax(8, 7)
        e.bias(13, amax: 8, wType, margin: margin)
      }
    case .cscale(let b):
      for reg in [10, 11, 13] { e.mov(reg, .constant(Int64(b))) }
    case .block:
      // Each block's scale comes with its cast: no per-tensor bias.
      for reg in [10, 11, 13] { e.mov(reg, .constant(0)) }
    case .delayed(let margin):
      // The biases from the history; this step's amax is gathered by the casts (f1, f5, f7).
      for (f, amax) in [(2, history.weight), (6, history.activation), (8, history.gate)] {
        e.fmov(f, .constant(amax))
      }
      e.bias(10, amax: 2, wType, margin: margin)
      e.bias(11, amax: 6, xType, margin: margin)
      e.bias(13, amax: 8, wType, margin: margin)
      for f in [1, 5, 7] { e.fmov(f, .constant(0)) }
    }
    let delayed: Bool
    if case .delayed = scaling { delayed = true } else { delayed = false }
    /// The cast's options: with delayed scaling it also writes its input's amax to f3.
    func castOptions(_ bias: Int) -> OutputOptions {
      // A block-scaled cast scales each block itself: no options.
      if case .block = scaling { return OutputOptions() }
      var o = OutputOptions(bias: .register(bias), overflow: overflow)
      if delayed { o.amax = 3 }
      return o
    }
    // Pass 2: each tensor cast to FP8 once, slice by slice, into DRAM.
    for (source, target, register) in matrices {
      slicesOf(columnAxis, "cast_w") { e in
        e.load(staged(ws, columnAxis), slice(source, columnAxis))
        e.wait()
        e.cast(staged(w8, columnAxis), staged(ws, columnAxis), castOptions(register))
        if delayed { e.float(.max, register == 10 ? 1 : 7, .register(register == 10 ? 1 : 7), .register(3)) }
        e.store(slice(target, columnAxis), staged(w8, columnAxis))
      }
    }
    slicesOf(rowAxis, "cast_x") { e in
      e.load(staged(xs, rowAxis), slice(x, rowAxis))
      e.wait()
      e.cast(staged(x8, rowAxis), staged(xs, rowAxis), castOptions(11))
      if delayed { e.float(.max, 5, .register(5), .register(3)) }
      e.store(slice(x8d, rowAxis), staged(x8, rowAxis))
    }
    e.wait()
    e.b.emit(.barrier)
    if delayed {
      // This step's amax for the next (f2, f6, f8 on every tile), reduced while the GEMM runs.
      e.b.emit(.allReduce(AllReduce(.max, dest: 2, source: .register(1), async: true)))
      e.b.emit(.allReduce(AllReduce(.max, dest: 6, source: .register(5), async: true)))
      if g != nil { e.b.emit(.allReduce(AllReduce(.max, dest: 8, source: .register(7), async: true))) }
    }
    // Unscaling biases: −(b_w + b_x) (r12) and −(b_g + b_x) (r14).
    e.int(.add, 12, .register(10), .register(11))
    e.int(.sub, 12, .constant(0), .register(12))
    e.int(.add, 14, .register(13), .register(11))
    e.int(.sub, 14, .constant(0), .register(14))

    // Pass 3: item r1 is the output block at row block r2 (rows r4), column block r3 (columns
    // r5); r6 walks K. Items running at once share the larger operand's blocks: the weight's
    // columns (blocks numbered down the columns) unless the activation is larger.
    let weightsLarger = n >= t
    let (rowBlocks, columnBlocks) = (rowAxis.blocks, columnAxis.blocks)
    let block = [rowAxis.local, columnAxis.local]
    e.forEachItem(rowBlocks * columnBlocks, register: 1, "block") { e in
      if weightsLarger {
        e.int(.rem, 2, .register(1), .constant(Int64(rowBlocks)))
        e.int(.div, 3, .register(1), .constant(Int64(rowBlocks)))
      } else {
        e.int(.div, 2, .register(1), .constant(Int64(columnBlocks)))
        e.int(.rem, 3, .register(1), .constant(Int64(columnBlocks)))
      }
      e.int(.mul, 4, .register(2), .constant(Int64(rb)))
      e.int(.mul, 5, .register(3), .constant(Int64(nb)))
      rowAxis.setLength(&e, start: 4)
      columnAxis.setLength(&e, start: 5)
      if let bv, let brow { e.load(brow[columnAxis.local], bv[columnAxis.at(5)]) }
      if let r, let rs { e.load(rs[rowAxis.local, columnAxis.local], r[rowAxis.at(4), columnAxis.at(5)]) }
      e.vector(.fill(.constant(0)), acc.all)
      if let accg { e.vector(.fill(.constant(0)), accg.all) }
      // r6: this slice's K offset (length r22), r17 its slot; r19 the next slice's offset (r23),
      // r18 its slot.
      func loadSlice(_ e: inout Emitter, offset: Int, slot: Int, k: Axis) {
        let at = SliceStart.register(slot)
        func part(_ m: TensorHandle, _ kFirst: Bool, _ axis: Axis, _ start: Int) -> TensorView {
          kFirst ? m[k.at(offset), axis.at(start)] : m[axis.at(start), k.at(offset)]
        }
        func ring(_ m: TensorHandle, _ kFirst: Bool, _ axis: Axis) -> TensorView {
          kFirst ? m[.index(at), k.local, axis.local] : m[.index(at), axis.local, k.local]
        }
        e.load(ring(xr, xKFirst, rowAxis), part(x8d, xKFirst, rowAxis, 4))
        e.load(ring(wr, wKFirst, columnAxis), part(w8d, wKFirst, columnAxis, 5))
        if let g8d, let gr { e.load(ring(gr, wKFirst, columnAxis), part(g8d, wKFirst, columnAxis, 5)) }
      }
      let perSlice = g == nil ? 2 : 3
      e.mov(6, .constant(0))
      e.mov(17, .constant(0))
      kAxis.setLength(&e, start: 6)
      loadSlice(&e, offset: 6, slot: 17, k: kAxis)
      let slice = e.label("slice")
      let last = e.label("last")
      let multiply = e.label("multiply")
      e.place(slice)
      e.int(.add, 19, .register(6), .constant(Int64(tk)))
      e.int(.sub, 18, .constant(1), .register(17))
      e.branch(.greaterOrEqual, .register(19), .constant(Int64(k)), last)
      nextK.setLength(&e, start: 19)
      loadSlice(&e, offset: 19, slot: 18, k: nextK)
      e.wait(keep: perSlice)
      e.jump(multiply)
      e.place(last)
      e.wait()
      e.place(multiply)
      let current = SliceStart.register(17)
      // A is [rows, K] (or stored [K, rows]: ta); B is [columns, K] (tb) or stored [K, columns].
      func operand(_ m: TensorHandle, _ kFirst: Bool, _ axis: Axis) -> TensorView {
        kFirst ? m[.index(current), kAxis.local, axis.local] : m[.index(current), axis.local, kAxis.local]
      }
      let a = operand(xr, xKFirst, rowAxis)
      e.mma(
        acc[block[0], block[1]], a, operand(wr, wKFirst, columnAxis), transposeA: xKFirst,
        transposeB: !wKFirst, clear: false)
      if let gr, let accg {
        e.mma(
          accg[block[0], block[1]], a, operand(gr, wKFirst, columnAxis), transposeA: xKFirst,
          transposeB: !wKFirst, clear: false)
      }
      e.mov(6, .register(19))
      e.mov(17, .register(18))
      if kAxis.ragged { e.mov(22, .register(23)) }
      e.branch(.less, .register(6), .constant(Int64(k)), slice)
      // Epilogue: unscale, bias, activation, residual; the last step stores f16 (one rounding).
      let accView = acc[block[0], block[1]]
      e.cast(accView, accView, OutputOptions(bias: .register(12)))
      var steps: [(inout Emitter, TensorView) -> Void] = []
      if let brow { steps.append { e, d in e.binary(.add, d, accView, .view(brow[columnAxis.local])) } }
      switch activation {
      case .none: break
      case .gelu: steps.append { e, d in e.vector(.unary(.gelu, a: accView), d) }
      case .geluTanh: steps.append { e, d in e.vector(.unary(.geluTanh, a: accView), d) }
      case .swiglu:
        if let accg {
          let gView = accg[block[0], block[1]]
          e.cast(gView, gView, OutputOptions(bias: .register(14)))
          e.vector(.unary(.silu, a: gView), gView)
          steps.append { e, d in e.binary(.mul, d, accView, .view(gView)) }
        }
      }
      if let rs { steps.append { e, d in e.binary(.add, d, accView, .view(rs[block[0], block[1]])) } }
      if steps.isEmpty { steps.append { e, d in e.cast(d, accView) } }
      let out = ys[block[0], block[1]]
      for (i, step) in steps.enumerated() { step(&e, i == steps.count - 1 ? out : accView) }
      e.store(y[rowAxis.at(4), columnAxis.at(5)], out)
    }
    e.wait()
    e.halt()
    return e.b
  }
}

/// One dimension of a kernel cut into blocks of `block` elements, the last one shorter when
/// `block` does not divide `size` (its length then computed into register `length`).
struct Axis {
  var size: Int
  var block: Int
  var length: Int
  var ragged: Bool { size % block != 0 }
  var blocks: Int { (size + block - 1) / block }
  /// The block starting at register `start`: `start:+block`, or `start:+rLENGTH` when ragged.
  func at(_ start: Int) -> ViewIndex {
    ragged ? .range(.register(start), register: length) : .range(.register(start), block)
  }
  /// The same extent from 0 of a `block`-long buffer: all of it, or `0:+rLENGTH`.
  var local: ViewIndex { ragged ? .range(0, register: length) : .all }
  /// `length = min(block, size − start)`, when ragged.
  func setLength(_ e: inout Emitter, start: Int) {
    guard ragged else { return }
    e.int(.sub, length, .constant(Int64(size)), .register(start))
    e.int(.min, length, .register(length), .constant(Int64(block)))
  }
}
