import FP8Formats
import FP8ISA
import Testing

@testable import FP8Sim

/// Block-scaled tensor types in programs: declarations, bytes as block records, casts and
/// initial values quantised block by block, `mma` on their values, and the diagnostics.
@Suite struct BlockTypeTests {
  /// An MXFP4 [64, 64] tensor is 128 records of 16 bytes of elements and 1 of scale: 2,176 B
  /// (64-byte lines on `teach`: 34 of them). Loading all of it, then a 32×32 corner.
  @Test func transfersMoveWholeBlockRecords() throws {
    let r = try simulate(
      """
      .tensor A mxfp4 [64, 64] dram
      .tensor a mxfp4 [64, 64] sram
        dma.load a, A
        dma.wait
        dma.load a[0:+32, 32:+32], A[0:+32, 32:+32]
        dma.wait
      """,
      options: timingOnly())
    #expect(r.traffic.dramToL2 == 2176)
    #expect(r.traffic.l2ToSram == 2176 + 32 * 17)
    #expect(DType.named("mxfp4")!.bytes(shape: [64, 64]) == 2176)
    #expect(DType.named("mxfp6_e3m2")!.bytes(shape: [2, 64]) == 4 * (24 + 1))
    #expect(DType.named("e4m3fn_f32_1x128")!.bytes(shape: [3, 256]) == 6 * (128 + 4))
  }

  @Test func aTransferThatSplitsABlockFaults() throws {
    let f = fault(
      """
      .tensor A mxfp4 [64, 64] dram
      .tensor a mxfp4 [64, 64] sram
        dma.load a[0:+32, 16:+32], A[0:+32, 16:+32]
      """)
    #expect(f?.description.contains("'A' is mxfp4: a transfer must move whole blocks of it") == true)
  }

  /// `cast` into MXFP4 and fine-grained FP8 gives BlockScaling's values of the inputs; casting
  /// back reads those values; the cast events are the quantisation's.
  @Test func castsQuantiseBlockByBlock() throws {
    let r = try simulate(
      """
      .tensor X f32 [2, 64] sram randn(3, 0.0, 1.0)
      .tensor Q mxfp4 [2, 64] sram
      .tensor E e4m3fn_f32_1x32 [2, 64] sram
      .tensor XD f32 [2, 64] dram
      .tensor QD f32 [2, 64] dram
      .tensor ED f32 [2, 64] dram
      .output XD
      .output QD
      .output ED
        cast Q, X
        cast E, X
        dma.store XD, X
        cast X, Q
        dma.store QD, X
        cast X, E
        dma.store ED, X
        dma.wait
      """)
    let x = try #require(output(r, "XD")).values.map(Double.init)
    let q = BlockScaling.mxfp4.quantize(x, rows: 2, cols: 64)
    #expect(try #require(output(r, "QD")).values == q.values().map { Float($0) })
    let fine = BlockScaling.named("e4m3fn_f32_1x32")!.quantize(x, rows: 2, cols: 64)
    #expect(try #require(output(r, "ED")).values == fine.values().map { Float($0) })
    #expect(r.casts.first { $0.name == "Q" }?.counts == q.casts)
    // Each of the two casts into block types reads its 128 values twice (amax, then convert),
    // the two casts back once: 2·128·2 + 2·128 element operations.
    #expect(r.compute.vectorElementOps == 2 * 128 * 2 + 2 * 128)
    #expect(q.casts.rounded > 0 && q.casts.underflow > 0)
  }

  /// Initial values of a block-scaled tensor are its shadow values quantised per block.
  @Test func initialValuesAreQuantised() throws {
    let r = try simulate(
      """
      .tensor Q mxfp8_e4m3 [4, 32] dram randn(7, 0.0, 3.0)
      .output Q
      """)
    let o = try #require(output(r, "Q"))
    let q = BlockScaling.mxfp8E4M3.quantize(o.reference.map(Double.init), rows: 4, cols: 32)
    #expect(o.values == q.values().map { Float($0) })
    #expect(o.values != o.reference)
  }

  /// An `mma` multiplies block-scaled operands as their values, accumulated as the accumulator
  /// defines; FP4 runs at the device's FP4 rate with K padded to 64, and a device without an
  /// FP4 path faults.
  @Test func mmaOnBlockScaledValues() throws {
    let text = """
      .tensor A mxfp4 [8, 32] sram randn(1, 0.0, 1.0)
      .tensor B mxfp4 [16, 32] sram randn(2, 0.0, 1.0)
      .tensor C f32 [8, 16] sram
      .tensor AD mxfp4 [8, 32] dram
      .tensor BD mxfp4 [16, 32] dram
      .tensor CD f32 [8, 16] dram
      .output AD
      .output BD
      .output CD
        mma C, A, B, tb=1
        dma.store AD, A
        dma.store BD, B
        dma.store CD, C
        dma.wait
      """
    let r = try simulate(text, device: .b200)
    let a = try #require(output(r, "AD")).values
    let bT = try #require(output(r, "BD")).values
    var b = [Float](repeating: 0, count: 32 * 16)
    for n in 0..<16 { for k in 0..<32 { b[k * 16 + n] = bT[n * 32 + k] } }
    var c = [Float](repeating: 0, count: 8 * 16)
    MMANumerics.reference(a: a, b: b, c: &c, m: 8, n: 16, k: 32, accumulator: .f32)
    #expect(try #require(output(r, "CD")).values == c)
    // Cost: b200 runs FP4 at 16,384 MACs per cycle; M pads to 128, N to 16, and K = 32 to 64
    // (FP4 is packed two to a byte: 64 elements per 32-byte K step, `kind::mxf4`).
    let tensorBusy = r.units[.tensor]?.busy ?? 0
    #expect(tensorBusy == Int64(148) * Int64((128 * 16 * 64 + 16_383) / 16_384))
    let f = fault(text, device: .h100)
    #expect(f?.description.contains("h100 has no tensor path for fp4 inputs") == true)
  }

  @Test func diagnostics() {
    #expect(assemblyError(".tensor A mxfp4 [64, 60] dram").contains("mxfp4 scales blocks of 1×32 elements"))
    #expect(assemblyError(".tensor A e4m3fn_f32_128x128 [128, 64] dram").contains("128×128"))
    #expect(
      assemblyError(".tensor A mxfp4 [64, 64] acc").contains("block-scaled tensors are not accumulators"))
    let base = ".tensor X f32 [4, 64] sram\n.tensor Q mxfp4 [4, 64] sram\n"
    #expect(assemblyError(base + "  vadd Q, X, X").contains("only 'cast' writes a block-scaled tensor"))
    #expect(
      assemblyError(base + "  cast Q, X, bias=2").contains("bias, rounding, overflow and seed do not apply"))
    #expect(assemblyError(base + "  cast Q, X") == "")
    let nv = ".tensor X f32 [4, 64] sram\n.tensor Q nvfp4 [4, 64] sram\n.tensor E mxfp8_e4m3 [4, 64] sram\n"
    #expect(assemblyError(nv + "  cast Q, X, tamax=f1") == "")
    #expect(assemblyError(nv + "  cast Q, X, tamax=2.5") == "")
    #expect(
      assemblyError(nv + "  cast E, X, tamax=f1").contains(
        "it sets an NVFP4 tensor's scale; 'E' is mxfp8_e4m3"))
    #expect(assemblyError(nv + "  cast X, X, tamax=f1").contains("'X' is f32"))
    #expect(
      assemblyError(nv + "  cast Q, X, tamax=-1").contains("an amax is finite and not negative; got -1"))
    #expect(assemblyError(nv + "  cast Q, X, tscale=f2") == "")
    #expect(assemblyError(nv + "  cast Q, X, amax=f2, tscale=f2").contains("f2 is also the amax= register"))
    #expect(
      assemblyError(nv + "  cast E, X, tscale=f2").contains(
        "it is an NVFP4 tensor's scale; 'E' is mxfp8_e4m3"))
    #expect(assemblyError(".tensor A nvfp4 [4, 60] dram").contains("nvfp4 scales blocks of 1×16 elements"))
    let mx = ".tensor A mxfp8_e4m3 [32, 32] sram\n.tensor C f32 [32, 32] sram\n"
    #expect(
      assemblyError(mx + "  mma C, A, A, acc=fp22").contains(
        "'fp22' models Hopper's FP8 path, which has no block scales"))
    #expect(assemblyError(mx + "  mma C, A, A, acc=f32") == "")
    // Sub-FP8 inputs must hold the same elements; their blocks may run along either axis.
    let fp4 =
      ".tensor A mxfp4 [32, 32] sram\n.tensor B mxfp4_t [32, 32] sram\n.tensor N nvfp4 [32, 32] sram\n"
    let c = ".tensor C f32 [32, 32] sram\n"
    #expect(assemblyError(fp4 + c + "  mma C, A, B") == "")
    #expect(assemblyError(fp4 + c + "  mma C, A, N").contains("got mxfp4 and nvfp4"))
  }

  /// NVFP4 as a tensor type: records of 16 FP4 elements (8 bytes) and an E4M3 scale (1 byte).
  /// The f32 tensor scale comes from `tamax` (here the whole tensor's amax while each cast sees
  /// half of it), or from the cast's own input without it; the tensor holds its values divided
  /// by it (element × block scale) and `tscale` hands it to the program, which multiplies it
  /// back; a negative `tamax` faults.
  @Test func nvfp4TakesItsTensorScaleFromTamax() throws {
    #expect(DType.named("nvfp4")!.bytes(shape: [64, 64]) == 256 * 9)
    let r = try simulate(
      """
      .tensor X f32 [4, 64] sram randn(5, 0.0, 1.0)
      .tensor Q nvfp4 [4, 64] sram
      .tensor P nvfp4 [4, 64] sram
      .tensor XD f32 [4, 64] dram
      .tensor QD f32 [4, 64] dram
      .tensor UD f32 [4, 64] dram
      .tensor PD f32 [4, 64] dram
      .output XD
      .output QD
      .output UD
      .output PD
        amax f1, X
        cast Q[0:+2, :], X[0:+2, :], tamax=f1, tscale=f5
        cast Q[2:+2, :], X[2:+2, :], tamax=f1
        cast P[0:+2, :], X[0:+2, :]
        cast P[2:+2, :], X[2:+2, :]
        dma.store XD, X
        cast X, Q
        dma.store QD, X
        vmul X, Q, f5
        dma.store UD, X
        cast X, P
        dma.store PD, X
        dma.wait
      """)
    let x = try #require(output(r, "XD")).values.map(Double.init)
    let whole = BlockScaling.nvfp4.quantize(x, rows: 4, cols: 64)
    #expect(
      try #require(output(r, "QD")).values == whole.values(includingTensorScale: false).map { Float($0) })
    // Times the tensor scale: the values the codes stand for.
    #expect(try #require(output(r, "UD")).values == whole.values().map { Float($0) })
    #expect(whole.tensorScale != 1)
    let halves = [0, 2].flatMap { r0 in
      BlockScaling.nvfp4.quantize(Array(x[(r0 * 64)..<((r0 + 2) * 64)]), rows: 2, cols: 64)
        .values(includingTensorScale: false)
    }
    let p = try #require(output(r, "PD")).values
    #expect(p == halves.map { Float($0) })
    #expect(p != whole.values(includingTensorScale: false).map { Float($0) })  // the halves' scales differ
    let f = fault(
      """
      .tensor X f32 [4, 64] sram
      .tensor Q nvfp4 [4, 64] sram
        fmov f2, -1.0
        cast Q, X, tamax=f2
      """)
    #expect(f?.description.contains("tamax is -1.0: an amax is not negative") == true)
  }
}

/// Found by hostile-input testing: the SRAM side of a transfer must keep records whole too; a
/// `_t` tensor with one column is a column of whole blocks; timing-only runs fault as numeric
/// runs do; a view that splits records counts every record it touches.
@Suite struct RecordEdgeTests {
  @Test(arguments: [false, true])
  func sramSideOfATransferKeepsRecordsWhole(timingOnly: Bool) {
    let options = timingOnly ? FP8SimTests.timingOnly() : RunOptions()
    let nv = fault(
      """
      .tensor X nvfp4 [1, 32] dram
      .tensor x nvfp4 [1, 32] sram
        dma.load x[:, 8:+16], X[:, 0:+16]
      """, device: .b200, options: options)
    #expect(nv?.description.contains("'x' is nvfp4: a transfer must move whole blocks of it") == true)
    let fp4 = fault(
      """
      .tensor X e2m1fn [1, 32] dram
      .tensor x e2m1fn [1, 32] sram
        dma.store X[:, 0:+2], x[:, 1:+2]
      """, options: options)
    #expect(
      fp4?.description.contains(
        "'x' is e2m1fn: a transfer must move whole groups of 2 elements (whole bytes)")
        == true)
  }

  @Test func aTransposedTypeWithOneColumnIsWholeBlocks() throws {
    let r = try simulate(
      """
      .tensor x f32 [16, 1] sram randn(1, 0.0, 1.0)
      .tensor q nvfp4_t [16, 1] sram
      .tensor Q nvfp4_t [16, 1] dram
      .tensor m mxfp8_e4m3_t [32, 1] sram
      .tensor M mxfp8_e4m3_t [32, 1] dram
      .output Q
        cast q, x
        dma.store Q, q
        dma.load m, M
        dma.wait
      """, device: teach(tiles: 1))
    #expect(r.traffic.sramToL2 == 9 && r.traffic.l2ToSram == 33)
  }

  /// A cast into one column of a `_t` tensor quantises that column's blocks (down the rows),
  /// not each element alone.
  @Test func aCastIntoAColumnOfATransposedTypeQuantisesItsBlocks() throws {
    let r = try simulate(
      """
      .tensor x f32 [32, 4] sram randn(3, 0.0, 1.0)
      .tensor q mxfp8_e4m3_t [32, 4] sram
      .tensor y f32 [32, 4] sram
      .tensor XD f32 [32, 4] dram
      .tensor QD f32 [32, 4] dram
      .output XD
      .output QD
        cast q, x
        cast q[:, 2], x[:, 2]
        cast y, q
        dma.store XD, x
        dma.store QD, y
        dma.wait
      """)
    let x = try #require(output(r, "XD")).values.map(Double.init)
    let want = BlockScaling.named("mxfp8_e4m3_t")!.quantize(x, rows: 32, cols: 4).values().map { Float($0) }
    #expect(try #require(output(r, "QD")).values == want)
  }

  @Test func timingOnlyRunsFaultLikeNumericOnes() {
    for options in [RunOptions(), timingOnly()] {
      let cast = fault(
        """
        .tensor x f32 [1, 32] sram
        .tensor q nvfp4 [1, 32] sram
          cast q[:, 8:+16], x[:, 0:+16]
        """, device: .b200, options: options)
      #expect(cast?.description.contains("'q' is nvfp4: a cast must write whole blocks of it") == true)
      let mma = fault(
        """
        .tensor A mxfp8_e4m3 [32, 64] sram
        .tensor C f32 [32, 16] sram
          mma C, A[:, 0:+32], A[0:+16, 16:+32], tb=1, acc=f32rz
        """, device: .b200, options: options)
      #expect(mma?.description.contains("acc=f32rz: B ('A') must cover whole blocks of K") == true)
    }
  }

  /// SRAM bytes count every record a view touches: 2 elements of FP4 across a byte boundary
  /// are 2 bytes; 16 NVFP4 values across a block boundary are two records of 9 bytes.
  @Test func viewsThatSplitRecordsCountEveryRecordTheyTouch() throws {
    func sramBytes(_ body: String) throws -> Int {
      try simulate(body, device: teach(tiles: 1), options: timingOnly()).compute.sramBytes
    }
    let fp4 = ".tensor q e2m1fn [4, 64] sram\n"
    #expect(try sramBytes(fp4 + "  vfill q[0, 1:+2], 1.0") == 2)
    #expect(try sramBytes(fp4 + "  vfill q[0, 0:+2], 1.0") == 1)
    #expect(try sramBytes(fp4 + "  vfill q[0:+2, 3], 1.0") == 2)
    #expect(try sramBytes(fp4 + "  vfill q[:, 1:+2], 1.0") == 8)
    let nv = ".tensor q nvfp4 [2, 64] sram\n"
    #expect(try sramBytes(nv + "  amax f1, q[0, 8:+16]") == 18)
    #expect(try sramBytes(nv + "  amax f1, q[0:+2, 0]") == 18)
    #expect(try sramBytes(nv + "  amax f1, q[0, 16:+16]") == 9)
  }
}

/// FP6 and FP4 formats as plain tensor types: packed along the last dimension (FP4 two
/// elements to a byte, FP6 four to three bytes), transfers of whole bytes, casts with a scaling
/// bias like FP8's, and `mma` on Blackwell's `kind::f8f6f4` path (the FP6 rate).
@Suite struct PackedTypeTests {
  @Test func bytesAndTransfers() throws {
    #expect(DType.named("e2m1fn")!.bytes(shape: [64, 64]) == 2048)
    #expect(DType.named("e3m2fn")!.bytes(shape: [3, 8]) == 18)
    #expect(DType.named("e8m0fnu") == nil)  // a scale format, not an element type
    let r = try simulate(
      """
      .tensor A e2m1fn [64, 64] dram
      .tensor a e2m1fn [64, 64] sram
      .tensor B e2m3fn [8, 64] dram
      .tensor b e2m3fn [8, 64] sram
        dma.load a, A
        dma.load b[0:+4, 4:+8], B[0:+4, 4:+8]
        dma.wait
      """,
      options: timingOnly())
    // A: 2,048 bytes; B's corner: 4 rows of 8 FP6 elements, 6 bytes each.
    #expect(r.traffic.l2ToSram == 2048 + 4 * 6)
    let f = fault(
      """
      .tensor A e2m1fn [4, 64] dram
      .tensor a e2m1fn [4, 64] sram
        dma.load a[:, 1:+2], A[:, 1:+2]
      """)
    #expect(
      f?.description.contains(
        "'A' is e2m1fn: a transfer must move whole groups of 2 elements (whole bytes) of it")
        == true)
  }

  @Test func diagnostics() {
    #expect(
      assemblyError(".tensor A e2m1fn [4, 63] dram").contains(
        "e2m1fn packs 2 elements into 1 byte: the last dimension must be a multiple of 2 (63 is not)"))
    #expect(
      assemblyError(".tensor A e3m2fn [4, 6] dram").contains(
        "e3m2fn packs 4 elements into 3 bytes: the last dimension must be a multiple of 4 (6 is not)"))
    #expect(assemblyError(".tensor A e8m0fnu [4, 4] dram").contains("unknown element type 'e8m0fnu'"))
    let q = ".tensor Q e2m1fn [16, 32] sram\n.tensor C f32 [16, 16] sram\n"
    #expect(
      assemblyError(q + "  mma C, Q, Q, tb=1, acc=fp22").contains("no FP6 or FP4 inputs; use f32 or f32rz"))
    #expect(assemblyError(q + "  mma C, Q, Q, tb=1, acc=f32rz") == "")
  }

  /// A per-tensor FP4 cast with a scaling bias: each value is `RN_e2m1(x · 2^b)` (scaled, as
  /// every cast with a bias stores it), saturating at ±6; an `mma` of two FP4 tensors runs at b200's FP6 rate (8,192 MACs per
  /// cycle, K padded to 32 as for bytes), and h100 has no such path.
  @Test func castWithABiasAndMultiply() throws {
    let text = """
      .tensor X f32 [16, 32] sram randn(4, 0.0, 1.0)
      .tensor Q e2m1fn [16, 32] sram
      .tensor C f32 [16, 16] sram
      .tensor XD f32 [16, 32] dram
      .tensor QD e2m1fn [16, 32] dram
      .tensor CD f32 [16, 16] dram
      .output XD
      .output QD
      .output CD
        cast Q, X, bias=1
        mma C, Q, Q, tb=1
        dma.store XD, X
        dma.store QD, Q
        dma.store CD, C
        dma.wait
      """
    let r = try simulate(text, device: .b200)
    let x = try #require(output(r, "XD")).values
    let q = try #require(output(r, "QD")).values
    let want = x.map { Float(FloatFormat.e2m1fn.round(Double($0) * 2)) }
    #expect(q == want)
    #expect(q.contains(6) || q.contains(-6))  // some values saturate
    var qt = [Float](repeating: 0, count: 32 * 16)
    for n in 0..<16 { for k in 0..<32 { qt[k * 16 + n] = q[n * 32 + k] } }
    var c = [Float](repeating: 0, count: 16 * 16)
    MMANumerics.reference(a: q, b: qt, c: &c, m: 16, n: 16, k: 32, accumulator: .f32)
    #expect(try #require(output(r, "CD")).values == c)
    let tensorBusy = r.units[.tensor]?.busy ?? 0
    #expect(tensorBusy == Int64(148) * Int64((128 * 16 * 32 + 8191) / 8192))
    let f = fault(text, device: .h100)
    #expect(f?.description.contains("h100 has no tensor path for fp6 inputs") == true)
  }
}
