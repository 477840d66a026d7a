/// A GEMM C[M, N] = A[M, K] · B[K, N] for any shape, built with `ProgramBuilder`: the program of
/// `fp8sim gen gemm`. Every tile loops over output blocks (block t, t + ntiles, ...), numbered
/// along rows or along columns (`raster`); for each it streams K slices of A and B through a ring
/// of `stages` SRAM slots (the DMA engine fills slot s + stages − 1 while the tensor unit
/// multiplies slot s), accumulates in f32 (or the chosen accumulator) in accumulator storage or
/// SRAM, and writes the block back through an epilogue cast to C's type. Ragged edges (M, N or K
/// not a multiple of the block) get their own code with exact view lengths; nothing is padded in
/// memory.
///
/// With `cluster` c > 1, tiles tid ÷ c form a multicast group: consecutive blocks in raster
/// order share their rows of A (`raster = .rows`) or their columns of B (`.columns`), so that
/// operand's loads carry `mcast=c` and the group reads each slice of it from L2 once. (Groups
/// only share when c divides the tile count and the blocks per row or column; otherwise the
/// loads stay correct and are simply not shared.)
public struct GEMMKernel: Sendable, Hashable {
  public var m, n, k: Int
  public var aType: DType = .fp8e4
  public var bType: DType = .fp8e4
  /// C's type: f32, bf16 or f16.
  public var outType: DType = .format(.f32)
  /// The `mma` accumulator (nil: f32).
  public var accumulator: Accumulator? = nil
  /// Block of outputs per tile step, and K slice.
  public var tm = 128, tn = 128, tk = 128
  /// Slots of the DMA ring (2: double buffering).
  public var stages = 2
  /// Where the accumulator lives: `.acc` (accumulator storage) or `.sram`.
  public var accumulatorSpace: MemorySpace = .sram
  /// How blocks are numbered: consecutive blocks along a row of C, or down a column.
  public var raster: Raster = .rows
  /// Tiles per multicast group (1: none); see the type's description.
  public var cluster = 1
  /// Ways K is split (1: none). With s > 1 every output block is computed by s work items, each
  /// over a consecutive range of K slices (split j: slices ⌊j·n/s⌋ ..< ⌊(j+1)·n/s⌋ of n), which store their f32 partial sums in a DRAM
  /// workspace `W[s, M, N]`; after a `barrier` the tiles add the partials up in strips of rows
  /// and store C. For shapes with few output blocks and a long K.
  public var splitK = 1

  /// Block order.
  public enum Raster: String, Sendable, Hashable, CaseIterable {
    /// Block b is at row b ÷ blocksN, column b mod blocksN: neighbours share A's rows.
    case rows
    /// Block b is at row b mod blocksM, column b ÷ blocksM: neighbours share B's columns.
    case columns
  }
  /// The `.device` directive (a preset name), if any.
  public var device: String? = nil
  public var aInit: Initializer = .randn(seed: 1, mean: 0, std: 1)
  public var bInit: Initializer = .randn(seed: 2, mean: 0, std: 1)
  /// Also make A and B outputs (tests compare C with a reference computed from them).
  public var outputInputs = false

  public init(m: Int, n: Int, k: Int) { (self.m, self.n, self.k) = (m, n, k) }

  /// A configuration the kernel cannot be built for.
  public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
  }

  /// The accumulator tensor's type.
  public var accumulatorType: DType {
    switch accumulator {
    case .f16: return .format(.f16)
    case .bf16: return .format(.bf16)
    case .f32, .fp22, .f32rz, nil: return .format(.f32)
    }
  }

  /// The type the K loop's epilogue stores: C's, or f32 partial sums with split-K.
  var partialType: DType { splitK > 1 ? .format(.f32) : outType }

  /// Whether the accumulator is stored as it is (no epilogue buffer).
  var storesAccumulatorDirectly: Bool { accumulatorSpace == .sram && accumulatorType == partialType }

  /// Rows of C per strip of the split-K reduction.
  public var stripRows: Int { min(min(tm, m), 32) }

  /// SRAM bytes per tile of the kernel's tensors (before alignment), given the bytes per element
  /// of each type on the device: the ring of A and B slices, the accumulator when in SRAM, the
  /// epilogue buffer when there is one.
  public func sramBytes(bytesPerElement bytes: (DType) -> Int) -> Int {
    let (mx, nx, kx) = (min(tm, m), min(tn, n), min(tk, k))
    var total = stages * (mx * kx * bytes(aType) + kx * nx * bytes(bType))
    if accumulatorSpace == .sram { total += mx * nx * bytes(accumulatorType) }
    if !storesAccumulatorDirectly { total += mx * nx * bytes(partialType) }
    if splitK > 1 {
      // The reduction's two f32 strips, and a strip of C unless C is f32.
      total += 2 * stripRows * nx * 4
      if outType != .format(.f32) { total += stripRows * nx * bytes(outType) }
    }
    return total
  }

  /// An upper bound on the instructions the program executes on `tiles` tiles (a run limit that
  /// cannot cut a correct run short): per block at most 48 per K slice plus the ring's prologue,
  /// the block's dispatch and its epilogue; per tile the loop's start and end.
  public func instructionBound(tiles: Int) -> Int {
    let (tmx, tnx, tkx) = (min(tm, m), min(tn, n), min(tk, k))
    let blocks = ((m + tmx - 1) / tmx) * ((n + tnx - 1) / tnx)
    let slices = (k + tkx - 1) / tkx
    let (perBlock, o1) = (48 * slices).addingReportingOverflow(4 * stages + 64)
    let (all, o2) = blocks.multipliedReportingOverflow(by: perBlock)
    let (total, o3) = all.addingReportingOverflow(16 * max(tiles, 1))
    return o1 || o2 || o3 ? Int.max : total
  }

  /// One line per setting, for the program's header comment.
  public var summary: String {
    let acc = accumulator?.rawValue ?? "f32"
    return
      "GEMM \(m)×\(n)×\(k), A \(aType), B \(bType) → C \(outType); blocks \(min(tm, m))×\(min(tn, n)), K slices of \(min(tk, k)),"
      + " \(stages)-stage DMA ring, \(acc) accumulator in \(accumulatorSpace.rawValue), raster by \(raster.rawValue)"
      + (cluster > 1 ? ", \(raster == .rows ? "A" : "B") multicast to clusters of \(cluster)" : "")
      + (splitK > 1 ? ", K split \(splitK) ways (f32 partials, reduced after a barrier)" : "")
  }

  func check() throws(ConfigError) {
    for (name, v) in [("M", m), ("N", n), ("K", k), ("TM", tm), ("TN", tn), ("TK", tk)]
    where v < 1 || v > ProgramLimits.maxDimension {
      throw ConfigError(description: "\(name) = \(v) must be between 1 and 2^32")
    }
    guard stages >= 2, stages <= 64 else {
      throw ConfigError(description: "stages = \(stages) must be 2...64")
    }
    let slices = (k + min(tk, k) - 1) / min(tk, k)
    guard splitK >= 1, splitK <= slices else {
      throw ConfigError(description: "splitK = \(splitK) must be 1...\(slices) (the K slices)")
    }
    guard cluster >= 1, Int64(cluster) <= Transfer.maxMulticast else {
      throw ConfigError(description: "cluster = \(cluster) must be 1...\(Transfer.maxMulticast)")
    }
    guard accumulatorSpace != .dram else {
      throw ConfigError(description: "the accumulator cannot be in dram")
    }
    guard [DType.format(.f32), .format(.bf16), .format(.f16)].contains(outType) else {
      throw ConfigError(description: "C's type must be f32, bf16 or f16, not \(outType)")
    }
    guard let ac = aType.mmaInputClass, let bc = bType.mmaInputClass,
      ac == bc && (ac == .fp8 || aType == bType)
    else {
      throw ConfigError(
        description: "A and B must both be FP8, or both f16, both bf16 or both f32; got \(aType) and \(bType)"
      )
    }
    let (bm, overflow) = ((m + tm - 1) / tm).multipliedReportingOverflow(by: (n + tn - 1) / tn)
    let (items, overflow2) = bm.multipliedReportingOverflow(by: splitK)
    guard !overflow, !overflow2, items <= Int(Int32.max) else {
      throw ConfigError(
        description:
          "\(m)×\(n) in blocks of \(min(tm, m))×\(min(tn, n)) (× \(splitK) splits) is more than 2^31 − 1 work items"
      )
    }
  }

  /// The program (unchecked until `build()`): see the type's description.
  public func builder() throws(ConfigError) -> ProgramBuilder {
    try check()
    var p = ProgramBuilder(device: device, path: "gemm.isa")
    p.header = [summary]
    let tmx = min(tm, m)
    let tnx = min(tn, n)
    let tkx = min(tk, k)
    let a = p.tensor("A", aType, [m, k], .dram, aInit)
    let b = p.tensor("B", bType, [k, n], .dram, bInit)
    let c = p.tensor("C", outType, [m, n], .dram)
    let w = splitK > 1 ? p.tensor("W", .format(.f32), [splitK, m, n], .dram) : c
    let abuf = p.tensor("abuf", aType, [stages, tmx, tkx], .sram)
    let bbuf = p.tensor("bbuf", bType, [stages, tkx, tnx], .sram)
    let acc = p.tensor("acc", accumulatorType, [tmx, tnx], accumulatorSpace)
    // An epilogue buffer unless the accumulator can be stored as it is.
    let obuf = storesAccumulatorDirectly ? acc : p.tensor("obuf", partialType, [tmx, tnx], .sram)
    if outputInputs {
      p.output(a)
      p.output(b)
    }
    p.output(c)
    let buffers = Buffers(a: a, b: b, out: w, abuf: abuf, bbuf: bbuf, acc: acc, obuf: obuf)

    let blocksM = (m + tmx - 1) / tmx
    let blocksN = (n + tnx - 1) / tnx
    let blocks = blocksM * blocksN
    let slices = (k + tkx - 1) / tkx

    // r1 work item; r7 its block; r5 its split; r2/r3 first row/column of the block; r12/r13
    // its first and past-the-end K slice.
    let (itemLoop, done) = (p.label("item"), p.label("items_done"))
    p.emit(.move(dest: 1, source: .special(.tid)))
    p.place(itemLoop)
    p.emit(.branch(.greaterOrEqual, a: .register(1), b: .constant(Int64(blocks * splitK)), target: done))
    if splitK > 1 {
      p.emit(.integer(.div, dest: 5, a: .register(1), b: .constant(Int64(blocks))))
      p.emit(.integer(.rem, dest: 7, a: .register(1), b: .constant(Int64(blocks))))
      // Split j covers slices ⌊j·slices / splitK⌋ ..< ⌊(j + 1)·slices / splitK⌋: none empty.
      p.emit(.integer(.mul, dest: 12, a: .register(5), b: .constant(Int64(slices))))
      p.emit(.integer(.div, dest: 12, a: .register(12), b: .constant(Int64(splitK))))
      p.emit(.integer(.add, dest: 13, a: .register(5), b: 1))
      p.emit(.integer(.mul, dest: 13, a: .register(13), b: .constant(Int64(slices))))
      p.emit(.integer(.div, dest: 13, a: .register(13), b: .constant(Int64(splitK))))
    }
    dispatch(
      &p, block: splitK > 1 ? 7 : 1, rows: m, columns: n, tileRows: tmx, tileColumns: tnx, tag: "",
      after: { p in
        p.emit(.integer(.add, dest: 1, a: .register(1), b: .special(.ntiles)))
        p.emit(.jump(itemLoop))
      }
    ) { p, h, w in emitBlock(&p, h: h, w: w, tkx: tkx, split: splitK > 1, buffers: buffers) }
    p.place(done)
    if splitK > 1 { emitReduction(&p, workspace: w, c: c, tnx: tnx) }
    p.emit(.dmaWait(keep: 0))
    p.emit(.halt)
    return p
  }

  /// The tensors of the K loop.
  struct Buffers {
    var a, b, out, abuf, bbuf, acc, obuf: TensorHandle
  }

  /// Decodes block index `r[block]` of a `rows`×`columns` matrix cut in `tileRows`×`tileColumns`
  /// blocks (in raster order) into r2 (first row) and r3 (first column), then runs the code
  /// `body` emits for the block's height and width (the last row and column may be ragged),
  /// each followed by the code `after` emits (which must not fall through).
  func dispatch(
    _ p: inout ProgramBuilder, block: Int, rows: Int, columns: Int, tileRows: Int, tileColumns: Int,
    tag: String,
    after: (inout ProgramBuilder) -> Void, _ body: (inout ProgramBuilder, Int, Int) -> Void
  ) {
    let blocksM = (rows + tileRows - 1) / tileRows
    let blocksN = (columns + tileColumns - 1) / tileColumns
    let heights =
      blocksM == 1 || rows % tileRows == 0
      ? [rows - (blocksM - 1) * tileRows] : [tileRows, rows - (blocksM - 1) * tileRows]
    let widths =
      blocksN == 1 || columns % tileColumns == 0
      ? [columns - (blocksN - 1) * tileColumns] : [tileColumns, columns - (blocksN - 1) * tileColumns]
    let lastRow = Int64((blocksM - 1) * tileRows)
    let lastCol = Int64((blocksN - 1) * tileColumns)
    let byRows = raster == .rows
    let along = Int64(byRows ? blocksN : blocksM)
    p.emit(.integer(byRows ? .div : .rem, dest: 2, a: .register(block), b: .constant(along)))
    p.emit(.integer(.mul, dest: 2, a: .register(2), b: .constant(Int64(tileRows))))
    p.emit(.integer(byRows ? .rem : .div, dest: 3, a: .register(block), b: .constant(along)))
    p.emit(.integer(.mul, dest: 3, a: .register(3), b: .constant(Int64(tileColumns))))
    let variants = heights.flatMap { h in widths.map { w in (h, w) } }
    let labels = variants.map { p.label("\(tag)block_\($0.0)x\($0.1)") }
    func variant(_ h: Int, _ w: Int) -> Label { labels[variants.firstIndex { $0 == (h, w) } ?? 0] }
    if heights.count == 2 {
      let lastRowLabel = p.label("\(tag)last_row")
      p.emit(.branch(.equal, a: .register(2), b: .constant(lastRow), target: lastRowLabel))
      if widths.count == 2 {
        p.emit(
          .branch(.equal, a: .register(3), b: .constant(lastCol), target: variant(heights[0], widths[1])))
      }
      p.emit(.jump(variant(heights[0], widths[0])))
      p.place(lastRowLabel)
      if widths.count == 2 {
        p.emit(
          .branch(.equal, a: .register(3), b: .constant(lastCol), target: variant(heights[1], widths[1])))
      }
      p.emit(.jump(variant(heights[1], widths[0])))
    } else if widths.count == 2 {
      p.emit(.branch(.equal, a: .register(3), b: .constant(lastCol), target: variant(heights[0], widths[1])))
      p.emit(.jump(variant(heights[0], widths[0])))
    }
    for (i, (h, w)) in variants.enumerated() {
      p.place(labels[i])
      body(&p, h, w)
      after(&p)
    }
  }

  /// One block of h×w outputs at rows r2, columns r3: the K loop (all slices, or with split-K
  /// slices r12 ..< r13) and the epilogue (cast and store to C, or the f32 partial to
  /// W[r5, ...]).
  func emitBlock(_ p: inout ProgramBuilder, h: Int, w: Int, tkx: Int, split: Bool, buffers t: Buffers) {
    let slices = (k + tkx - 1) / tkx
    let lastK = k - (slices - 1) * tkx
    let s = Int64(stages)
    let mcast = Int64(cluster)
    let tag = "\(h)x\(w)"
    let (first, end): (IntValue, IntValue) =
      split ? (.register(12), .register(13)) : (0, .constant(Int64(slices)))
    /// Loads slice `slice` (register or constant) of width `kw` into `slot`.
    func load(slot: SliceStart, k0: SliceStart, kw: Int) {
      p.emit(
        .dma(
          Transfer(
            .load, destination: t.abuf[.index(slot), .range(0, h), .range(0, kw)],
            source: t.a[.range(.register(2), h), .range(k0, kw)], multicast: raster == .rows ? mcast : 1)))
      p.emit(
        .dma(
          Transfer(
            .load, destination: t.bbuf[.index(slot), .range(0, kw), .range(0, w)],
            source: t.b[.range(k0, kw), .range(.register(3), w)], multicast: raster == .columns ? mcast : 1)))
    }
    let lastK0 = Int64((slices - 1) * tkx)
    /// Loads slice r8 into slot r10 (a full slice, or the last, possibly narrower one), then
    /// advances both.
    func loadNext(_ suffix: String) {
      let (fullLoad, lastLoad, loaded) = (
        p.label("load\(suffix)_\(tag)"), p.label("load_last\(suffix)_\(tag)"),
        p.label("loaded\(suffix)_\(tag)")
      )
      p.emit(.branch(.less, a: .register(8), b: .constant(Int64(slices - 1)), target: fullLoad))
      p.emit(.branch(.equal, a: .register(8), b: .constant(Int64(slices - 1)), target: lastLoad))
      p.emit(.jump(loaded))
      p.place(fullLoad)
      p.emit(.integer(.mul, dest: 11, a: .register(8), b: .constant(Int64(tkx))))
      load(slot: .register(10), k0: .register(11), kw: tkx)
      p.emit(.jump(loaded))
      p.place(lastLoad)
      load(slot: .register(10), k0: SliceStart(integerLiteral: lastK0), kw: lastK)
      p.place(loaded)
      p.emit(.integer(.add, dest: 8, a: .register(8), b: 1))
      p.emit(.integer(.add, dest: 10, a: .register(10), b: 1))
      p.emit(.integer(.rem, dest: 10, a: .register(10), b: .constant(s)))
    }
    // r4 slice, r6 its slot; r8 next slice to load, r10 its slot, r11 its first k.
    if split {
      // Prologue: the first stages − 1 slices of this split (fewer if it has fewer).
      p.emit(.move(dest: 4, source: first))
      p.emit(.move(dest: 6, source: 0))
      p.emit(.move(dest: 8, source: first))
      p.emit(.move(dest: 10, source: 0))
      p.emit(.integer(.add, dest: 9, a: first, b: .constant(s - 1)))
      p.emit(.integer(.min, dest: 9, a: .register(9), b: end))
      let (prologue, prologueDone) = (p.label("prologue_\(tag)"), p.label("prologue_done_\(tag)"))
      p.place(prologue)
      p.emit(.branch(.greaterOrEqual, a: .register(8), b: .register(9), target: prologueDone))
      loadNext("_prologue")
      p.emit(.jump(prologue))
      p.place(prologueDone)
    } else {
      // Prologue: the first stages − 1 slices.
      for slice in 0..<min(stages - 1, slices) {
        let kw = slice == slices - 1 ? lastK : tkx
        load(
          slot: SliceStart(integerLiteral: Int64(slice % stages)),
          k0: SliceStart(integerLiteral: Int64(slice * tkx)), kw: kw)
      }
      let prologue = Int64(min(stages - 1, slices))
      p.emit(.move(dest: 4, source: 0))
      p.emit(.move(dest: 6, source: 0))
      p.emit(.move(dest: 8, source: .constant(prologue)))
      p.emit(.move(dest: 10, source: .constant(prologue % s)))
    }
    let loop = p.label("k_\(tag)")
    p.place(loop)
    // Load slice r8 if there is one more (in this split).
    if split {
      let noLoad = p.label("no_load_\(tag)")
      p.emit(.branch(.greaterOrEqual, a: .register(8), b: end, target: noLoad))
      loadNext("")
      p.place(noLoad)
    } else {
      loadNext("")
    }
    // Slice r4 has arrived once at most the transfers of the later slices are in flight:
    // 2 · min(stages − 1, end − 1 − r4).
    if split {
      p.emit(.integer(.sub, dest: 9, a: end, b: .register(4)))
      p.emit(.integer(.sub, dest: 9, a: .register(9), b: 1))
    } else {
      p.emit(.integer(.sub, dest: 9, a: .constant(Int64(slices - 1)), b: .register(4)))
    }
    p.emit(.integer(.min, dest: 9, a: .register(9), b: .constant(s - 1)))
    p.emit(.integer(.mul, dest: 9, a: .register(9), b: 2))
    p.emit(.dmaWait(keep: .register(9)))
    // The mma of slice r4: the split's first clears the accumulator, K's last may be narrower.
    let (firstLabel, last, next) = (p.label("first_\(tag)"), p.label("last_\(tag)"), p.label("next_\(tag)"))
    func mma(kw: Int, clear: Bool) -> Operation {
      .mma(
        MatrixMultiply(
          d: t.acc[.range(0, h), .range(0, w)], a: t.abuf[.index(.register(6)), .range(0, h), .range(0, kw)],
          b: t.bbuf[.index(.register(6)), .range(0, kw), .range(0, w)], accumulator: accumulator, clear: clear
        ))
    }
    if slices == 1 {
      p.emit(mma(kw: lastK, clear: true))
    } else {
      let lastFull = split ? p.label("last_full_\(tag)") : firstLabel
      p.emit(.branch(.equal, a: .register(4), b: first, target: firstLabel))
      p.emit(.branch(.equal, a: .register(4), b: .constant(Int64(slices - 1)), target: last))
      p.emit(mma(kw: tkx, clear: false))
      p.emit(.jump(next))
      p.place(firstLabel)
      if split {
        // A split's first slice may also be K's last.
        p.emit(.branch(.equal, a: .register(4), b: .constant(Int64(slices - 1)), target: lastFull))
      }
      p.emit(mma(kw: tkx, clear: true))
      p.emit(.jump(next))
      if split {
        p.place(lastFull)
        p.emit(mma(kw: lastK, clear: true))
        p.emit(.jump(next))
      }
      p.place(last)
      p.emit(mma(kw: lastK, clear: false))
    }
    p.place(next)
    p.emit(.integer(.add, dest: 4, a: .register(4), b: 1))
    p.emit(.integer(.add, dest: 6, a: .register(6), b: 1))
    p.emit(.integer(.rem, dest: 6, a: .register(6), b: .constant(s)))
    p.emit(.branch(.less, a: .register(4), b: end, target: loop))
    // Epilogue: cast (unless stored as it is), then store the block or the partial.
    let block =
      split
      ? t.out[.index(.register(5)), .range(.register(2), h), .range(.register(3), w)]
      : t.out[.range(.register(2), h), .range(.register(3), w)]
    if t.obuf != t.acc {
      p.emit(
        .vector(
          VectorOperation(
            .cast(t.acc[.range(0, h), .range(0, w)]), destination: t.obuf[.range(0, h), .range(0, w)])))
    }
    p.emit(.dma(Transfer(.store, destination: block, source: t.obuf[.range(0, h), .range(0, w)])))
  }

  /// Split-K's second phase: after a barrier, strips of `stripRows` rows × `tnx` columns of C,
  /// each the sum of the splitK partials in W, cast to C's type.
  func emitReduction(_ p: inout ProgramBuilder, workspace: TensorHandle, c: TensorHandle, tnx: Int) {
    let rr = stripRows
    let red = p.tensor("red", .format(.f32), [2, rr, tnx], .sram)
    let cbuf = outType == .format(.f32) ? red : p.tensor("cbuf", outType, [rr, tnx], .sram)
    p.emit(.dmaWait(keep: 0))
    p.emit(.barrier)
    let strips = ((m + rr - 1) / rr) * ((n + tnx - 1) / tnx)
    let (stripLoop, done) = (p.label("strip"), p.label("strips_done"))
    p.emit(.move(dest: 1, source: .special(.tid)))
    p.place(stripLoop)
    p.emit(.branch(.greaterOrEqual, a: .register(1), b: .constant(Int64(strips)), target: done))
    dispatch(
      &p, block: 1, rows: m, columns: n, tileRows: rr, tileColumns: tnx, tag: "strip_",
      after: { p in
        p.emit(.integer(.add, dest: 1, a: .register(1), b: .special(.ntiles)))
        p.emit(.jump(stripLoop))
      }
    ) { p, h, w in
      func partial(_ j: Int) -> TensorView {
        workspace[
          .index(SliceStart(integerLiteral: Int64(j))), .range(.register(2), h), .range(.register(3), w)]
      }
      let sum = red[.index(0), .range(0, h), .range(0, w)]
      let term = red[.index(1), .range(0, h), .range(0, w)]
      // The sum waits for its store of the last strip to finish before it is loaded again.
      p.emit(.dma(Transfer(.load, destination: sum, source: partial(0))))
      for j in 1..<splitK {
        p.emit(.dma(Transfer(.load, destination: term, source: partial(j))))
        p.emit(.dmaWait(keep: 0))
        p.emit(.vector(VectorOperation(.binary(.add, a: sum, b: .view(term)), destination: sum)))
      }
      let strip = c[.range(.register(2), h), .range(.register(3), w)]
      if cbuf == red {
        p.emit(.dma(Transfer(.store, destination: strip, source: sum)))
      } else {
        let out = cbuf[.range(0, h), .range(0, w)]
        p.emit(.vector(VectorOperation(.cast(sum), destination: out)))
        p.emit(.dma(Transfer(.store, destination: strip, source: out)))
      }
    }
    p.place(done)
  }
}
